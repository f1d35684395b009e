#include "transparency/dpia.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "audit/audit_log.h"
#include "audit/merkle.h"
#include "auth/role.h"
#include "custos/status.h"
#include "policy/policy_auditor.h"
#include "policy/policy_engine.h"
#include "transparency/markdown_html.h"

namespace custos::transparency {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 24 * kHourMs;

// The policy engine needs an auditor; this one refuses every change, so that generating a
// DPIA can never alter the policy state it describes.
class ReadOnlyAuditor final : public policy::PolicyAuditor {
 public:
  absl::Status Record(const policy::PolicyChange&) override {
    return absl::FailedPreconditionError(
        "the DPIA generator only reads the policy state; it changes nothing");
  }
};

// Debian's Abseil has its own string_view; this bridges std::string_view for absl::StrCat.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
template <typename T>
const T& Sv(const T& value) {
  return value;
}

absl::Status Annotate(const absl::Status& status, std::string_view what) {
  return absl::Status(status.code(), absl::StrCat(Sv(what), ": ", status.message()));
}

// The policy engine migrates an older schema when it opens a database; a DPIA must not, so an
// older file is refused before the engine sees it.
absl::Status CheckPolicySchema(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close_v2);
  int64_t version = -1;
  if (rc == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      version = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  if (version < 0) {
    return absl::UnavailableError(absl::StrCat("cannot read the policy database ", path, ": ",
                                               db ? sqlite3_errmsg(db.get()) : "out of memory",
                                               "; check the file and its permissions"));
  }
  const int64_t latest = policy::PolicyEngine::Migrations().back().version;
  if (version < latest) {
    return absl::FailedPreconditionError(
        absl::StrCat("the policy database ", path, " has schema version ", version,
                     ", older than this build's ", latest,
                     "; the DPIA does not migrate it. Start the server of this version once (it "
                     "migrates the database), then generate the DPIA again"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PolicyState> ReadPolicy(const std::string& path, const config::Config& config,
                                       const Clock* clock) {
  CUSTOS_RETURN_IF_ERROR(CheckPolicySchema(path));
  ReadOnlyAuditor auditor;
  policy::PolicyEngineOptions options;
  options.path = path;
  options.cameras = policy::CamerasFromConfig(config);
  absl::StatusOr<std::unique_ptr<policy::PolicyEngine>> engine =
      policy::PolicyEngine::Create(options, {clock, &auditor, nullptr});
  if (!engine.ok()) {
    return Annotate(engine.status(), absl::StrCat("cannot read the policy database ", path));
  }
  PolicyState state;
  state.path = path;
  state.legal_bases = (*engine)->ListLegalBases();
  state.face_authorisations = (*engine)->ListFaceAuthorisations();
  state.protected_assemblies = (*engine)->ListProtectedAssemblies();
  state.approvals = (*engine)->ListApprovals();
  state.evidence_holds = (*engine)->ListEvidenceHolds();
  state.retention_overrides = (*engine)->RetentionOverrides();
  const int64_t now_ms = clock->WallMs();
  for (const config::CameraConfig& camera : config.cameras) {
    state.face_now[camera.id] =
        (*engine)->FaceRecognitionAllowed({camera.id, now_ms, std::nullopt});
  }
  return state;
}

absl::StatusOr<std::optional<AuditState>> ReadAudit(const std::string& data_dir) {
  absl::StatusOr<std::unique_ptr<audit::AuditLogReader>> reader =
      audit::AuditLogReader::Open(data_dir);
  if (!reader.ok()) {
    if (reader.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
    return Annotate(reader.status(), absl::StrCat("cannot read the audit log in ", data_dir,
                                                  "/audit (check it with `custos audit verify`)"));
  }
  AuditState state;
  state.dir = data_dir + "/audit";
  state.origin = (*reader)->key().name;
  state.verifier_key = audit::FormatVerifierKey((*reader)->key());
  struct stat st;
  if (::stat((state.dir + "/entries.log").c_str(), &st) == 0) {
    state.entries_log_bytes = static_cast<uint64_t>(st.st_size);
  }
  absl::StatusOr<audit::SignedCheckpoint> checkpoint = (*reader)->LatestCheckpoint();
  if (checkpoint.ok()) {
    state.has_checkpoint = true;
    state.checkpoint_size = checkpoint->checkpoint.size;
    state.checkpoint_root_hex = audit::HashToHex(checkpoint->checkpoint.root);
    state.checkpoint_note = checkpoint->note;
  } else if (checkpoint.status().code() != absl::StatusCode::kNotFound) {
    return Annotate(checkpoint.status(),
                    absl::StrCat("the latest audit checkpoint in ", state.dir, " is not valid"));
  }
  return state;
}

// ---- Formatting ----

std::string FormatTime(int64_t ms) {
  const auto t = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  return absl::StrFormat("%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min);
}

std::string FormatNumber(double v) {
  if (std::abs(v - std::round(v)) < 1e-9) return absl::StrCat(static_cast<int64_t>(std::round(v)));
  return absl::StrFormat("%.2f", v);
}

std::string FormatHours(double hours) {
  if (hours >= 48 && std::abs(std::fmod(hours, 24.0)) < 1e-9) {
    return absl::StrCat(FormatNumber(hours), " h (", FormatNumber(hours / 24), " days)");
  }
  return absl::StrCat(FormatNumber(hours), " h");
}

std::string FormatDays(double days) {
  if (days < 1) return absl::StrCat(FormatNumber(days * 24), " h");
  return absl::StrCat(FormatNumber(days), days == 1 ? " day" : " days");
}

std::string FormatAgeMs(int64_t ms) {
  if (ms % kDayMs == 0) return FormatDays(static_cast<double>(ms / kDayMs));
  return FormatHours(static_cast<double>(ms) / static_cast<double>(kHourMs));
}

std::string Esc(std::string_view text) { return MarkdownEscape(text); }

// An identifier as inline code (ids never hold a backtick; other text falls back to escaping).
std::string Code(std::string_view text) {
  if (text.find('`') != std::string_view::npos || text.empty()) return Esc(text);
  return absl::StrCat("`", Sv(text), "`");
}

std::string Quoted(std::string_view text) { return absl::StrCat("'", Esc(text), "'"); }

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return absl::StrCat(n, " ", Sv(n == 1 ? one : many));
}

std::string Todo(std::string_view what) { return absl::StrCat("**TODO(DPO):** ", Sv(what)); }

// ---- Facts derived from the input ----

struct Retention {
  double video_hours = 0;
  std::string video_source;  // "configuration default", "camera setting", "policy override"
  double events_days = 0;
  double snapshots_days = 0;
};

Retention EffectiveRetention(const DpiaInput& input, const config::CameraConfig& camera) {
  const config::RetentionConfig& top = input.config.retention;
  Retention r;
  r.video_hours = camera.retention.video_hours.value_or(top.video_hours);
  r.video_source = camera.retention.video_hours ? "camera setting" : "configuration default";
  r.events_days = camera.retention.events_days.value_or(top.events_days);
  r.snapshots_days =
      camera.retention.snapshots_days.value_or(top.snapshots_days.value_or(r.events_days));
  if (input.policy) {
    auto it = input.policy->retention_overrides.find(camera.id);
    if (it != input.policy->retention_overrides.end()) {
      const retention::CameraRetention& o = it->second;
      if (o.video_max_age_ms) {
        r.video_hours = static_cast<double>(*o.video_max_age_ms) / static_cast<double>(kHourMs);
        r.video_source = "policy override";
      }
      if (o.events_max_age_ms) {
        r.events_days = static_cast<double>(*o.events_max_age_ms) / static_cast<double>(kDayMs);
      }
      if (o.snapshots_max_age_ms) {
        r.snapshots_days =
            static_cast<double>(*o.snapshots_max_age_ms) / static_cast<double>(kDayMs);
      }
    }
  }
  return r;
}

bool Records(const config::CameraConfig& camera) {
  return camera.enabled && camera.record.mode != config::RecordMode::kOff;
}

std::string RecordingText(const config::CameraConfig& camera) {
  if (!camera.enabled) return "none (camera disabled: configured but not started)";
  switch (camera.record.mode) {
    case config::RecordMode::kContinuous:
      return absl::StrCat("continuous (", FormatNumber(camera.record.segment_s),
                          " s segments, no re-encoding)");
    case config::RecordMode::kEvents:
      return absl::StrCat("only while objects are tracked, ",
                          FormatNumber(camera.record.pre_roll_s), " s before and ",
                          FormatNumber(camera.record.post_roll_s), " s after");
    case config::RecordMode::kOff:
      return "not recorded (analytics only)";
  }
  return "";
}

std::string LabelsText(const std::vector<std::string>& labels,
                       const std::vector<std::string>& all) {
  return absl::StrJoin(labels.empty() ? all : labels, ", ");
}

std::string AnalyticsText(const DpiaInput& input, const config::CameraConfig& camera) {
  if (!camera.enabled) return "none (camera disabled)";
  const std::vector<std::string>& labels = input.config.detector.labels;
  std::string text =
      absl::StrCat("detection and tracking of ", Esc(absl::StrJoin(labels, ", ")), " at ",
                   FormatNumber(camera.detect.fps), " fps on a ",
                   camera.detect.height > 0 ? absl::StrCat(camera.detect.height, " px high")
                                            : absl::StrCat(camera.detect.width, " px wide"),
                   " picture, where motion is seen");
  if (!camera.motion_masks.empty()) {
    absl::StrAppend(&text, "; ", Plural(camera.motion_masks.size(), "area", "areas"),
                    " masked from motion");
  }
  if (!camera.zones.empty()) {
    std::vector<std::string> zones;
    for (const config::ZoneConfig& zone : camera.zones) {
      std::string z = absl::StrCat(Code(zone.name), " (", Esc(LabelsText(zone.labels, labels)));
      if (zone.loiter_s > 0)
        absl::StrAppend(&z, "; loitering after ", FormatNumber(zone.loiter_s), " s");
      zones.push_back(z + ")");
    }
    absl::StrAppend(&text, "; zones: ", absl::StrJoin(zones, ", "));
  }
  if (!camera.lines.empty()) {
    std::vector<std::string> lines;
    for (const config::LineConfig& line : camera.lines) {
      lines.push_back(
          absl::StrCat(Code(line.name), " (", Esc(LabelsText(line.labels, labels)), ")"));
    }
    absl::StrAppend(&text, "; counting lines: ", absl::StrJoin(lines, ", "));
  }
  return text;
}

// The part of a policy decision's reason after "face recognition is on/off at camera 'x' on
// <time>: ".
std::string DecisionDetail(const policy::Decision& decision) {
  const size_t colon = decision.reason.find(" UTC: ");
  if (colon != std::string::npos) return decision.reason.substr(colon + 6);
  return decision.reason;
}

// No data directory was given, so the policy state is unknown (as opposed to a data directory
// without a policy database, where none is registered).
bool PolicyUnread(const DpiaInput& input) { return !input.policy && input.data_dir.empty(); }

constexpr char kPolicyUnread[] =
    "Not read: no data directory was given (`--data-dir`), so what the server's policy "
    "database holds is not described here.";

bool FaceOn(const DpiaInput& input, const config::CameraConfig& camera) {
  if (!camera.enabled || !input.policy) return false;
  auto it = input.policy->face_now.find(camera.id);
  return it != input.policy->face_now.end() && it->second.allowed;
}

std::string FaceText(const DpiaInput& input, const config::CameraConfig& camera) {
  if (PolicyUnread(input)) {
    return "**off** unless the server's policy database holds an authorisation: not read "
           "(give `--data-dir`)";
  }
  if (!input.policy) {
    return "**off**: no policy database, so no face-recognition authorisation (off by default)";
  }
  auto it = input.policy->face_now.find(camera.id);
  if (it == input.policy->face_now.end()) return "**off**";
  if (!camera.enabled) return "**off**: camera disabled";
  return absl::StrCat(it->second.allowed ? "**on**: " : "**off**: ",
                      Esc(DecisionDetail(it->second)));
}

bool BasisInForce(const policy::LegalBasis& basis, int64_t t) {
  return basis.revoked_ms == 0 && basis.valid_from_ms <= t && t < basis.expires_ms;
}

bool BasisCoversCamera(const policy::LegalBasis& basis, const std::string& camera) {
  return basis.scope.cameras.empty() ||
         std::find(basis.scope.cameras.begin(), basis.scope.cameras.end(), camera) !=
             basis.scope.cameras.end();
}

std::string ActsText(const std::vector<policy::Act>& acts) {
  if (acts.empty()) return "every sensitive act";
  std::vector<std::string> names;
  for (policy::Act act : acts) names.emplace_back(policy::ActName(act));
  return absl::StrJoin(names, ", ");
}

std::string CamerasText(const std::vector<std::string>& cameras, bool all) {
  if (all || cameras.empty()) return "every camera";
  std::vector<std::string> ids;
  for (const std::string& c : cameras) ids.push_back(Code(c));
  return absl::StrJoin(ids, ", ");
}

std::string BasisStatus(const policy::LegalBasis& basis, int64_t t) {
  if (basis.revoked_ms != 0) {
    return absl::StrCat("revoked ", FormatTime(basis.revoked_ms), " by ", Esc(basis.revoked_by));
  }
  if (t < basis.valid_from_ms)
    return absl::StrCat("not yet valid: from ", FormatTime(basis.valid_from_ms));
  if (t >= basis.expires_ms) return absl::StrCat("expired ", FormatTime(basis.expires_ms));
  return absl::StrCat("in force until ", FormatTime(basis.expires_ms));
}

std::string LegalBasesForCamera(const DpiaInput& input, const config::CameraConfig& camera) {
  if (PolicyUnread(input)) return Todo("policy state not read (give `--data-dir`); name it");
  if (!input.policy) return Todo("none recorded (no policy database); name it");
  std::vector<std::string> refs;
  for (const policy::LegalBasis& basis : input.policy->legal_bases) {
    if (!BasisInForce(basis, input.generated_ms) || !BasisCoversCamera(basis, camera.id)) continue;
    refs.push_back(absl::StrCat(Quoted(basis.reference), " (",
                                Sv(policy::LegalBasisTypeName(basis.type)), ", ",
                                Esc(basis.issuing_authority), "; ", ActsText(basis.scope.acts),
                                "; until ", FormatTime(basis.expires_ms), ")"));
  }
  if (refs.empty())
    return Todo("none in force covers this camera; name the basis for operating it");
  return absl::StrJoin(refs, "; ");
}

std::string FaceAuthorisationStatus(const policy::FaceAuthorisation& a, const PolicyState& state,
                                    int64_t t) {
  if (a.revoked_ms != 0) {
    return absl::StrCat("revoked ", FormatTime(a.revoked_ms), " by ", Esc(a.revoked_by));
  }
  if (t < a.start_ms) return absl::StrCat("scheduled: from ", FormatTime(a.start_ms));
  const int64_t end = std::min(a.end_ms, a.expires_ms);
  if (t >= end) return absl::StrCat("ended ", FormatTime(end));
  for (const policy::LegalBasis& basis : state.legal_bases) {
    if (basis.reference != a.legal_basis_ref) continue;
    if (!BasisInForce(basis, t)) {
      return absl::StrCat("not in force: its legal basis is ", BasisStatus(basis, t));
    }
  }
  return absl::StrCat("in force until ", FormatTime(end));
}

std::string AssemblyWhere(const policy::ProtectedAssembly& a) {
  std::vector<std::string> parts;
  for (const policy::AssemblyTarget& target : a.targets) {
    parts.push_back(
        target.zone.empty()
            ? absl::StrCat("camera ", Code(target.camera), " (whole view)")
            : absl::StrCat("camera ", Code(target.camera), " zone ", Code(target.zone)));
  }
  if (a.area) {
    if (a.area->circle_center) {
      parts.push_back(absl::StrFormat("area: %.0f m around %.5f, %.5f", a.area->circle_radius_m,
                                      a.area->circle_center->lat, a.area->circle_center->lon));
    } else {
      parts.push_back(absl::StrCat("area: polygon of ", a.area->polygon.size(), " corners"));
    }
  }
  return absl::StrJoin(parts, "; ");
}

std::string AssemblyStatus(const policy::ProtectedAssembly& a, int64_t t) {
  if (a.revoked_ms != 0) return absl::StrCat("revoked ", FormatTime(a.revoked_ms));
  if (t < a.start_ms) return "upcoming";
  if (t >= a.end_ms) return "ended";
  return "**in force now**";
}

std::string ApprovalStatusAt(const policy::ApprovalRequest& r, int64_t t) {
  if (r.status == policy::ApprovalStatus::kPending && t >= r.expires_ms) return "expired";
  return std::string(policy::ApprovalStatusName(r.status));
}

bool IsLoopback(const std::string& bind) {
  return bind == "127.0.0.1" || bind == "::1" || bind == "localhost" ||
         absl::StartsWith(bind, "127.");
}

// Counts of what the configuration and policy state hold, used across the sections.
struct Facts {
  size_t enabled = 0;
  size_t with_location = 0;
  size_t continuous = 0;
  size_t events_only = 0;
  size_t not_recorded = 0;
  std::vector<std::string> face_on;      // Camera ids with face recognition on now.
  std::vector<std::string> plates_read;  // Enabled camera ids that read licence plates.
  std::vector<std::string> no_purpose;   // Camera ids without a stated purpose.
  std::vector<std::string> no_location;  // Camera ids without a location.
  std::vector<std::string> no_basis;     // Camera ids no legal basis in force covers.
  double max_video_hours = 0;
  double min_video_hours = 0;
  size_t bases_in_force = 0;
  size_t unrestricted_bases = 0;  // In force, covering every act at every camera.
  size_t authorisations_in_force = 0;
  size_t assemblies_active_or_upcoming = 0;
  size_t holds_in_force = 0;
  std::map<std::string, std::vector<const config::CameraConfig*>> by_purpose;  // "" = none.
};

Facts ComputeFacts(const DpiaInput& input) {
  Facts f;
  const int64_t t = input.generated_ms;
  bool first = true;
  for (const config::CameraConfig& camera : input.config.cameras) {
    if (camera.enabled) ++f.enabled;
    if (camera.enabled && camera.read_plates) f.plates_read.push_back(camera.id);
    if (camera.location) {
      ++f.with_location;
    } else {
      f.no_location.push_back(camera.id);
    }
    if (!Records(camera)) {
      ++f.not_recorded;
    } else if (camera.record.mode == config::RecordMode::kContinuous) {
      ++f.continuous;
    } else {
      ++f.events_only;
    }
    if (FaceOn(input, camera)) f.face_on.push_back(camera.id);
    if (camera.purpose.empty()) f.no_purpose.push_back(camera.id);
    f.by_purpose[camera.purpose].push_back(&camera);
    if (Records(camera)) {
      const double h = EffectiveRetention(input, camera).video_hours;
      f.max_video_hours = first ? h : std::max(f.max_video_hours, h);
      f.min_video_hours = first ? h : std::min(f.min_video_hours, h);
      first = false;
    }
    bool covered = false;
    if (input.policy) {
      for (const policy::LegalBasis& basis : input.policy->legal_bases) {
        covered = covered || (BasisInForce(basis, t) && BasisCoversCamera(basis, camera.id));
      }
    }
    if (!covered) f.no_basis.push_back(camera.id);
  }
  if (input.policy) {
    for (const policy::LegalBasis& basis : input.policy->legal_bases) {
      if (!BasisInForce(basis, t)) continue;
      ++f.bases_in_force;
      if (basis.scope.cameras.empty() && basis.scope.acts.empty()) ++f.unrestricted_bases;
    }
    for (const policy::FaceAuthorisation& a : input.policy->face_authorisations) {
      if (absl::StartsWith(FaceAuthorisationStatus(a, *input.policy, t), "in force")) {
        ++f.authorisations_in_force;
      }
    }
    for (const policy::ProtectedAssembly& a : input.policy->protected_assemblies) {
      if (a.revoked_ms == 0 && t < a.end_ms) ++f.assemblies_active_or_upcoming;
    }
    for (const policy::EvidenceHold& h : input.policy->evidence_holds) {
      if (h.released_ms == 0) ++f.holds_in_force;
    }
  }
  return f;
}

std::string IdList(const std::vector<std::string>& ids) {
  std::vector<std::string> coded;
  for (const std::string& id : ids) coded.push_back(Code(id));
  return absl::StrJoin(coded, ", ");
}

std::string DataDirOf(const DpiaInput& input) {
  if (!input.data_dir.empty()) return input.data_dir;
  return fs::path(config::ResolvePath(input.config, input.config.server.data_dir))
      .lexically_normal()
      .string();
}

// Appends lines to the document.
class Doc {
 public:
  template <typename... Parts>
  void Line(const Parts&... parts) {
    (absl::StrAppend(&text_, Sv(parts)), ...);
    text_ += '\n';
  }
  void Blank() { text_ += '\n'; }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

// ---- Sections ----

void Header(const DpiaInput& input, const Facts& facts, Doc& d) {
  const config::ServerConfig& server = input.config.server;
  d.Line("# Data protection impact assessment (draft): ", Esc(server.site_name));
  d.Blank();
  d.Line(
      "> **DRAFT generated from the live configuration; not an assessment yet.** `custos dpia` "
      "wrote it from the configuration file, policy database and audit log named below. A data "
      "protection officer must check every statement, complete every point marked **TODO(DPO)** "
      "(collected in section 6), and sign it off. It describes the state at the time it was "
      "generated; generate it again after every change.");
  d.Blank();
  d.Line("| field | value |");
  d.Line("|---|---|");
  d.Line("| Generated | ", audit::FormatUtcMs(input.generated_ms), " (UTC) |");
  d.Line("| Configuration file | ", Code(input.config_path), " |");
  d.Line("| Configuration SHA-256 | ", Code(input.config_sha256), " |");
  d.Line("| Cameras | ", input.config.cameras.size(), " configured, ", facts.enabled, " enabled |");
  d.Line("| Data directory | ",
         input.data_dir.empty() ? "none read (run with `--data-dir` for the policy state)"
                                : Code(input.data_dir),
         " |");
  if (input.policy) {
    d.Line("| Policy database | ", Code(input.policy->path), ": ",
           Plural(input.policy->legal_bases.size(), "legal basis", "legal bases"), ", ",
           Plural(input.policy->face_authorisations.size(), "face-recognition authorisation",
                  "face-recognition authorisations"),
           ", ",
           Plural(input.policy->protected_assemblies.size(), "protected assembly",
                  "protected assemblies"),
           " |");
  } else {
    d.Line("| Policy database | ", Esc(input.policy_note), " |");
  }
  if (input.audit) {
    d.Line("| Audit log | ", Code(input.audit->dir), ": ",
           input.audit->has_checkpoint
               ? absl::StrCat(Plural(input.audit->checkpoint_size, "entry", "entries"),
                              " under the latest signed checkpoint")
               : std::string("no signed checkpoint yet"),
           " |");
  } else {
    d.Line("| Audit log | ", Esc(input.audit_note), " |");
  }
  d.Blank();
}

void SystematicDescription(const DpiaInput& input, const Facts& facts, Doc& d) {
  const config::Config& cfg = input.config;
  const config::ServerConfig& server = cfg.server;
  d.Line("## ", DpiaSectionTitles()[0]);
  d.Blank();
  d.Line("### 1.1 Controller and operator");
  d.Blank();
  d.Line("- Site: ", Esc(server.site_name), ".");
  d.Line("- Operator of the cameras (`server.operator`): ",
         server.operator_name.empty()
             ? Todo("not stated in the configuration; name who operates the cameras")
             : Esc(server.operator_name) + ".");
  d.Line("- Controller (who decides the purposes and means) and its representative: ",
         Todo("name them, with contact details."));
  d.Line("- Data protection officer: ", Todo("name and contact."));
  d.Line("- Deployment: one Custos server (`custos serve`) listening on ", Code(server.bind), ":",
         server.port, ", keeping its data in ", Code(DataDirOf(input)), ".");
  d.Blank();

  d.Line("### 1.2 Purposes");
  d.Blank();
  d.Line("| purpose (as stated in the configuration) | cameras |");
  d.Line("|---|---|");
  for (const auto& [purpose, cameras] : facts.by_purpose) {
    std::vector<std::string> ids;
    for (const config::CameraConfig* c : cameras) ids.push_back(c->id);
    d.Line("| ", purpose.empty() ? Todo("no purpose stated") : Esc(purpose), " | ", IdList(ids),
           " |");
  }
  d.Blank();

  d.Line("### 1.3 Scale and scope");
  d.Blank();
  d.Line("- ", Plural(cfg.cameras.size(), "camera is", "cameras are"), " configured, ",
         facts.enabled, " enabled; ", facts.with_location, " with a location.");
  d.Line("- Recording: ", facts.continuous, " continuous, ", facts.events_only,
         " only while objects are tracked, ", facts.not_recorded,
         " not recorded (analytics only or disabled).");
  double min_lat = 90, max_lat = -90, min_lon = 180, max_lon = -180;
  for (const config::CameraConfig& camera : cfg.cameras) {
    if (!camera.location) continue;
    min_lat = std::min(min_lat, camera.location->lat);
    max_lat = std::max(max_lat, camera.location->lat);
    min_lon = std::min(min_lon, camera.location->lon);
    max_lon = std::max(max_lon, camera.location->lon);
  }
  if (facts.with_location > 0) {
    d.Line(absl::StrFormat(
        "- Area: the located cameras lie between latitudes %.5f and %.5f and longitudes %.5f and "
        "%.5f (WGS84).",
        min_lat, max_lat, min_lon, max_lon));
  }
  d.Line("- Face recognition: ",
         facts.face_on.empty() ? std::string("off at every camera now")
                               : absl::StrCat("on now at ", IdList(facts.face_on)),
         "; plate reading: ",
         facts.plates_read.empty() ? std::string("not configured at any camera")
                                   : absl::StrCat("at ", IdList(facts.plates_read)),
         ".");
  d.Line(
      "- Data subjects: everyone who passes through the cameras' views (pedestrians, "
      "drivers, residents, workers, visitors, children). ",
      Todo("estimate how many people pass each day and whether vulnerable groups do."));
  d.Blank();

  d.Line("### 1.4 Data flow");
  d.Blank();
  const std::string labels = absl::StrJoin(cfg.detector.labels, ", ");
  d.Line("```");
  d.Line("camera (", cfg.cameras.size(), " configured) --RTSP/file--> ingest (FFmpeg demux)");
  d.Line("  |-> recorder: remux, no re-encode -> MP4 segments, DATA_DIR/recordings  [",
         facts.continuous, " continuous, ", facts.events_only, " event-only]");
  d.Line("  '-> decoder (detect stream, low resolution, detect fps)");
  d.Line("        -> motion -> detector (", cfg.detector.model, ": ", labels, ")");
  d.Line("        -> tracker -> zones / lines -> events -> DATA_DIR/events.db, snapshots");
  d.Line("        -> face: only where an authorisation is in force  [now: ",
         facts.face_on.empty() ? "no camera" : absl::StrJoin(facts.face_on, ", "), "]");
  d.Line("        -> plate reading (vehicles, full-resolution crops)  [",
         facts.plates_read.empty() ? "not configured" : absl::StrJoin(facts.plates_read, ", "),
         "]");
  d.Line("API / web UI <- store            every sensitive act -> audit log, DATA_DIR/audit");
  d.Line("```");
  d.Blank();
  d.Line(
      "Recording never waits on analytics: when analytics falls behind it drops analysis "
      "frames (counted), never recorded video. Detection runs on a low-resolution picture at "
      "a few frames per second, and only where motion was seen. Events describe objects "
      "(class, position, track number, zone, direction, time), not identities.");
  if (input.detector_model) {
    const infer::ModelSpec& m = *input.detector_model;
    d.Blank();
    d.Line("Detector model: ", Code(m.name), " (", Esc(m.description), "; format ", Esc(m.format),
           "; licence ", Esc(m.license), "; from ", Esc(m.source.registry), " package ",
           Code(m.source.package), " ", Esc(m.source.version), "), score threshold ",
           FormatNumber(cfg.detector.score_threshold), ".");
  } else {
    d.Blank();
    d.Line("Detector model: ", Code(cfg.detector.model), ", score threshold ",
           FormatNumber(cfg.detector.score_threshold), ".");
  }
  d.Blank();

  d.Line("### 1.5 Data kinds, storage and retention");
  d.Blank();
  const config::RetentionConfig& r = cfg.retention;
  std::string video_retention =
      facts.continuous + facts.events_only == 0
          ? std::string("no camera records")
          : (facts.min_video_hours == facts.max_video_hours
                 ? FormatHours(facts.max_video_hours)
                 : absl::StrCat(FormatHours(facts.min_video_hours), " to ",
                                FormatHours(facts.max_video_hours), " by camera (section 5)"));
  if (r.video_quota_gb > 0) {
    absl::StrAppend(&video_retention, "; at most ", FormatNumber(r.video_quota_gb),
                    " GB in all, oldest deleted first");
  }
  if (r.min_free_gb > 0) {
    absl::StrAppend(&video_retention, "; oldest deleted first when less than ",
                    FormatNumber(r.min_free_gb), " GB are free");
  }
  const double snapshots_days = r.snapshots_days.value_or(r.events_days);
  d.Line("| data | what it holds | where | kept |");
  d.Line("|---|---|---|---|");
  d.Line(
      "| video recordings | images of everyone in view, full resolution, with time | "
      "`DATA_DIR/recordings` | ",
      video_retention, "; footage on evidence hold until the hold is released |");
  d.Line(
      "| events | time, camera, object class, track number, box, zone or line, direction, "
      "dwell time; no identity | `DATA_DIR/events.db` | ",
      FormatDays(r.events_days), " (default; per camera in section 5) |");
  d.Line("| snapshots | the best picture of each tracked object; faces, the head end of people",
         input.config.privacy.mask_plates ? " and licence plates" : "",
         " obscured before it is stored (docs/privacy.md) | `DATA_DIR/snapshots` | ",
         FormatDays(snapshots_days), " (default) |");
  d.Line(
      "| face data of passers-by | face descriptors and crops of people who match no active "
      "watchlist entry | memory only, while the frame is processed | never stored |");
  d.Line(
      "| face matches | crop, score, watchlist entry, camera, time | only at cameras where "
      "face recognition is on (",
      facts.face_on.size(), " now) | ",
      facts.face_on.empty() ? std::string("none produced")
                            : Todo("no retention is configured for matches; set one"),
      " |");
  if (facts.plates_read.empty()) {
    d.Line("| plate reads | none: no plate reader is configured | | |");
  } else {
    d.Line(
        "| plate reads | plate text and its alternatives, a crop of the plate, camera, time, "
        "vehicle class | `DATA_DIR/plates.db` | ",
        FormatHours(input.config.retention.plate_reads_hours),
        "; hotlist hits as long as the hotlist entry's legal basis |");
  }
  d.Line(
      "| audit log | who did what, when, on which legal basis | `DATA_DIR/audit` | for the "
      "life of the system (append-only, tamper-evident) |");
  d.Line(
      "| accounts | users, roles, password hashes, sessions | `DATA_DIR/auth.db` | until an "
      "administrator removes them |");
  d.Line(
      "| policy records | legal bases, authorisations, assemblies, approvals, holds | "
      "`DATA_DIR/policy.db` | never deleted; revocations are recorded |");
  d.Blank();
}

void Necessity(const DpiaInput& input, const Facts& facts, Doc& d) {
  d.Line("## ", DpiaSectionTitles()[1]);
  d.Blank();
  int n = 0;
  for (const auto& [purpose, cameras] : facts.by_purpose) {
    ++n;
    d.Line("### 2.", n, " Purpose: ",
           purpose.empty() ? std::string("none stated") : absl::StrCat("\"", Esc(purpose), "\""));
    d.Blank();
    std::vector<std::string> names;
    size_t continuous = 0, events = 0, off = 0, zones = 0, face = 0;
    std::set<std::string> retentions;
    for (const config::CameraConfig* c : cameras) {
      names.push_back(absl::StrCat(Code(c->id), " (", Esc(c->name), ")"));
      if (!Records(*c)) {
        ++off;
      } else if (c->record.mode == config::RecordMode::kContinuous) {
        ++continuous;
        retentions.insert(FormatHours(EffectiveRetention(input, *c).video_hours));
      } else {
        ++events;
        retentions.insert(FormatHours(EffectiveRetention(input, *c).video_hours));
      }
      if (!c->zones.empty() || !c->lines.empty()) ++zones;
      if (FaceOn(input, *c)) ++face;
    }
    d.Line("- Cameras: ", absl::StrJoin(names, ", "), ".");
    d.Line("- Recording: ", continuous, " continuous, ", events,
           " only while objects are tracked, ", off, " not recorded; video kept ",
           retentions.empty() ? std::string("(none recorded)") : absl::StrJoin(retentions, " / "),
           ".");
    d.Line("- Analytics: object detection and tracking (",
           Esc(absl::StrJoin(input.config.detector.labels, ", ")), ")",
           zones > 0 ? absl::StrCat("; zones or counting lines at ", zones, " of them") : "",
           "; face recognition on at ", face, ".");
    if (purpose.empty()) {
      d.Line("- [ ] ",
             Todo("these cameras have no stated purpose. A camera without a purpose cannot be "
                  "justified: state it in the configuration (`purpose`) or remove the camera."));
    }
    d.Line("- [ ] ",
           Todo("why this purpose is legitimate and needs video here; which less intrusive means "
                "were considered (staff, signage, lighting, counts without video) and why they do "
                "not suffice; why the recording mode and retention above are the least needed."));
    d.Blank();
  }
  ++n;
  d.Line("### 2.", n, " Limits built into the software");
  d.Blank();
  d.Line(
      "These are not options of the configuration; Custos does not contain them "
      "(DESIGN.md §2):");
  d.Blank();
  d.Line(
      "- no search of recorded video for an arbitrary face, and no searchable index of "
      "everyone's faces: matching runs on live video against active watchlist entries only;");
  d.Line(
      "- no re-identification of people across cameras by appearance, and no movement "
      "profiles of people who are not on a watchlist;");
  d.Line(
      "- no classification of emotion, ethnicity, religion, political opinion or similar "
      "traits;");
  d.Line("- no cameras outside the public register: every configured camera is listed in it.");
  d.Blank();
  d.Line(
      "Data minimisation: face descriptors and crops of people who match no active watchlist "
      "entry exist only in memory while their frame is processed; detection runs on a "
      "low-resolution picture and only where motion was seen; events carry no identity.");
  d.Blank();
}

void Risks(const DpiaInput& input, const Facts& facts, Doc& d) {
  d.Line("## ", DpiaSectionTitles()[2]);
  d.Blank();
  d.Line(
      "Ratings are proposed by the generator from the configuration and policy state, by the "
      "rules in docs/dpia.md; the data protection officer confirms or changes each.");
  d.Blank();
  const bool face = !facts.face_on.empty();
  const bool records = facts.continuous + facts.events_only > 0;
  const bool long_video = facts.continuous > 0 && facts.max_video_hours > 168;
  const bool exposed = !IsLoopback(input.config.server.bind);
  d.Line(
      "| # | risk | rights concerned | likelihood | severity | in this configuration | "
      "mitigations in force |");
  d.Line("|---|---|---|---|---|---|---|");

  d.Line(
      "| R1 | intrusion into the private life of everyone in view: being filmed, recorded and "
      "analysed in public space | private life, data protection (Charter Art. 7, 8) | ",
      facts.enabled > 0 ? "high" : "low", " | ",
      long_video || face ? "high" : (records ? "medium" : "low"), " | ",
      Plural(facts.enabled, "camera", "cameras"), " enabled, ", facts.continuous,
      " recording continuously; video kept up to ",
      records ? FormatHours(facts.max_video_hours) : std::string("(none recorded)"),
      " | retention enforced and audited; events without identity; detection at low "
      "resolution; ",
      !input.face_blurring_available ? "**no blurring yet in this build**"
      : input.config.privacy.mask_plates
          ? "faces and licence plates blurred in exports and live view"
          : "faces blurred in exports and live view",
      " |");

  std::string r2_likelihood = "low";
  if (face) r2_likelihood = facts.assemblies_active_or_upcoming > 0 ? "medium" : "high";
  d.Line(
      "| R2 | chilling effect on assembly, expression and religion: people avoid places or "
      "protests because they are watched | assembly, expression, religion (Charter Art. 10, "
      "11, 12) | ",
      r2_likelihood, " | high | face recognition on at ",
      Plural(facts.face_on.size(), "camera", "cameras"), "; ",
      Plural(facts.assemblies_active_or_upcoming, "protected assembly", "protected assemblies"),
      " active or upcoming | face recognition off by default and off in protected assemblies; "
      "public camera register; every search and playback audited |");

  d.Line(
      "| R3 | discrimination and false matches of face recognition: a wrong person stopped, "
      "error rates that differ between groups | non-discrimination, presumption of innocence "
      "(Charter Art. 21, 48) | ",
      face ? "medium" : "remote (face recognition is off at every camera)", " | high | ",
      Plural(facts.authorisations_in_force, "authorisation", "authorisations"),
      " in force | a match is a lead a person must verify, never a decision; only active, "
      "four-eyes-approved watchlist entries; scoped, expiring authorisations |");

  std::string r4_factors = absl::StrCat(
      Plural(facts.no_purpose.size(), "camera", "cameras"), " without a stated purpose; ",
      Plural(facts.unrestricted_bases, "legal basis", "legal bases"),
      " in force covering every act at every camera");
  d.Line(
      "| R4 | function creep: use for purposes other than those stated (tracking critics, "
      "general suspicion) | purpose limitation, private life (GDPR Art. 5(1)(b); Charter Art. "
      "7, 8) | ",
      facts.no_purpose.empty() && facts.unrestricted_bases == 0 ? "medium" : "high", " | high | ",
      r4_factors,
      " | legal basis on every sensitive act; four eyes; tamper-evident audit log; features "
      "of section 2 not built |");

  d.Line(
      "| R5 | security breach: unauthorised access to live video, recordings or the "
      "database; leaked exports | data protection, security (GDPR Art. 32) | ",
      exposed ? "medium" : "low", " | ", records ? "high" : "medium", " | server listens on ",
      Code(input.config.server.bind),
      exposed ? " (reachable from the network)" : " (this machine only)",
      " | roles and permissions (section 4); data directory readable by its owner only; "
      "every access audited; exports watermarked |");
  d.Blank();
  d.Line("- [ ] ", Todo("confirm or change each rating; add risks specific to this site."));
  d.Blank();
}

void Safeguards(const DpiaInput& input, const Facts& facts, Doc& d) {
  const int64_t t = input.generated_ms;
  d.Line("## ", DpiaSectionTitles()[3]);
  d.Blank();
  d.Line(
      "Generated from the configuration and, where named, the policy database and the audit "
      "log as they stood at ",
      FormatTime(t), ".");
  d.Blank();

  d.Line("### 4.1 Legal basis on every sensitive act");
  d.Blank();
  d.Line(
      "Enrolling a person on a watchlist, querying plate reads, unblurred export, playback "
      "older than 24 h, starting an unpublished camera, evidence holds and face recognition "
      "each need a registered legal basis in force; requests without one are refused with "
      "the reason, and the refusal is audited.");
  d.Blank();
  if (PolicyUnread(input)) {
    d.Line(kPolicyUnread);
  } else if (!input.policy || input.policy->legal_bases.empty()) {
    d.Line("No legal basis is registered, so every such act is refused.");
  } else {
    d.Line("| reference | type | issued by | covers | cameras | status |");
    d.Line("|---|---|---|---|---|---|");
    for (const policy::LegalBasis& b : input.policy->legal_bases) {
      d.Line("| ", Esc(b.reference), " | ", policy::LegalBasisTypeName(b.type), " | ",
             Esc(b.issuing_authority), " | ", ActsText(b.scope.acts), " | ",
             CamerasText(b.scope.cameras, false), " | ", BasisStatus(b, t), " |");
    }
  }
  d.Blank();

  d.Line("### 4.2 Face recognition: authorisations");
  d.Blank();
  d.Line(
      "Face recognition is off wherever no authorisation is in force. An authorisation is "
      "scoped to cameras, a time window, a purpose and an expiry; it needs a legal basis "
      "covering face recognition and the approval of a second person (a supervisor).");
  d.Blank();
  if (PolicyUnread(input)) {
    d.Line(kPolicyUnread);
  } else if (!input.policy || input.policy->face_authorisations.empty()) {
    d.Line("No authorisation is registered: face recognition is off at every camera.");
  } else {
    d.Line("| name | purpose | cameras | window | legal basis | issued by | status |");
    d.Line("|---|---|---|---|---|---|---|");
    for (const policy::FaceAuthorisation& a : input.policy->face_authorisations) {
      d.Line("| ", Esc(a.name), " | ", policy::FacePurposeName(a.purpose), " | ",
             CamerasText(a.cameras, a.all_cameras), " | ", FormatTime(a.start_ms), " to ",
             FormatTime(std::min(a.end_ms, a.expires_ms)), " | ", Esc(a.legal_basis_ref), " | ",
             Esc(a.issuing_authority), " | ", FaceAuthorisationStatus(a, *input.policy, t), " |");
    }
    d.Blank();
    d.Line("Face recognition is on now at: ",
           facts.face_on.empty() ? std::string("no camera") : IdList(facts.face_on), ".");
  }
  d.Blank();

  d.Line("### 4.3 Protected assemblies");
  d.Blank();
  d.Line(
      "In these places and times face recognition is off whatever authorisation applies; the "
      "policy engine enforces it and every change is audited.");
  d.Blank();
  if (PolicyUnread(input)) {
    d.Line(kPolicyUnread);
  } else if (!input.policy || input.policy->protected_assemblies.empty()) {
    d.Line("None is registered. ",
           Todo("register the declared demonstrations, places of worship and polling stations "
                "in view of the cameras."));
  } else {
    d.Line("| name | kind | where | window | status |");
    d.Line("|---|---|---|---|---|");
    for (const policy::ProtectedAssembly& a : input.policy->protected_assemblies) {
      d.Line("| ", Esc(a.name), " | ", policy::AssemblyKindName(a.kind), " | ", AssemblyWhere(a),
             " | ", FormatTime(a.start_ms), " to ", FormatTime(a.end_ms), " | ",
             AssemblyStatus(a, t), " |");
    }
  }
  d.Blank();

  d.Line("### 4.4 Four eyes");
  d.Blank();
  d.Line(
      "Watchlist entries, unblurred exports, evidence holds and face-recognition "
      "authorisations need a request by one person and the approval of a different "
      "supervisor (never an API token, never the requester).");
  d.Blank();
  if (PolicyUnread(input)) {
    d.Line(kPolicyUnread);
  } else if (!input.policy || input.policy->approvals.empty()) {
    d.Line("No approval request is recorded.");
  } else {
    std::map<std::string, std::map<std::string, int>> counts;
    for (const policy::ApprovalRequest& r : input.policy->approvals) {
      ++counts[std::string(policy::ApprovalKindName(r.spec.kind))][ApprovalStatusAt(r, t)];
    }
    d.Line("| kind | pending | approved | rejected | expired |");
    d.Line("|---|---|---|---|---|");
    for (auto& [kind, c] : counts) {
      d.Line("| ", kind, " | ", c["pending"], " | ", c["approved"], " | ", c["rejected"], " | ",
             c["expired"], " |");
    }
  }
  d.Blank();

  d.Line("### 4.5 Retention");
  d.Blank();
  const config::RetentionConfig& r = input.config.retention;
  d.Line(
      "Expired data is deleted by the server every minute, and each deletion batch is "
      "recorded in the audit log before anything is deleted. Defaults: video ",
      FormatHours(r.video_hours), ", events ", FormatDays(r.events_days), ", snapshots ",
      FormatDays(r.snapshots_days.value_or(r.events_days)), "; recordings quota ",
      r.video_quota_gb > 0 ? absl::StrCat(FormatNumber(r.video_quota_gb), " GB")
                           : std::string("none"),
      "; free-space floor ",
      r.min_free_gb > 0 ? absl::StrCat(FormatNumber(r.min_free_gb), " GB") : std::string("none"),
      ". Per camera: section 5.");
  d.Blank();
  if (input.policy) {
    if (input.policy->retention_overrides.empty()) {
      d.Line("No retention override is set in the policy database.");
    } else {
      for (const auto& [camera, o] : input.policy->retention_overrides) {
        std::vector<std::string> parts;
        if (o.video_max_age_ms) parts.push_back("video " + FormatAgeMs(*o.video_max_age_ms));
        if (o.events_max_age_ms) parts.push_back("events " + FormatAgeMs(*o.events_max_age_ms));
        if (o.snapshots_max_age_ms) {
          parts.push_back("snapshots " + FormatAgeMs(*o.snapshots_max_age_ms));
        }
        d.Line("- Override for camera ", Code(camera), ": ", absl::StrJoin(parts, ", "), ".");
      }
    }
    d.Blank();
    d.Line(
        "Evidence holds in force (footage kept beyond its retention for a case, with a legal "
        "basis and an approval): ",
        facts.holds_in_force, ".");
  }
  d.Blank();

  d.Line("### 4.6 Privacy by default: blurring");
  d.Blank();
  if (input.face_blurring_available) {
    d.Line(input.config.privacy.mask_plates ? "Faces and licence plates are" : "Faces are",
           " blurred in exported video and in live view for roles without clearance; "
           "an unblurred export needs a supervisor's approval and a legal basis, and carries its "
           "export id as a watermark.",
           input.config.privacy.mask_plates
               ? ""
               : " Licence plates are **not** blurred (privacy.mask_plates is off in this "
                 "configuration).");
    if (!facts.plates_read.empty()) {
      d.Blank();
      d.Line("Licence plates are read on ", absl::StrJoin(facts.plates_read, ", "),
             "; reads are kept ", FormatHours(input.config.retention.plate_reads_hours),
             " and may only be searched with a case reference and a legal basis, each search "
             "on record in the audit log before it is answered; hotlist entries need a "
             "second person's approval and expire (docs/plates.md).");
    }
  } else {
    d.Line(
        "**Not yet in force in this build:** faces are not blurred in live view or exports "
        "(DESIGN.md §1.5 requires it; the privacy-masking module is not part of this build). ",
        Todo("decide whether operation may start before blurring is in place."));
  }
  d.Blank();

  d.Line("### 4.7 Tamper-evident audit log");
  d.Blank();
  d.Line(
      "Every login, live view, playback, download, search, user change, retention deletion "
      "and policy change is appended to a Merkle-tree log (RFC 6962) with signed checkpoints "
      "(Ed25519), durable before the act completes. Anyone holding a published checkpoint can "
      "verify that an entry is in the log and that the log was only appended to.");
  d.Blank();
  if (input.audit) {
    const AuditState& a = *input.audit;
    d.Line("- Log: ", Code(a.dir), ", ", a.entries_log_bytes, " bytes of entries.");
    d.Line("- Log name (origin): ", Code(a.origin), ".");
    d.Line("- Public key to publish: ", Code(a.verifier_key), ".");
    if (a.has_checkpoint) {
      d.Line("- Latest signed checkpoint: ", Plural(a.checkpoint_size, "entry", "entries"),
             ", root hash ", Code(a.checkpoint_root_hex), ".");
    } else {
      d.Line("- No checkpoint is signed yet.");
    }
    d.Line("- Check it: `custos audit verify --data-dir ", DataDirOf(input), "`.");
  } else {
    d.Line(Esc(input.audit_note));
  }
  d.Blank();

  d.Line("### 4.8 Access control");
  d.Blank();
  d.Line(
      "Each user has exactly one role; this is the permission table of this build "
      "(docs/auth.md). Acts that need a legal basis or four eyes are also checked by the "
      "policy engine.");
  d.Blank();
  d.Line(auth::RenderPermissionTable());
  d.Line("The server listens on ", Code(input.config.server.bind), ":", input.config.server.port,
         IsLoopback(input.config.server.bind)
             ? std::string(" (this machine only).")
             : absl::StrCat(" (reachable from the network). ",
                            Todo("confirm that a TLS proxy is in front of it.")));
  d.Blank();

  d.Line("### 4.9 Transparency");
  d.Blank();
  d.Line("Every configured camera (", input.config.cameras.size(),
         ") is listed in the public register (`/public/register.json`, no login) with its "
         "location, operator, purpose and recording mode.");
  d.Blank();
}

void CameraTable(const DpiaInput& input, Doc& d) {
  d.Line("## ", DpiaSectionTitles()[4]);
  d.Blank();
  d.Line(
      "| id | name | location | purpose | recording | video kept | events kept | analytics | "
      "face recognition | plate reading | legal basis |");
  d.Line("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const config::CameraConfig& camera : input.config.cameras) {
    const Retention r = EffectiveRetention(input, camera);
    const std::string location =
        camera.location ? absl::StrFormat("%.5f, %.5f", camera.location->lat, camera.location->lon)
                        : Todo("not given");
    const std::string video =
        Records(camera) ? absl::StrCat(FormatHours(r.video_hours), " (", r.video_source, ")")
                        : std::string("not recorded");
    d.Line("| ", Code(camera.id), " | ", Esc(camera.name), " | ", location, " | ",
           camera.purpose.empty() ? Todo("none stated") : Esc(camera.purpose), " | ",
           RecordingText(camera), " | ", video, " | ", FormatDays(r.events_days), " (snapshots ",
           FormatDays(r.snapshots_days), ") | ", AnalyticsText(input, camera), " | ",
           FaceText(input, camera), " | ",
           camera.enabled && camera.read_plates
               ? absl::StrCat("yes: reads kept ",
                              FormatHours(input.config.retention.plate_reads_hours))
               : std::string("off (not configured)"),
           " | ", LegalBasesForCamera(input, camera), " |");
  }
  d.Blank();
}

void OpenPoints(const DpiaInput& input, const Facts& facts, Doc& d) {
  d.Line("## ", DpiaSectionTitles()[5]);
  d.Blank();
  d.Line(
      "This draft is complete only when every point below is done. Points marked "
      "**TODO(DPO)** in the sections above are repeated here.");
  d.Blank();
  auto todo = [&d](const std::string& text) { d.Line("- [ ] ", Todo(text)); };
  todo("name the controller, its representative and the data protection officer (1.1).");
  if (input.config.server.operator_name.empty()) {
    todo("state who operates the cameras (`server.operator` in the configuration).");
  }
  for (const std::string& id : facts.no_purpose) {
    todo(absl::StrCat("camera ", Code(id),
                      " has no purpose: state it (`purpose`) or remove the camera."));
  }
  for (const std::string& id : facts.no_location) {
    todo(absl::StrCat("camera ", Code(id), " has no location: add `location` (public register)."));
  }
  if (!facts.no_basis.empty()) {
    todo(absl::StrCat("name the legal basis for operating ",
                      facts.no_basis.size() == input.config.cameras.size()
                          ? std::string("every camera")
                          : absl::StrCat("cameras ", IdList(facts.no_basis)),
                      " (no legal basis in force in the policy database covers ",
                      facts.no_basis.size() == 1 ? "it" : "them", ")."));
  }
  todo("for each purpose, explain necessity and the less intrusive means considered (2).");
  todo("estimate the number of people affected and whether vulnerable groups are (1.3).");
  todo("confirm or change the risk ratings and add site-specific risks (3).");
  if (!input.face_blurring_available) {
    todo(
        "decide whether operation may start before faces are blurred in live view and "
        "exports (4.6).");
  }
  if (!facts.face_on.empty()) {
    todo("set and document a retention period for face matches (1.5).");
  }
  if (!input.policy || input.policy->protected_assemblies.empty()) {
    todo(
        "register protected assemblies (demonstrations, places of worship, polling "
        "stations) in view of the cameras (4.3).");
  }
  if (!IsLoopback(input.config.server.bind)) {
    todo("confirm that the server is reachable only through a TLS proxy (4.8).");
  }
  if (input.data_dir.empty()) {
    todo(
        "generate this draft with the server's data directory (`--data-dir`), so that the "
        "legal bases, authorisations, assemblies, approvals and the audit log are described.");
  } else if (!input.audit) {
    todo("start the server once so that its audit log exists, then generate this draft again.");
  }
  if (input.audit) {
    todo(
        "publish the audit log's public key and its checkpoints where they cannot be changed "
        "unnoticed (docs/audit.md).");
  }
  todo(
      "inform the public at each camera (signs naming the controller, purpose and where to "
      "find this assessment and the register).");
  todo(
      "seek the views of data subjects or their representatives; decide whether the "
      "supervisory authority must be consulted before operation (residual high risk).");
  todo(
      "set the date of the next review, and regenerate this draft after every change of the "
      "configuration.");
  d.Blank();
  d.Line("| sign-off | name | date | signature |");
  d.Line("|---|---|---|---|");
  d.Line("| data protection officer | | | |");
  d.Line("| controller | | | |");
  d.Blank();
  d.Line("Configuration SHA-256 this draft describes: ", Code(input.config_sha256), ".");
}

}  // namespace

const std::vector<std::string>& DpiaSectionTitles() {
  static const auto* titles = new std::vector<std::string>{
      "1. Systematic description of the processing",
      "2. Necessity and proportionality",
      "3. Risks to the rights and freedoms of data subjects",
      "4. Safeguards in force",
      "5. Cameras",
      "6. Open points for the data protection officer",
  };
  return *titles;
}

absl::StatusOr<DpiaInput> GatherDpiaInput(const GatherOptions& options) {
  const Clock* clock = options.clock != nullptr ? options.clock : Clock::Real();
  config::ParseOptions parse;
  for (const infer::ModelSpec& model : options.models) parse.models[model.name] = model.labels;
  CUSTOS_ASSIGN_OR_RETURN(config::Config loaded, config::LoadConfig(options.config_path, parse));

  // Hash exactly the bytes the draft describes: read once more and parse those bytes.
  std::ifstream in(options.config_path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::UnavailableError(
        absl::StrCat("error reading config file '", options.config_path, "'; run again"));
  }
  absl::StatusOr<config::Config> parsed = config::ParseConfig(text, options.config_path, parse);
  if (!parsed.ok()) {
    return absl::UnavailableError(absl::StrCat("config file '", options.config_path,
                                               "' changed while it was read; run again"));
  }
  DpiaInput input;
  input.config = *std::move(parsed);
  input.config.base_dir = loaded.base_dir;
  input.config_path = options.config_path;
  input.config_sha256 = audit::HashToHex(audit::Sha256(text));
  input.generated_ms = clock->WallMs();
  for (const infer::ModelSpec& model : options.models) {
    if (model.name == input.config.detector.model) input.detector_model = model;
  }

  if (options.data_dir.empty()) {
    input.policy_note =
        "not read: no data directory given (face recognition is off by default without one)";
    input.audit_note = "not read: no data directory given";
    return input;
  }
  std::error_code ec;
  if (!fs::is_directory(options.data_dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("data directory '", options.data_dir,
                     "' does not exist; give the server's data directory (server.data_dir of the "
                     "configuration, or serve's --data-dir), or leave --data-dir out"));
  }
  std::string data_dir = fs::absolute(options.data_dir, ec).lexically_normal().string();
  if (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();
  input.data_dir = data_dir;

  const std::string policy_path = data_dir + "/policy.db";
  if (!fs::exists(policy_path, ec) ||
      (fs::is_regular_file(policy_path, ec) && fs::file_size(policy_path, ec) == 0)) {
    input.policy_note = absl::StrCat(
        "no policy database in ", data_dir,
        ": no legal basis, authorisation or assembly is registered (face recognition is off)");
  } else {
    CUSTOS_ASSIGN_OR_RETURN(PolicyState state, ReadPolicy(policy_path, input.config, clock));
    input.policy = std::move(state);
  }

  CUSTOS_ASSIGN_OR_RETURN(std::optional<AuditState> audit_state, ReadAudit(data_dir));
  input.audit = std::move(audit_state);
  if (!input.audit) {
    input.audit_note = absl::StrCat("no audit log in ", data_dir,
                                    "/audit yet (the server creates it at first start)");
  }
  return input;
}

std::string RenderDpiaMarkdown(const DpiaInput& input) {
  const Facts facts = ComputeFacts(input);
  Doc d;
  Header(input, facts, d);
  SystematicDescription(input, facts, d);
  Necessity(input, facts, d);
  Risks(input, facts, d);
  Safeguards(input, facts, d);
  CameraTable(input, d);
  OpenPoints(input, facts, d);
  return d.Take();
}

}  // namespace custos::transparency
