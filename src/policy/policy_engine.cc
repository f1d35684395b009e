#include "policy/policy_engine.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>
#include <utility>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "nlohmann/json.hpp"
#include "policy/policy_json.h"

namespace custos::policy {

// Everything the engine knows, mirrored from the database (cameras come from the options).
struct PolicyCache {
  std::map<std::string, LegalBasis, std::less<>> bases;              // By reference.
  std::map<std::string, FaceAuthorisation, std::less<>> faces;       // By id (ULID: age).
  std::map<std::string, ProtectedAssembly, std::less<>> assemblies;  // By id.
  std::map<std::string, ApprovalRequest, std::less<>> approvals;     // By id.
  std::map<std::string, EvidenceHold, std::less<>> holds;            // By id.
  std::map<std::string, retention::CameraRetention> retention;       // By camera.
  std::set<int64_t> policy_held;  // Segments whose index hold this engine set.
  std::map<std::string, CameraInfo, std::less<>> cameras;
};

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using store::Statement;

std::string Dump(const json& j) { return j.dump(); }

// PRAGMA application_id of a Custos policy database: "CSPO".
constexpr int64_t kApplicationId = 0x4353504F;

constexpr size_t kMaxShortText = 200;
constexpr size_t kMaxLongText = 2000;
constexpr size_t kMaxListItems = 1000;
constexpr size_t kMaxSegments = 100'000;
constexpr int64_t kMaxTimeMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z.
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kMinRetentionMs = kHourMs;
constexpr int64_t kMaxRetentionMs = 10 * 366 * 24 * kHourMs;
constexpr double kMaxCircleRadiusM = 50'000;
constexpr double kEarthRadiusM = 6'371'000;

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// 's', cut to a length fit for a message (at a UTF-8 character boundary).
std::string Quote(std::string_view s) {
  constexpr size_t kMaxShown = 100;
  if (s.size() <= kMaxShown) return absl::StrCat("'", Sv(s), "'");
  size_t cut = kMaxShown;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat("'", Sv(s.substr(0, cut)), "...'");
}

// "2026-11-26 14:03 UTC", with seconds (and milliseconds) only when not zero.
std::string FormatTime(int64_t ms) {
  const absl::Time t = absl::FromUnixMillis(ms);
  const char* format = ms % 60'000 == 0 ? "%Y-%m-%d %H:%M UTC"
                       : ms % 1000 == 0 ? "%Y-%m-%d %H:%M:%S UTC"
                                        : "%Y-%m-%d %H:%M:%E3S UTC";
  return absl::FormatTime(format, t, absl::UTCTimeZone());
}

std::string FormatClock(int64_t ms) {
  const char* format = ms % 60'000 == 0 ? "%H:%M" : ms % 1000 == 0 ? "%H:%M:%S" : "%H:%M:%E3S";
  return absl::FormatTime(format, absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

// "12:00-18:00" within one UTC day, else "2026-11-26 12:00 UTC to 2026-11-27 18:00 UTC".
std::string FormatWindow(int64_t start_ms, int64_t end_ms) {
  const std::string day_start =
      absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(start_ms), absl::UTCTimeZone());
  const std::string day_end =
      absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(end_ms - 1), absl::UTCTimeZone());
  if (day_start == day_end) {
    return absl::StrCat(FormatClock(start_ms), "-",
                        end_ms % (24 * kHourMs) == 0 ? "24:00" : FormatClock(end_ms));
  }
  return absl::StrCat(FormatTime(start_ms), " to ", FormatTime(end_ms));
}

std::string Join(const std::vector<std::string>& items, size_t max_shown = 10) {
  std::vector<std::string> shown;
  for (size_t i = 0; i < items.size() && i < max_shown; ++i) shown.push_back(Quote(items[i]));
  std::string out = absl::StrJoin(shown, ", ");
  if (items.size() > max_shown) absl::StrAppend(&out, " and ", items.size() - max_shown, " more");
  return out;
}

std::string_view ActDescription(Act act) {
  switch (act) {
    case Act::kWatchlistEntry:
      return "enrolling a person on a watchlist";
    case Act::kPlateQuery:
      return "querying plate reads";
    case Act::kUnblurredExport:
      return "exporting unblurred video";
    case Act::kOldPlayback:
      return "playing back recordings older than 24 hours";
    case Act::kUnpublishedCamera:
      return "starting a camera that is not in the public register";
    case Act::kEvidenceHold:
      return "placing an evidence hold";
    case Act::kFaceRecognition:
      return "face recognition";
    case Act::kPlateHotlist:
      return "putting a plate on a hotlist";
  }
  return "this act";
}

Act ActOf(ApprovalKind kind) {
  switch (kind) {
    case ApprovalKind::kWatchlistEntry:
      return Act::kWatchlistEntry;
    case ApprovalKind::kUnblurredExport:
      return Act::kUnblurredExport;
    case ApprovalKind::kEvidenceHold:
      return Act::kEvidenceHold;
    case ApprovalKind::kFaceAuthorisation:
      return Act::kFaceRecognition;
    case ApprovalKind::kHotlistEntry:
      return Act::kPlateHotlist;
  }
  return Act::kWatchlistEntry;
}

// Who may ask for an approval of `kind`.
auth::Permission RequestPermission(ApprovalKind kind) {
  switch (kind) {
    case ApprovalKind::kWatchlistEntry:
      return auth::Permission::kProposeWatchlist;
    case ApprovalKind::kUnblurredExport:
      return auth::Permission::kExport;
    case ApprovalKind::kEvidenceHold:
      return auth::Permission::kPlayback;
    case ApprovalKind::kFaceAuthorisation:
      return auth::Permission::kManagePolicies;
    case ApprovalKind::kHotlistEntry:
      return auth::Permission::kPlateQuery;
  }
  return auth::Permission::kManagePolicies;
}

// Who may approve or reject it. Face authorisations are biometric like watchlist entries; a
// plate hotlist is the watchlist of vehicles.
auth::Permission ApprovePermission(ApprovalKind kind) {
  switch (kind) {
    case ApprovalKind::kWatchlistEntry:
    case ApprovalKind::kFaceAuthorisation:
    case ApprovalKind::kHotlistEntry:
      return auth::Permission::kApproveWatchlist;
    case ApprovalKind::kUnblurredExport:
      return auth::Permission::kApproveUnblurredExport;
    case ApprovalKind::kEvidenceHold:
      return auth::Permission::kEvidenceHold;
  }
  return auth::Permission::kApproveWatchlist;
}

Decision Allow(std::string reason, std::string rule_id) {
  return Decision{true, std::move(reason), std::move(rule_id)};
}
Decision Deny(std::string reason, std::string rule_id) {
  return Decision{false, std::move(reason), std::move(rule_id)};
}

// ---- Input validation ----

bool ValidCameraId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

absl::Status CheckTime(int64_t ms, std::string_view field) {
  if (ms < 0 || ms > kMaxTimeMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(field), " is ", ms, "; give a UTC time in milliseconds since 1970 before year 10000"));
  }
  return absl::OkStatus();
}

absl::Status CheckWindow(int64_t start_ms, int64_t end_ms, std::string_view what) {
  CUSTOS_RETURN_IF_ERROR(CheckTime(start_ms, absl::StrCat(Sv(what), " start")));
  CUSTOS_RETURN_IF_ERROR(CheckTime(end_ms, absl::StrCat(Sv(what), " end")));
  if (end_ms <= start_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " ends (", FormatTime(end_ms), ") before or when it starts (",
                     FormatTime(start_ms), "); give an end after the start"));
  }
  return absl::OkStatus();
}

absl::Status CheckLocation(const config::Location& location, std::string_view field) {
  if (!std::isfinite(location.lat) || !std::isfinite(location.lon) || location.lat < -90 ||
      location.lat > 90 || location.lon < -180 || location.lon > 180) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(field), " (", location.lat, ", ", location.lon,
        ") is not a WGS84 position; give lat in [-90, 90] and lon in [-180, 180] degrees"));
  }
  return absl::OkStatus();
}

// ---- Geography ----

double DistanceM(const config::Location& a, const config::Location& b) {
  constexpr double kRad = M_PI / 180;
  const double dlat = (b.lat - a.lat) * kRad;
  const double dlon = (b.lon - a.lon) * kRad;
  const double h =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(a.lat * kRad) * std::cos(b.lat * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

// Even-odd rule on lat/lon as planar coordinates.
bool InPolygon(const std::vector<config::Location>& polygon, const config::Location& p) {
  bool inside = false;
  for (size_t i = 0, j = polygon.size() - 1; i < polygon.size(); j = i++) {
    const config::Location& a = polygon[i];
    const config::Location& b = polygon[j];
    if ((a.lat > p.lat) != (b.lat > p.lat) &&
        p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon) {
      inside = !inside;
    }
  }
  return inside;
}

bool InArea(const GeoArea& area, const config::Location& p) {
  if (area.circle_center) return DistanceM(*area.circle_center, p) <= area.circle_radius_m;
  return area.polygon.size() >= 3 && InPolygon(area.polygon, p);
}

// ---- SQLite ----

using Param = std::variant<int64_t, std::string>;

// Runs one statement that returns no rows; returns the number of rows changed.
absl::StatusOr<int64_t> Run(sqlite3* db, std::string_view sql, const std::vector<Param>& params,
                            const std::string& path) {
  CUSTOS_ASSIGN_OR_RETURN(Statement statement, Statement::Prepare(db, sql));
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    if (const auto* n = std::get_if<int64_t>(&params[i])) {
      statement.Bind(index, *n);
    } else {
      statement.Bind(index, std::string_view(std::get<std::string>(params[i])));
    }
  }
  const int rc = statement.Step();
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db, rc, absl::StrCat("writing the policy store (", Sv(sql), ")"),
                               path);
  }
  return static_cast<int64_t>(sqlite3_changes(db));
}

// Calls `row` for each row of `sql`.
absl::Status ForEachRow(sqlite3* db, std::string_view sql, const std::string& path,
                        const std::function<absl::Status(const Statement&)>& row) {
  CUSTOS_ASSIGN_OR_RETURN(Statement statement, Statement::Prepare(db, sql));
  int rc = 0;
  while ((rc = statement.Step()) == SQLITE_ROW) CUSTOS_RETURN_IF_ERROR(row(statement));
  if (rc != SQLITE_DONE) return store::SqliteStatus(db, rc, "reading the policy store", path);
  return absl::OkStatus();
}

absl::Status PrepareDatabaseFile(const std::string& path) {
  std::error_code ec;
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create policy database ", path, ": directory ", dir.string(),
                     " does not exist; create it or choose another path"));
  }
  if (fs::is_directory(path, ec)) {
    return absl::FailedPreconditionError(absl::StrCat("policy database path ", path,
                                                      " is a directory; give a file name such as ",
                                                      (fs::path(path) / "policy.db").string()));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    const int error = errno;
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create policy database ", path, ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

absl::StatusOr<store::SqliteDb> OpenDatabase(const PolicyEngineOptions& options) {
  const std::string& path = options.path;
  const bool in_memory = path == ":memory:";
  if (!in_memory) CUSTOS_RETURN_IF_ERROR(PrepareDatabaseFile(path));
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  store::SqliteDb db(raw);
  if (rc != SQLITE_OK) return store::SqliteStatus(db.get(), rc, "opening policy database", path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);

  // Everything that can refuse the file is checked before anything is written to it.
  CUSTOS_ASSIGN_OR_RETURN(const int64_t app_id,
                          store::QueryInt(db.get(), "PRAGMA application_id", path));
  CUSTOS_ASSIGN_OR_RETURN(const int64_t objects,
                          store::QueryInt(db.get(), "SELECT count(*) FROM sqlite_master", path));
  if (app_id != 0 && app_id != kApplicationId) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, " belongs to another application (application_id ", app_id,
                     "); point the policy store at another file. It was not changed"));
  }
  if (app_id == 0 && objects > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", path,
        " already has tables but is not a Custos policy database; refusing to modify it. Point "
        "the policy store at another file"));
  }
  const int64_t latest = PolicyEngine::Migrations().back().version;
  CUSTOS_ASSIGN_OR_RETURN(const int64_t version,
                          store::QueryInt(db.get(), "PRAGMA user_version", path));
  if (version > latest) return store::NewerSchemaError(path, version, latest);
  CUSTOS_RETURN_IF_ERROR(store::EnableWal(db.get(), "policy database", path, in_memory));
  CUSTOS_RETURN_IF_ERROR(store::Exec(db.get(), "PRAGMA synchronous = NORMAL", path));
  CUSTOS_RETURN_IF_ERROR(store::Exec(db.get(), "PRAGMA foreign_keys = ON", path));
  CUSTOS_RETURN_IF_ERROR(store::ApplyMigrations(db.get(), PolicyEngine::Migrations(), path));
  return db;
}

// Reads every record into `cache`. Errors: kDataLoss for a record that does not parse.
absl::Status LoadCache(sqlite3* db, const std::string& path, PolicyCache& cache) {
  auto parse = [&](std::string_view table, const std::string& text,
                   const std::function<void(const json&)>& add) -> absl::Status {
    try {
      add(json::parse(text));
    } catch (const std::exception& e) {
      return absl::DataLossError(absl::StrCat("policy database ", path, ": a record in table ",
                                              Sv(table), " cannot be read (", e.what(),
                                              "); restore the file from a backup"));
    }
    return absl::OkStatus();
  };
  CUSTOS_RETURN_IF_ERROR(
      ForEachRow(db, "SELECT record FROM legal_bases", path, [&](const Statement& row) {
        return parse("legal_bases", row.ColumnText(0), [&](const json& j) {
          LegalBasis b = BasisFrom(j);
          cache.bases[b.reference] = b;
        });
      }));
  CUSTOS_RETURN_IF_ERROR(
      ForEachRow(db, "SELECT record FROM face_authorisations", path, [&](const Statement& row) {
        return parse("face_authorisations", row.ColumnText(0), [&](const json& j) {
          FaceAuthorisation a = FaceFrom(j);
          cache.faces[a.id] = a;
        });
      }));
  CUSTOS_RETURN_IF_ERROR(
      ForEachRow(db, "SELECT record FROM protected_assemblies", path, [&](const Statement& row) {
        return parse("protected_assemblies", row.ColumnText(0), [&](const json& j) {
          ProtectedAssembly a = AssemblyFrom(j);
          cache.assemblies[a.id] = a;
        });
      }));
  CUSTOS_RETURN_IF_ERROR(
      ForEachRow(db, "SELECT record FROM approvals", path, [&](const Statement& row) {
        return parse("approvals", row.ColumnText(0), [&](const json& j) {
          ApprovalRequest r = ApprovalFrom(j);
          cache.approvals[r.id] = r;
        });
      }));
  CUSTOS_RETURN_IF_ERROR(
      ForEachRow(db, "SELECT record FROM evidence_holds", path, [&](const Statement& row) {
        return parse("evidence_holds", row.ColumnText(0), [&](const json& j) {
          EvidenceHold h = HoldFrom(j);
          cache.holds[h.id] = h;
        });
      }));
  CUSTOS_RETURN_IF_ERROR(
      ForEachRow(db, "SELECT DISTINCT segment_id FROM hold_segments WHERE set_hold = 1", path,
                 [&](const Statement& row) {
                   cache.policy_held.insert(row.ColumnInt(0));
                   return absl::OkStatus();
                 }));
  return ForEachRow(
      db, "SELECT camera, kind, max_age_ms FROM retention_overrides", path,
      [&](const Statement& row) -> absl::Status {
        retention::CameraRetention& r = cache.retention[row.ColumnText(0)];
        const std::string kind = row.ColumnText(1);
        const int64_t age = row.ColumnInt(2);
        if (kind == "video") {
          r.video_max_age_ms = age;
        } else if (kind == "events") {
          r.events_max_age_ms = age;
        } else if (kind == "snapshots") {
          r.snapshots_max_age_ms = age;
        } else {
          return absl::DataLossError(absl::StrCat("policy database ", path,
                                                  " holds a retention override of unknown "
                                                  "kind '",
                                                  kind, "' (written by a newer Custos?)"));
        }
        return absl::OkStatus();
      });
}

// The camera of a request as the legal-basis check takes it: a request that names none leaves
// the camera scope to be checked when the act is carried out.
std::optional<std::string_view> RequestCamera(const std::string& camera) {
  if (camera.empty()) return std::nullopt;
  return std::string_view(camera);
}

bool IsUser(const auth::Principal& p) { return p.kind == auth::Principal::Kind::kUser; }

bool SamePerson(const auth::Principal& p, const ApprovalRequest& r) {
  if (p.user_id != 0 && r.requester_user_id != 0 && p.user_id == r.requester_user_id) return true;
  return absl::EqualsIgnoreCase(Sv(p.name), Sv(r.requester));
}

// Whether an authorisation or legal-basis camera list covers `camera`.
bool Lists(const std::vector<std::string>& cameras, std::string_view camera) {
  return std::find(cameras.begin(), cameras.end(), camera) != cameras.end();
}

}  // namespace

std::vector<CameraInfo> CamerasFromConfig(const config::Config& config) {
  std::vector<CameraInfo> cameras;
  for (const config::CameraConfig& camera : config.cameras) {
    CameraInfo info;
    info.id = camera.id;
    info.location = camera.location;
    for (const config::ZoneConfig& zone : camera.zones) info.zones.push_back(zone.name);
    cameras.push_back(std::move(info));
  }
  return cameras;
}

absl::Status DecisionToStatus(const Decision& decision) {
  if (decision.allowed) return absl::OkStatus();
  return absl::PermissionDeniedError(decision.reason);
}

const std::vector<store::Migration>& PolicyEngine::Migrations() {
  // Released versions never change: add a new version for every schema change. Each table
  // keeps the whole record as JSON in `record` (docs/policy.md gives its fields) beside the
  // columns that keys, uniqueness and references need.
  static const auto* const kMigrations = new std::vector<store::Migration>{
      {1,
       {
           "CREATE TABLE legal_bases ("
           "  reference TEXT PRIMARY KEY NOT NULL,"
           "  created_ms INTEGER NOT NULL,"
           "  revoked_ms INTEGER NOT NULL DEFAULT 0,"
           "  record TEXT NOT NULL"
           ") WITHOUT ROWID",
           "CREATE TABLE face_authorisations ("
           "  id TEXT PRIMARY KEY NOT NULL,"
           "  name TEXT NOT NULL UNIQUE,"
           "  legal_basis_ref TEXT NOT NULL REFERENCES legal_bases (reference),"
           "  created_ms INTEGER NOT NULL,"
           "  revoked_ms INTEGER NOT NULL DEFAULT 0,"
           "  record TEXT NOT NULL"
           ") WITHOUT ROWID",
           "CREATE TABLE protected_assemblies ("
           "  id TEXT PRIMARY KEY NOT NULL,"
           "  name TEXT NOT NULL,"
           "  created_ms INTEGER NOT NULL,"
           "  revoked_ms INTEGER NOT NULL DEFAULT 0,"
           "  record TEXT NOT NULL"
           ") WITHOUT ROWID",
           "CREATE TABLE approvals ("
           "  id TEXT PRIMARY KEY NOT NULL,"
           "  kind TEXT NOT NULL,"
           "  object_id TEXT NOT NULL,"
           "  legal_basis_ref TEXT NOT NULL REFERENCES legal_bases (reference),"
           "  status TEXT NOT NULL,"  // pending, approved, rejected
           "  created_ms INTEGER NOT NULL,"
           "  record TEXT NOT NULL"
           ") WITHOUT ROWID",
           "CREATE TABLE evidence_holds ("
           "  id TEXT PRIMARY KEY NOT NULL,"
           "  case_reference TEXT NOT NULL,"
           "  legal_basis_ref TEXT NOT NULL REFERENCES legal_bases (reference),"
           "  approval_id TEXT NOT NULL REFERENCES approvals (id),"
           "  released_ms INTEGER NOT NULL DEFAULT 0,"
           "  record TEXT NOT NULL"
           ") WITHOUT ROWID",
           "CREATE TABLE hold_segments ("
           "  hold_id TEXT NOT NULL REFERENCES evidence_holds (id),"
           "  segment_id INTEGER NOT NULL,"  // SegmentIndex row id.
           "  set_hold INTEGER NOT NULL,"    // 1: this engine set the index's hold.
           "  PRIMARY KEY (hold_id, segment_id)"
           ") WITHOUT ROWID",
           "CREATE INDEX hold_segments_segment ON hold_segments (segment_id)",
           "CREATE TABLE retention_overrides ("
           "  camera TEXT NOT NULL,"
           "  kind TEXT NOT NULL,"  // video, events, snapshots
           "  max_age_ms INTEGER NOT NULL,"
           "  set_by TEXT NOT NULL,"
           "  set_ms INTEGER NOT NULL,"
           "  PRIMARY KEY (camera, kind)"
           ") WITHOUT ROWID",
           absl::StrCat("PRAGMA application_id = ", kApplicationId),
       }},
  };
  return *kMigrations;
}

absl::StatusOr<std::unique_ptr<PolicyEngine>> PolicyEngine::Create(
    const PolicyEngineOptions& options, const PolicyEngineDeps& deps) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError(
        "policy database path is empty; give one, such as DATA_DIR/policy.db");
  }
  if (options.busy_timeout_ms < 0) {
    return absl::InvalidArgumentError("busy_timeout_ms must not be negative");
  }
  if (options.approval_ttl_ms < 60'000 || options.approval_ttl_ms > 90 * 24 * kHourMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("approval_ttl_ms is ", options.approval_ttl_ms,
                     "; give between 60000 (1 minute) and 7776000000 (90 days)"));
  }
  if (deps.clock == nullptr || deps.auditor == nullptr) {
    return absl::InvalidArgumentError(
        "the policy engine needs a clock and an auditor: nothing changes without an audit record");
  }
  auto cache = std::make_unique<PolicyCache>();
  for (const CameraInfo& camera : options.cameras) {
    if (!ValidCameraId(camera.id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("camera id ", Quote(camera.id), " is not a camera id"));
    }
    cache->cameras[camera.id] = camera;
  }
  CUSTOS_ASSIGN_OR_RETURN(store::SqliteDb db, OpenDatabase(options));
  CUSTOS_RETURN_IF_ERROR(LoadCache(db.get(), options.path, *cache));
  return std::unique_ptr<PolicyEngine>(
      new PolicyEngine(options, deps, std::move(db), std::move(cache)));
}

PolicyEngine::PolicyEngine(const PolicyEngineOptions& options, const PolicyEngineDeps& deps,
                           store::SqliteDb db, std::unique_ptr<PolicyCache> cache)
    : options_(options),
      clock_(deps.clock),
      auditor_(deps.auditor),
      segments_(deps.segments),
      db_(std::move(db)),
      cache_(std::move(cache)) {}

PolicyEngine::~PolicyEngine() = default;

void PolicyEngine::UpdateCameras(std::vector<CameraInfo> cameras) {
  absl::MutexLock lock(&mu_);
  cache_->cameras.clear();
  for (CameraInfo& camera : cameras) {
    const std::string id = camera.id;
    cache_->cameras[id] = std::move(camera);
  }
}

// ---- Plumbing ----

PolicyChange PolicyEngine::MakeChange(const auth::Principal& actor, PolicyAction action,
                                      std::string_view object, std::string_view legal_basis_ref,
                                      std::string_view purpose) const {
  PolicyChange change;
  change.time_ms = clock_->WallMs();
  change.actor = actor.name;
  change.role = actor.role;
  change.action = action;
  change.object = std::string(object);
  change.legal_basis_ref = std::string(legal_basis_ref);
  change.purpose = std::string(purpose);
  return change;
}

absl::Status PolicyEngine::Commit(PolicyChange& change, const std::function<absl::Status()>& body) {
  CUSTOS_RETURN_IF_ERROR(store::Exec(db_.get(), "BEGIN IMMEDIATE", path()));
  absl::Status status = body();
  if (status.ok()) {
    change.result = PolicyResult::kOk;
    absl::Status audited = auditor_->Record(change);
    if (!audited.ok()) {
      status = absl::Status(
          audited.code(),
          absl::StrCat("the audit log did not accept the record of this change, so nothing was "
                       "changed; retry when the audit log is available (",
                       audited.message(), ")"));
    }
  }
  if (status.ok()) status = store::Exec(db_.get(), "COMMIT", path());
  if (!status.ok() && !sqlite3_get_autocommit(db_.get())) {
    store::Exec(db_.get(), "ROLLBACK", path()).IgnoreError();
  }
  return status;
}

absl::Status PolicyEngine::Refuse(const auth::Principal& actor, PolicyAction action,
                                  std::string_view object, std::string_view legal_basis_ref,
                                  std::string_view purpose, absl::Status refusal) {
  PolicyChange change = MakeChange(actor, action, object, legal_basis_ref, purpose);
  change.result = PolicyResult::kDenied;
  change.reason = std::string(refusal.message());
  if (!auditor_->Record(change).ok()) ++refusal_audit_failures_;
  return refusal;
}

absl::Status PolicyEngine::Authorize(const auth::Principal& actor, auth::Permission permission,
                                     PolicyAction action, std::string_view object) {
  absl::Status allowed = auth::Authenticator::Authorize(actor, permission);
  if (allowed.ok()) return allowed;
  return Refuse(actor, action, object, "", "", std::move(allowed));
}

absl::Status PolicyEngine::CheckCameraLocked(std::string_view camera,
                                             std::string_view field) const {
  if (!ValidCameraId(camera)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(field), " ", Quote(camera),
                     " is not a camera id: use 1 to 64 of a-z, 0-9, '_' and '-', as the "
                     "configuration does"));
  }
  if (!cache_->cameras.empty() && !cache_->cameras.contains(camera)) {
    std::vector<std::string> known;
    for (const auto& [id, info] : cache_->cameras) known.push_back(id);
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(field), " ", Quote(camera),
                     " is not a configured camera; known cameras: ", Join(known)));
  }
  return absl::OkStatus();
}

// ---- Legal bases ----

Decision PolicyEngine::CheckLegalBasisLocked(std::string_view reference, Act act,
                                             std::optional<std::string_view> camera,
                                             int64_t now_ms) const {
  const std::string act_text(ActDescription(act));
  if (reference.empty()) {
    return Deny(absl::StrCat(act_text,
                             " needs a legal basis: give the reference of the court order, "
                             "case or other legal basis (an administrator registers it in "
                             "Custos)"),
                "legal_basis.missing");
  }
  auto it = cache_->bases.find(reference);
  if (it == cache_->bases.end()) {
    return Deny(absl::StrCat("no legal basis with reference ", Quote(reference),
                             " is registered; check the reference, or ask an administrator to "
                             "register the legal basis first"),
                "legal_basis.unknown");
  }
  const LegalBasis& b = it->second;
  const std::string name = absl::StrCat("legal basis ", Quote(b.reference));
  if (b.revoked_ms != 0) {
    return Deny(absl::StrCat(name, " was revoked on ", FormatTime(b.revoked_ms), " by ",
                             b.revoked_by, " (", b.revoke_reason, "); give a legal basis in force"),
                "legal_basis.revoked");
  }
  if (now_ms < b.valid_from_ms) {
    return Deny(absl::StrCat(name, " is in force only from ", FormatTime(b.valid_from_ms),
                             "; wait until then or give a legal basis in force now"),
                "legal_basis.not_yet_valid");
  }
  if (now_ms >= b.expires_ms) {
    return Deny(absl::StrCat(name, " expired on ", FormatTime(b.expires_ms),
                             "; have it renewed and registered again, or give another"),
                "legal_basis.expired");
  }
  if (!b.scope.acts.empty() &&
      std::find(b.scope.acts.begin(), b.scope.acts.end(), act) == b.scope.acts.end()) {
    std::vector<std::string> covered;
    for (Act a : b.scope.acts) covered.emplace_back(ActDescription(a));
    return Deny(absl::StrCat(name, " covers only ", absl::StrJoin(covered, ", "), ", not ",
                             act_text, "; give a legal basis that covers it"),
                "legal_basis.out_of_scope");
  }
  if (!b.scope.cameras.empty() && camera.has_value()) {
    if (camera->empty()) {
      return Deny(absl::StrCat(name, " covers only cameras ", Join(b.scope.cameras),
                               "; limit the request to those cameras"),
                  "legal_basis.out_of_scope");
    }
    if (!Lists(b.scope.cameras, *camera)) {
      return Deny(
          absl::StrCat(name, " does not cover camera ", Quote(*camera), " (it covers only ",
                       Join(b.scope.cameras), "); give a legal basis that covers this camera"),
          "legal_basis.out_of_scope");
    }
  }
  return Allow(
      absl::StrCat(name, " (", Sv(LegalBasisTypeName(b.type)), ", issued by ", b.issuing_authority,
                   ") allows ", act_text, " until ", FormatTime(b.expires_ms)),
      "legal_basis.in_force");
}

Decision PolicyEngine::CheckLegalBasis(const auth::Principal& actor, std::string_view reference,
                                       Act act, std::string_view camera) {
  Decision decision;
  {
    absl::ReaderMutexLock lock(&mu_);
    decision = CheckLegalBasisLocked(reference, act, camera, clock_->WallMs());
  }
  if (!decision.allowed) {
    Refuse(actor, PolicyAction::kLegalBasisCheck,
           camera.empty() ? std::string(ActName(act))
                          : absl::StrCat(Sv(ActName(act)), " camera=", Sv(camera)),
           reference, ActName(act), absl::PermissionDeniedError(decision.reason))
        .IgnoreError();
  }
  return decision;
}

absl::StatusOr<LegalBasis> PolicyEngine::AddLegalBasis(const auth::Principal& actor,
                                                       const LegalBasis& basis) {
  CUSTOS_RETURN_IF_ERROR(Authorize(actor, auth::Permission::kManagePolicies,
                                   PolicyAction::kLegalBasisAdd, basis.reference));
  CUSTOS_RETURN_IF_ERROR(CheckText(basis.reference, "reference", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(
      CheckText(basis.issuing_authority, "issuing_authority", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(
      CheckText(basis.scope.description, "scope description", kMaxLongText, false, true));
  if (basis.scope.cameras.size() > kMaxListItems || basis.scope.acts.size() > kMaxListItems) {
    return absl::InvalidArgumentError(
        absl::StrCat("the scope lists too many cameras or acts; at most ", kMaxListItems));
  }
  CUSTOS_RETURN_IF_ERROR(CheckWindow(basis.valid_from_ms, basis.expires_ms, "the legal basis"));
  const int64_t now = clock_->WallMs();
  if (basis.expires_ms <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat("the legal basis expired on ", FormatTime(basis.expires_ms),
                     "; an expired legal basis cannot be registered"));
  }
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < basis.scope.cameras.size(); ++i) {
    CUSTOS_RETURN_IF_ERROR(
        CheckCameraLocked(basis.scope.cameras[i], absl::StrCat("scope camera ", i + 1)));
  }
  if (auto it = cache_->bases.find(basis.reference); it != cache_->bases.end()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "a legal basis with reference ", Quote(basis.reference), " was registered on ",
        FormatTime(it->second.created_ms), " by ", it->second.created_by,
        "; references are unique, even after revocation. Use that one or give another reference"));
  }
  LegalBasis stored = basis;
  stored.created_ms = now;
  stored.created_by = actor.name;
  stored.revoked_ms = 0;
  stored.revoked_by.clear();
  stored.revoke_reason.clear();
  const std::string record = Dump(BasisJson(stored));
  PolicyChange change = MakeChange(actor, PolicyAction::kLegalBasisAdd, stored.reference,
                                   stored.reference, LegalBasisTypeName(stored.type));
  change.details = record;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    return Run(db_.get(),
               "INSERT INTO legal_bases (reference, created_ms, record) VALUES (?, ?, ?)",
               {stored.reference, stored.created_ms, record}, path())
        .status();
  }));
  cache_->bases[stored.reference] = stored;
  return stored;
}

absl::Status PolicyEngine::RevokeLegalBasis(const auth::Principal& actor,
                                            std::string_view reference, std::string_view reason) {
  CUSTOS_RETURN_IF_ERROR(Authorize(actor, auth::Permission::kManagePolicies,
                                   PolicyAction::kLegalBasisRevoke, reference));
  CUSTOS_RETURN_IF_ERROR(CheckText(reference, "reference", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(CheckText(reason, "reason", kMaxLongText, true, true));
  absl::MutexLock lock(&mu_);
  auto it = cache_->bases.find(reference);
  if (it == cache_->bases.end()) {
    return absl::NotFoundError(
        absl::StrCat("no legal basis with reference ", Quote(reference), " is registered"));
  }
  if (it->second.revoked_ms != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("legal basis ", Quote(reference), " was already revoked on ",
                     FormatTime(it->second.revoked_ms), " by ", it->second.revoked_by));
  }
  LegalBasis updated = it->second;
  updated.revoked_ms = clock_->WallMs();
  updated.revoked_by = actor.name;
  updated.revoke_reason = std::string(reason);
  const std::string record = Dump(BasisJson(updated));
  PolicyChange change = MakeChange(actor, PolicyAction::kLegalBasisRevoke, reference, reference,
                                   LegalBasisTypeName(updated.type));
  change.reason = updated.revoke_reason;
  change.details = record;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    return Run(db_.get(), "UPDATE legal_bases SET revoked_ms = ?, record = ? WHERE reference = ?",
               {updated.revoked_ms, record, updated.reference}, path())
        .status();
  }));
  it->second = std::move(updated);
  return absl::OkStatus();
}

std::optional<LegalBasis> PolicyEngine::FindLegalBasis(std::string_view reference) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = cache_->bases.find(reference);
  if (it == cache_->bases.end()) return std::nullopt;
  return it->second;
}

std::vector<LegalBasis> PolicyEngine::ListLegalBases() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<LegalBasis> out;
  for (const auto& [ref, basis] : cache_->bases) out.push_back(basis);
  return out;
}

// ---- Face-recognition authorisations ----

absl::StatusOr<FaceAuthorisation> PolicyEngine::AddFaceAuthorisation(
    const auth::Principal& actor, const FaceAuthorisation& authorisation) {
  const FaceAuthorisation& a = authorisation;
  CUSTOS_RETURN_IF_ERROR(Authorize(actor, auth::Permission::kManagePolicies,
                                   PolicyAction::kFaceAuthorisationAdd, a.name));
  CUSTOS_RETURN_IF_ERROR(CheckText(a.name, "name", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(CheckText(a.legal_basis_ref, "legal_basis_ref", kMaxShortText, false));
  CUSTOS_RETURN_IF_ERROR(CheckText(a.approval_id, "approval_id", kMaxShortText, false));
  CUSTOS_RETURN_IF_ERROR(CheckText(a.issuing_authority, "issuing_authority", kMaxShortText, true));
  if (a.all_cameras == !a.cameras.empty()) {
    return absl::InvalidArgumentError(
        "give either all_cameras or a list of cameras for the authorisation, not both or "
        "neither");
  }
  if (a.cameras.size() > kMaxListItems) {
    return absl::InvalidArgumentError(absl::StrCat("the authorisation lists ", a.cameras.size(),
                                                   " cameras; at most ", kMaxListItems,
                                                   " (or use all_cameras)"));
  }
  CUSTOS_RETURN_IF_ERROR(CheckWindow(a.start_ms, a.end_ms, "the authorisation's window"));
  CUSTOS_RETURN_IF_ERROR(CheckTime(a.expires_ms, "expires_ms"));
  const int64_t now = clock_->WallMs();
  if (a.expires_ms <= a.start_ms || a.expires_ms <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat("the authorisation expires (", FormatTime(a.expires_ms),
                     ") before its window starts or in the past; give a later expiry"));
  }
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < a.cameras.size(); ++i) {
    CUSTOS_RETURN_IF_ERROR(CheckCameraLocked(a.cameras[i], absl::StrCat("camera ", i + 1)));
  }
  for (const auto& [id, existing] : cache_->faces) {
    if (existing.name == a.name) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a face-recognition authorisation named ", Quote(a.name), " exists already (added on ",
          FormatTime(existing.created_ms), "); names are unique, give another"));
    }
  }
  const std::string purpose(FacePurposeName(a.purpose));
  auto refuse = [&](const Decision& d) {
    return Refuse(actor, PolicyAction::kFaceAuthorisationAdd, a.name, a.legal_basis_ref, purpose,
                  absl::PermissionDeniedError(d.reason));
  };
  if (a.all_cameras) {
    Decision d = CheckLegalBasisLocked(a.legal_basis_ref, Act::kFaceRecognition, "", now);
    if (!d.allowed) return refuse(d);
  }
  for (const std::string& camera : a.cameras) {
    Decision d = CheckLegalBasisLocked(a.legal_basis_ref, Act::kFaceRecognition, camera, now);
    if (!d.allowed) return refuse(d);
  }
  Decision approval = CheckApprovalLocked(a.approval_id, ApprovalKind::kFaceAuthorisation, a.name,
                                          a.legal_basis_ref, now);
  if (!approval.allowed) return refuse(approval);

  FaceAuthorisation stored = a;
  stored.id = NewUlid(now);
  stored.created_ms = now;
  stored.created_by = actor.name;
  stored.revoked_ms = 0;
  stored.revoked_by.clear();
  stored.revoke_reason.clear();
  const std::string record = Dump(FaceJson(stored));
  PolicyChange change = MakeChange(actor, PolicyAction::kFaceAuthorisationAdd, stored.id,
                                   stored.legal_basis_ref, purpose);
  change.details = record;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    return Run(db_.get(),
               "INSERT INTO face_authorisations (id, name, legal_basis_ref, created_ms, record) "
               "VALUES (?, ?, ?, ?, ?)",
               {stored.id, stored.name, stored.legal_basis_ref, stored.created_ms, record}, path())
        .status();
  }));
  cache_->faces[stored.id] = stored;
  return stored;
}

absl::Status PolicyEngine::RevokeFaceAuthorisation(const auth::Principal& actor,
                                                   std::string_view id, std::string_view reason) {
  CUSTOS_RETURN_IF_ERROR(Authorize(actor, auth::Permission::kManagePolicies,
                                   PolicyAction::kFaceAuthorisationRevoke, id));
  CUSTOS_RETURN_IF_ERROR(CheckText(id, "id", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(CheckText(reason, "reason", kMaxLongText, true, true));
  absl::MutexLock lock(&mu_);
  auto it = cache_->faces.find(id);
  if (it == cache_->faces.end()) {
    return absl::NotFoundError(
        absl::StrCat("no face-recognition authorisation with id ", Quote(id)));
  }
  if (it->second.revoked_ms != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("face-recognition authorisation ", Quote(it->second.name),
                     " was already revoked on ", FormatTime(it->second.revoked_ms)));
  }
  FaceAuthorisation updated = it->second;
  updated.revoked_ms = clock_->WallMs();
  updated.revoked_by = actor.name;
  updated.revoke_reason = std::string(reason);
  const std::string record = Dump(FaceJson(updated));
  PolicyChange change = MakeChange(actor, PolicyAction::kFaceAuthorisationRevoke, updated.id,
                                   updated.legal_basis_ref, FacePurposeName(updated.purpose));
  change.reason = updated.revoke_reason;
  change.details = record;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    return Run(db_.get(), "UPDATE face_authorisations SET revoked_ms = ?, record = ? WHERE id = ?",
               {updated.revoked_ms, record, updated.id}, path())
        .status();
  }));
  it->second = std::move(updated);
  return absl::OkStatus();
}

std::vector<FaceAuthorisation> PolicyEngine::ListFaceAuthorisations() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<FaceAuthorisation> out;
  for (const auto& [id, a] : cache_->faces) out.push_back(a);
  return out;
}

Decision PolicyEngine::FaceRecognitionAllowed(const FaceQuery& query) const {
  absl::ReaderMutexLock lock(&mu_);
  const int64_t t = query.time_ms;
  const std::string& camera = query.camera;
  const std::string off = absl::StrCat("face recognition is off at camera ", Quote(camera), " on ",
                                       FormatTime(t), ": ");
  if (!ValidCameraId(camera)) {
    return Deny(absl::StrCat(off, "that is not a camera id"), "face.unknown_camera");
  }
  const CameraInfo* info = nullptr;
  if (auto it = cache_->cameras.find(camera); it != cache_->cameras.end()) info = &it->second;
  if (!cache_->cameras.empty() && info == nullptr) {
    return Deny(absl::StrCat(off,
                             "the camera is not in the configuration (and so not in the "
                             "public register)"),
                "face.unknown_camera");
  }

  // Protected assemblies first: they override every authorisation.
  for (const auto& [id, a] : cache_->assemblies) {
    if (a.revoked_ms != 0 || t < a.start_ms || t >= a.end_ms) continue;
    const std::string window = FormatWindow(a.start_ms, a.end_ms);
    const std::string name = absl::StrCat("protected assembly ", Quote(a.name));
    for (const AssemblyTarget& target : a.targets) {
      if (target.camera != camera) continue;
      if (target.zone.empty()) {
        return Deny(absl::StrCat(off, name, " (whole view, ", window, ")"),
                    "face.protected_assembly");
      }
      if (!query.zones) {
        return Deny(absl::StrCat(off, name, " (zone ", Quote(target.zone), ", ", window,
                                 "); ask per zone to run it outside the zone"),
                    "face.protected_assembly");
      }
      if (Lists(*query.zones, target.zone)) {
        return Deny(absl::StrCat(off, name, " (zone ", Quote(target.zone), ", ", window, ")"),
                    "face.protected_assembly");
      }
    }
    if (a.area) {
      if (info == nullptr || !info->location) {
        return Deny(absl::StrCat(off, name, " (area, ", window,
                                 "): the camera has no configured location, so it cannot be "
                                 "shown to lie outside the area"),
                    "face.protected_assembly");
      }
      if (InArea(*a.area, *info->location)) {
        return Deny(absl::StrCat(off, name, " (area, ", window, ")"), "face.protected_assembly");
      }
    }
  }

  // Then an authorisation in force. When none is, explain the nearest miss: the newest
  // authorisation that names this camera.
  std::string miss;
  for (const auto& [id, a] : cache_->faces) {
    if (!a.all_cameras && !Lists(a.cameras, camera)) continue;
    const std::string name = absl::StrCat("authorisation ", Quote(a.name));
    if (a.revoked_ms != 0) {
      miss = absl::StrCat(name, " was revoked on ", FormatTime(a.revoked_ms));
    } else if (t < a.start_ms) {
      miss = absl::StrCat(name, " starts on ", FormatTime(a.start_ms));
    } else if (t >= a.end_ms) {
      miss = absl::StrCat(name, " ended on ", FormatTime(a.end_ms));
    } else if (t >= a.expires_ms) {
      miss = absl::StrCat(name, " expired on ", FormatTime(a.expires_ms));
    } else {
      Decision basis = CheckLegalBasisLocked(a.legal_basis_ref, Act::kFaceRecognition, camera, t);
      if (!basis.allowed) {
        miss = absl::StrCat(name, ": ", basis.reason);
        continue;
      }
      int64_t until = std::min(a.end_ms, a.expires_ms);
      if (auto b = cache_->bases.find(a.legal_basis_ref); b != cache_->bases.end()) {
        until = std::min(until, b->second.expires_ms);
      }
      return Allow(
          absl::StrCat("face recognition is on at camera ", Quote(camera), " on ", FormatTime(t),
                       ": ", name, " (purpose ", Sv(FacePurposeName(a.purpose)), ", legal basis ",
                       Quote(a.legal_basis_ref), ", issued by ", a.issuing_authority, ") until ",
                       FormatTime(until)),
          "face.authorised");
    }
  }
  if (miss.empty()) {
    return Deny(absl::StrCat(off,
                             "no face-recognition authorisation covers this camera; face "
                             "recognition is off by default"),
                "face.no_authorisation");
  }
  return Deny(absl::StrCat(off, "no face-recognition authorisation is in force (", miss, ")"),
              "face.no_authorisation");
}

// ---- Protected assemblies ----

absl::StatusOr<ProtectedAssembly> PolicyEngine::AddProtectedAssembly(
    const auth::Principal& actor, const ProtectedAssembly& assembly) {
  const ProtectedAssembly& a = assembly;
  CUSTOS_RETURN_IF_ERROR(
      Authorize(actor, auth::Permission::kManagePolicies, PolicyAction::kAssemblyAdd, a.name));
  CUSTOS_RETURN_IF_ERROR(CheckText(a.name, "name", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(CheckWindow(a.start_ms, a.end_ms, "the assembly's window"));
  if (a.targets.empty() && !a.area) {
    return absl::InvalidArgumentError(
        "the assembly covers nothing; give cameras (optionally with a zone each) or an area");
  }
  if (a.targets.size() > kMaxListItems) {
    return absl::InvalidArgumentError(
        absl::StrCat("the assembly lists ", a.targets.size(), " cameras; at most ", kMaxListItems));
  }
  if (a.area) {
    const GeoArea& g = *a.area;
    if (g.circle_center.has_value() == !g.polygon.empty()) {
      return absl::InvalidArgumentError(
          "give the assembly's area as either a polygon or a circle, not both or neither");
    }
    if (g.circle_center) {
      CUSTOS_RETURN_IF_ERROR(CheckLocation(*g.circle_center, "the circle's centre"));
      if (!(g.circle_radius_m > 0 && g.circle_radius_m <= kMaxCircleRadiusM)) {
        return absl::InvalidArgumentError(absl::StrCat("the circle's radius is ", g.circle_radius_m,
                                                       " m; give more than 0 and at most ",
                                                       kMaxCircleRadiusM, " m"));
      }
    } else {
      if (g.polygon.size() < 3 || g.polygon.size() > kMaxListItems) {
        return absl::InvalidArgumentError(absl::StrCat("the area's polygon has ", g.polygon.size(),
                                                       " corners; give 3 to ", kMaxListItems));
      }
      for (size_t i = 0; i < g.polygon.size(); ++i) {
        CUSTOS_RETURN_IF_ERROR(CheckLocation(g.polygon[i], absl::StrCat("polygon corner ", i + 1)));
      }
    }
  }
  const int64_t now = clock_->WallMs();
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < a.targets.size(); ++i) {
    const AssemblyTarget& target = a.targets[i];
    CUSTOS_RETURN_IF_ERROR(CheckCameraLocked(target.camera, absl::StrCat("camera ", i + 1)));
    if (target.zone.empty()) continue;
    CUSTOS_RETURN_IF_ERROR(
        CheckText(target.zone, absl::StrCat("zone of camera ", i + 1), kMaxShortText, true));
    auto it = cache_->cameras.find(target.camera);
    if (it != cache_->cameras.end() && !Lists(it->second.zones, target.zone)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "camera ", Quote(target.camera), " has no zone ", Quote(target.zone),
          it->second.zones.empty() ? "; it has no zones, protect its whole view instead"
                                   : absl::StrCat("; its zones are ", Join(it->second.zones))));
    }
  }
  ProtectedAssembly stored = a;
  stored.id = NewUlid(now);
  stored.created_ms = now;
  stored.created_by = actor.name;
  stored.revoked_ms = 0;
  stored.revoked_by.clear();
  stored.revoke_reason.clear();
  const std::string record = Dump(AssemblyJson(stored));
  PolicyChange change =
      MakeChange(actor, PolicyAction::kAssemblyAdd, stored.id, "", AssemblyKindName(stored.kind));
  change.details = record;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    return Run(db_.get(),
               "INSERT INTO protected_assemblies (id, name, created_ms, record) VALUES (?, ?, ?, "
               "?)",
               {stored.id, stored.name, stored.created_ms, record}, path())
        .status();
  }));
  cache_->assemblies[stored.id] = stored;
  return stored;
}

absl::Status PolicyEngine::RevokeProtectedAssembly(const auth::Principal& actor,
                                                   std::string_view id, std::string_view reason) {
  CUSTOS_RETURN_IF_ERROR(
      Authorize(actor, auth::Permission::kManagePolicies, PolicyAction::kAssemblyRevoke, id));
  CUSTOS_RETURN_IF_ERROR(CheckText(id, "id", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(CheckText(reason, "reason", kMaxLongText, true, true));
  absl::MutexLock lock(&mu_);
  auto it = cache_->assemblies.find(id);
  if (it == cache_->assemblies.end()) {
    return absl::NotFoundError(absl::StrCat("no protected assembly with id ", Quote(id)));
  }
  if (it->second.revoked_ms != 0) {
    return absl::FailedPreconditionError(absl::StrCat("protected assembly ", Quote(it->second.name),
                                                      " was already revoked on ",
                                                      FormatTime(it->second.revoked_ms)));
  }
  ProtectedAssembly updated = it->second;
  updated.revoked_ms = clock_->WallMs();
  updated.revoked_by = actor.name;
  updated.revoke_reason = std::string(reason);
  const std::string record = Dump(AssemblyJson(updated));
  PolicyChange change = MakeChange(actor, PolicyAction::kAssemblyRevoke, updated.id, "",
                                   AssemblyKindName(updated.kind));
  change.reason = updated.revoke_reason;
  change.details = record;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    return Run(db_.get(), "UPDATE protected_assemblies SET revoked_ms = ?, record = ? WHERE id = ?",
               {updated.revoked_ms, record, updated.id}, path())
        .status();
  }));
  it->second = std::move(updated);
  return absl::OkStatus();
}

std::vector<ProtectedAssembly> PolicyEngine::ListProtectedAssemblies() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<ProtectedAssembly> out;
  for (const auto& [id, a] : cache_->assemblies) out.push_back(a);
  return out;
}

// ---- Four-eyes approvals ----

absl::StatusOr<ApprovalRequest> PolicyEngine::RequestApproval(const auth::Principal& requester,
                                                              const ApprovalRequestSpec& spec) {
  const std::string kind(ApprovalKindName(spec.kind));
  CUSTOS_RETURN_IF_ERROR(Authorize(requester, RequestPermission(spec.kind),
                                   PolicyAction::kApprovalRequest, spec.object_id));
  CUSTOS_RETURN_IF_ERROR(CheckText(spec.object_id, "object_id", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(CheckText(spec.legal_basis_ref, "legal_basis_ref", kMaxShortText, false));
  CUSTOS_RETURN_IF_ERROR(CheckText(spec.reason, "reason", kMaxLongText, true, true));
  const int64_t now = clock_->WallMs();
  absl::MutexLock lock(&mu_);
  if (!spec.camera.empty()) CUSTOS_RETURN_IF_ERROR(CheckCameraLocked(spec.camera, "camera"));
  Decision basis = CheckLegalBasisLocked(spec.legal_basis_ref, ActOf(spec.kind),
                                         RequestCamera(spec.camera), now);
  if (!basis.allowed) {
    return Refuse(requester, PolicyAction::kApprovalRequest, spec.object_id, spec.legal_basis_ref,
                  kind, absl::PermissionDeniedError(basis.reason));
  }
  ApprovalRequest request;
  request.id = NewUlid(now);
  request.spec = spec;
  request.requester = requester.name;
  request.requester_user_id = requester.user_id;
  request.created_ms = now;
  request.expires_ms = now + options_.approval_ttl_ms;
  request.status = ApprovalStatus::kPending;
  const std::string record = Dump(ApprovalJson(request));
  PolicyChange change =
      MakeChange(requester, PolicyAction::kApprovalRequest, request.id, spec.legal_basis_ref, kind);
  change.reason = spec.reason;
  change.details = record;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    return Run(db_.get(),
               "INSERT INTO approvals (id, kind, object_id, legal_basis_ref, status, created_ms, "
               "record) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
               {request.id, kind, spec.object_id, spec.legal_basis_ref, now, record}, path())
        .status();
  }));
  cache_->approvals[request.id] = request;
  return request;
}

absl::StatusOr<ApprovalRequest> PolicyEngine::Approve(const auth::Principal& approver,
                                                      std::string_view request_id) {
  return Decide(approver, request_id, true, "");
}

absl::StatusOr<ApprovalRequest> PolicyEngine::Reject(const auth::Principal& approver,
                                                     std::string_view request_id,
                                                     std::string_view reason) {
  CUSTOS_RETURN_IF_ERROR(CheckText(reason, "reason", kMaxLongText, true, true));
  return Decide(approver, request_id, false, reason);
}

absl::StatusOr<ApprovalRequest> PolicyEngine::Decide(const auth::Principal& approver,
                                                     std::string_view request_id, bool approve,
                                                     std::string_view reason) {
  const PolicyAction action =
      approve ? PolicyAction::kApprovalApprove : PolicyAction::kApprovalReject;
  CUSTOS_RETURN_IF_ERROR(CheckText(request_id, "request id", kMaxShortText, true));
  const int64_t now = clock_->WallMs();
  absl::MutexLock lock(&mu_);
  auto it = cache_->approvals.find(request_id);
  if (it == cache_->approvals.end()) {
    return absl::NotFoundError(absl::StrCat("no approval request with id ", Quote(request_id)));
  }
  const ApprovalRequest& request = it->second;
  const std::string kind(ApprovalKindName(request.spec.kind));
  auto refuse = [&](absl::Status status) {
    return Refuse(approver, action, request.id, request.spec.legal_basis_ref, kind,
                  std::move(status));
  };
  const auth::Permission permission = ApprovePermission(request.spec.kind);
  if (absl::Status allowed = auth::Authenticator::Authorize(approver, permission); !allowed.ok()) {
    return refuse(absl::Status(
        allowed.code(),
        absl::StrCat(allowed.message(), "; a supervisor must decide this ", kind, " request")));
  }
  if (!IsUser(approver)) {
    return refuse(absl::PermissionDeniedError(
        "four eyes rest on people: an API token cannot decide approval requests; log in as a "
        "supervisor"));
  }
  if (SamePerson(approver, request)) {
    return refuse(absl::PermissionDeniedError(
        absl::StrCat("you made this request yourself; four eyes: a different supervisor must ",
                     approve ? "approve" : "reject", " it")));
  }
  if (request.status != ApprovalStatus::kPending) {
    return refuse(absl::FailedPreconditionError(absl::StrCat(
        "request ", request.id, " was already ", Sv(ApprovalStatusName(request.status)), " by ",
        request.decided_by, " on ", FormatTime(request.decided_ms),
        "; a request is decided once. Ask for a new request if needed")));
  }
  if (now >= request.expires_ms) {
    return refuse(absl::FailedPreconditionError(
        absl::StrCat("request ", request.id, " expired on ", FormatTime(request.expires_ms),
                     " without a decision; ask ", request.requester, " to make a new one")));
  }
  if (approve) {
    Decision basis = CheckLegalBasisLocked(request.spec.legal_basis_ref, ActOf(request.spec.kind),
                                           RequestCamera(request.spec.camera), now);
    if (!basis.allowed) {
      return refuse(absl::PermissionDeniedError(
          absl::StrCat("the request cannot be approved: ", basis.reason)));
    }
  }
  ApprovalRequest updated = request;
  updated.status = approve ? ApprovalStatus::kApproved : ApprovalStatus::kRejected;
  updated.decided_by = approver.name;
  updated.decided_ms = now;
  updated.decision_reason = std::string(reason);
  const std::string record = Dump(ApprovalJson(updated));
  PolicyChange change =
      MakeChange(approver, action, updated.id, updated.spec.legal_basis_ref, kind);
  change.reason = updated.decision_reason;
  change.details = record;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    CUSTOS_ASSIGN_OR_RETURN(
        const int64_t changed,
        Run(db_.get(),
            "UPDATE approvals SET status = ?, record = ? WHERE id = ? AND status = 'pending'",
            {std::string(ApprovalStatusName(updated.status)), record, updated.id}, path()));
    if (changed != 1) {
      return absl::AbortedError(
          absl::StrCat("request ", updated.id, " was decided by another process meanwhile"));
    }
    return absl::OkStatus();
  }));
  it->second = updated;
  return updated;
}

absl::StatusOr<ApprovalRequest> PolicyEngine::Status(std::string_view request_id) const {
  const int64_t now = clock_->WallMs();
  absl::ReaderMutexLock lock(&mu_);
  auto it = cache_->approvals.find(request_id);
  if (it == cache_->approvals.end()) {
    return absl::NotFoundError(absl::StrCat("no approval request with id ", Quote(request_id)));
  }
  ApprovalRequest request = it->second;
  if (request.status == ApprovalStatus::kPending && now >= request.expires_ms) {
    request.status = ApprovalStatus::kExpired;
  }
  return request;
}

std::vector<ApprovalRequest> PolicyEngine::ListApprovals(
    std::optional<ApprovalStatus> status) const {
  const int64_t now = clock_->WallMs();
  absl::ReaderMutexLock lock(&mu_);
  std::vector<ApprovalRequest> out;
  for (const auto& [id, stored] : cache_->approvals) {
    ApprovalRequest request = stored;
    if (request.status == ApprovalStatus::kPending && now >= request.expires_ms) {
      request.status = ApprovalStatus::kExpired;
    }
    if (!status || request.status == *status) out.push_back(std::move(request));
  }
  return out;
}

Decision PolicyEngine::CheckApprovalLocked(std::string_view request_id, ApprovalKind kind,
                                           std::string_view object_id,
                                           std::string_view legal_basis_ref, int64_t now_ms) const {
  const std::string kind_name(ApprovalKindName(kind));
  if (request_id.empty()) {
    return Deny(
        absl::StrCat("this needs a four-eyes approval: request one (kind ", kind_name, ", object ",
                     Quote(object_id), ") and have a different supervisor approve it"),
        "approval.missing");
  }
  auto it = cache_->approvals.find(request_id);
  if (it == cache_->approvals.end()) {
    return Deny(absl::StrCat("no approval request with id ", Quote(request_id),
                             "; check the id, or request an approval"),
                "approval.unknown");
  }
  const ApprovalRequest& r = it->second;
  const std::string name = absl::StrCat("approval request ", r.id);
  if (r.spec.kind != kind) {
    return Deny(absl::StrCat(name, " is for a ", Sv(ApprovalKindName(r.spec.kind)), ", not a ",
                             kind_name, "; request an approval of kind ", kind_name),
                "approval.mismatch");
  }
  if (r.spec.object_id != object_id) {
    return Deny(absl::StrCat(name, " approves ", Quote(r.spec.object_id), ", not ",
                             Quote(object_id), "; request an approval for this one"),
                "approval.mismatch");
  }
  if (!legal_basis_ref.empty() && r.spec.legal_basis_ref != legal_basis_ref) {
    return Deny(absl::StrCat(name, " was made under legal basis ", Quote(r.spec.legal_basis_ref),
                             ", not ", Quote(legal_basis_ref), "; use the same legal basis"),
                "approval.mismatch");
  }
  if (r.status == ApprovalStatus::kRejected) {
    return Deny(absl::StrCat(name, " was rejected by ", r.decided_by, " on ",
                             FormatTime(r.decided_ms), ": ", r.decision_reason),
                "approval.rejected");
  }
  if (r.status == ApprovalStatus::kPending) {
    if (now_ms >= r.expires_ms) {
      return Deny(absl::StrCat(name, " expired on ", FormatTime(r.expires_ms),
                               " without a decision; request a new approval"),
                  "approval.expired");
    }
    return Deny(absl::StrCat(name, " is still waiting for a supervisor's decision"),
                "approval.pending");
  }
  Decision basis = CheckLegalBasisLocked(r.spec.legal_basis_ref, ActOf(r.spec.kind),
                                         RequestCamera(r.spec.camera), now_ms);
  if (!basis.allowed) {
    return Deny(absl::StrCat(name, " was approved, but ", basis.reason), basis.rule_id);
  }
  return Allow(absl::StrCat(name, " (", kind_name, " ", Quote(r.spec.object_id),
                            ") was approved by ", r.decided_by, " on ", FormatTime(r.decided_ms)),
               "approval.approved");
}

Decision PolicyEngine::CheckApproval(std::string_view request_id, ApprovalKind kind,
                                     std::string_view object_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return CheckApprovalLocked(request_id, kind, object_id, "", clock_->WallMs());
}

// ---- Retention overrides ----

absl::Status PolicyEngine::SetRetention(const auth::Principal& actor, std::string_view camera,
                                        retention::DataKind kind, int64_t max_age_ms) {
  const std::string object =
      absl::StrCat(Sv(camera.substr(0, 64)), "/", retention::DataKindName(kind));
  CUSTOS_RETURN_IF_ERROR(
      Authorize(actor, auth::Permission::kManagePolicies, PolicyAction::kRetentionSet, object));
  if (max_age_ms < kMinRetentionMs || max_age_ms > kMaxRetentionMs) {
    return absl::InvalidArgumentError(absl::StrCat("max_age_ms is ", max_age_ms, "; give between ",
                                                   kMinRetentionMs, " (1 hour) and ",
                                                   kMaxRetentionMs, " (10 years)"));
  }
  absl::MutexLock lock(&mu_);
  CUSTOS_RETURN_IF_ERROR(CheckCameraLocked(camera, "camera"));
  retention::CameraRetention updated;
  if (auto it = cache_->retention.find(std::string(camera)); it != cache_->retention.end()) {
    updated = it->second;
  }
  switch (kind) {
    case retention::DataKind::kVideo:
      updated.video_max_age_ms = max_age_ms;
      break;
    case retention::DataKind::kEvents:
      updated.events_max_age_ms = max_age_ms;
      break;
    case retention::DataKind::kSnapshots:
      updated.snapshots_max_age_ms = max_age_ms;
      break;
  }
  if (updated.snapshots_max_age_ms && updated.events_max_age_ms &&
      *updated.snapshots_max_age_ms > *updated.events_max_age_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshots of camera ", Quote(camera), " would be kept longer (",
                     *updated.snapshots_max_age_ms, " ms) than their events (",
                     *updated.events_max_age_ms, " ms); a snapshot never outlives its event"));
  }
  const int64_t now = clock_->WallMs();
  PolicyChange change = MakeChange(actor, PolicyAction::kRetentionSet, object, "", "");
  change.details = Dump(json{
      {"camera", camera}, {"kind", retention::DataKindName(kind)}, {"max_age_ms", max_age_ms}});
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    return Run(db_.get(),
               "INSERT INTO retention_overrides (camera, kind, max_age_ms, set_by, set_ms) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT (camera, kind) DO UPDATE SET "
               "max_age_ms = excluded.max_age_ms, set_by = excluded.set_by, "
               "set_ms = excluded.set_ms",
               {std::string(camera), std::string(retention::DataKindName(kind)), max_age_ms,
                actor.name, now},
               path())
        .status();
  }));
  cache_->retention[std::string(camera)] = updated;
  return absl::OkStatus();
}

absl::Status PolicyEngine::ClearRetention(const auth::Principal& actor, std::string_view camera,
                                          retention::DataKind kind) {
  const std::string object =
      absl::StrCat(Sv(camera.substr(0, 64)), "/", retention::DataKindName(kind));
  CUSTOS_RETURN_IF_ERROR(
      Authorize(actor, auth::Permission::kManagePolicies, PolicyAction::kRetentionClear, object));
  absl::MutexLock lock(&mu_);
  if (!ValidCameraId(camera)) return CheckCameraLocked(camera, "camera");
  auto it = cache_->retention.find(std::string(camera));
  std::optional<int64_t>* field = nullptr;
  if (it != cache_->retention.end()) {
    switch (kind) {
      case retention::DataKind::kVideo:
        field = &it->second.video_max_age_ms;
        break;
      case retention::DataKind::kEvents:
        field = &it->second.events_max_age_ms;
        break;
      case retention::DataKind::kSnapshots:
        field = &it->second.snapshots_max_age_ms;
        break;
    }
  }
  if (field == nullptr || !field->has_value()) {
    return absl::NotFoundError(absl::StrCat("camera ", Quote(camera), " has no ",
                                            retention::DataKindName(kind),
                                            " retention override to clear"));
  }
  PolicyChange change = MakeChange(actor, PolicyAction::kRetentionClear, object, "", "");
  change.details = Dump(json{{"camera", camera}, {"kind", retention::DataKindName(kind)}});
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    return Run(db_.get(), "DELETE FROM retention_overrides WHERE camera = ? AND kind = ?",
               {std::string(camera), std::string(retention::DataKindName(kind))}, path())
        .status();
  }));
  field->reset();
  const retention::CameraRetention& r = it->second;
  if (!r.video_max_age_ms && !r.events_max_age_ms && !r.snapshots_max_age_ms) {
    cache_->retention.erase(it);
  }
  return absl::OkStatus();
}

std::map<std::string, retention::CameraRetention> PolicyEngine::RetentionOverrides() const {
  absl::ReaderMutexLock lock(&mu_);
  return cache_->retention;
}

// ---- Evidence holds ----

absl::StatusOr<EvidenceHold> PolicyEngine::PlaceEvidenceHold(const auth::Principal& actor,
                                                             const EvidenceHoldSpec& spec) {
  CUSTOS_RETURN_IF_ERROR(Authorize(actor, auth::Permission::kPlayback,
                                   PolicyAction::kEvidenceHoldPlace, spec.case_reference));
  CUSTOS_RETURN_IF_ERROR(CheckText(spec.case_reference, "case_reference", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(CheckText(spec.legal_basis_ref, "legal_basis_ref", kMaxShortText, false));
  CUSTOS_RETURN_IF_ERROR(CheckText(spec.approval_id, "approval_id", kMaxShortText, false));
  const bool by_range = !spec.camera.empty();
  if (by_range == !spec.segment_ids.empty()) {
    return absl::InvalidArgumentError(
        "give either segment ids or a camera with a time range to hold, not both or neither");
  }
  if (spec.segment_ids.size() > kMaxSegments) {
    return absl::InvalidArgumentError(absl::StrCat("the hold lists ", spec.segment_ids.size(),
                                                   " segments; at most ", kMaxSegments));
  }
  for (int64_t id : spec.segment_ids) {
    if (id <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("segment id ", id, " is not a segment id; ids are positive"));
    }
  }
  const int64_t now = clock_->WallMs();
  if (by_range) {
    CUSTOS_RETURN_IF_ERROR(CheckWindow(spec.from_ms, spec.to_ms, "the time range"));
    if (spec.to_ms > now) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the time range ends in the future (", FormatTime(spec.to_ms),
          "); a hold covers footage already recorded: end the range now or earlier and place "
          "another hold later"));
    }
  }
  if (segments_ == nullptr) {
    return absl::FailedPreconditionError(
        "this server has no recordings index, so there is nothing to hold");
  }
  absl::MutexLock lock(&mu_);
  if (by_range) CUSTOS_RETURN_IF_ERROR(CheckCameraLocked(spec.camera, "camera"));
  auto refuse = [&](const Decision& d) {
    return Refuse(actor, PolicyAction::kEvidenceHoldPlace, spec.case_reference,
                  spec.legal_basis_ref, spec.case_reference, absl::PermissionDeniedError(d.reason));
  };
  // A missing legal basis is the first thing to tell the user, before the approval.
  if (spec.legal_basis_ref.empty()) {
    return refuse(CheckLegalBasisLocked("", Act::kEvidenceHold, spec.camera, now));
  }
  Decision approval = CheckApprovalLocked(spec.approval_id, ApprovalKind::kEvidenceHold,
                                          spec.case_reference, spec.legal_basis_ref, now);
  if (!approval.allowed) return refuse(approval);

  std::vector<record::Segment> segments;
  if (by_range) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<record::Segment> overlapping,
                            segments_->Overlapping(spec.camera, spec.from_ms, spec.to_ms));
    for (record::Segment& s : overlapping) {
      // Half-open: [start, end) overlaps [from, to).
      const bool open = s.state == record::SegmentState::kOpen;
      if (s.start_ms < spec.to_ms && (open || s.end_ms > spec.from_ms)) {
        segments.push_back(std::move(s));
      }
    }
    if (segments.empty()) {
      return absl::NotFoundError(
          absl::StrCat("camera ", Quote(spec.camera), " has no recordings between ",
                       FormatTime(spec.from_ms), " and ", FormatTime(spec.to_ms)));
    }
  } else {
    std::set<int64_t> wanted(spec.segment_ids.begin(), spec.segment_ids.end());
    CUSTOS_ASSIGN_OR_RETURN(std::vector<record::Segment> all, segments_->All());
    for (record::Segment& s : all) {
      if (wanted.erase(s.id) > 0) segments.push_back(std::move(s));
    }
    if (!wanted.empty()) {
      std::vector<std::string> missing;
      for (int64_t id : wanted) missing.push_back(absl::StrCat(id));
      return absl::NotFoundError(absl::StrCat("no recorded segments with ids ",
                                              absl::StrJoin(missing, ", "),
                                              " (deleted by retention, or never recorded)"));
    }
  }
  for (const record::Segment& s : segments) {
    Decision basis = CheckLegalBasisLocked(spec.legal_basis_ref, Act::kEvidenceHold, s.camera, now);
    if (!basis.allowed) return refuse(basis);
  }

  EvidenceHold hold;
  hold.id = NewUlid(now);
  hold.spec = spec;
  hold.placed_ms = now;
  hold.placed_by = actor.name;
  for (const record::Segment& s : segments) hold.segments.push_back(s.id);
  const std::string record = Dump(HoldJson(hold));
  const std::string hold_reason = absl::StrCat("case ", spec.case_reference, "; legal basis ",
                                               spec.legal_basis_ref, "; hold ", hold.id);
  PolicyChange change = MakeChange(actor, PolicyAction::kEvidenceHoldPlace, hold.id,
                                   spec.legal_basis_ref, spec.case_reference);
  change.details = record;
  // Holds are set in the index before the commit: if anything fails after, they are undone,
  // and if undoing fails the footage stays held, which errs on the side of keeping it.
  std::vector<int64_t> newly_held;
  absl::Status status = Commit(change, [&]() -> absl::Status {
    CUSTOS_RETURN_IF_ERROR(
        Run(db_.get(),
            "INSERT INTO evidence_holds (id, case_reference, legal_basis_ref, "
            "approval_id, record) VALUES (?, ?, ?, ?, ?)",
            {hold.id, spec.case_reference, spec.legal_basis_ref, spec.approval_id, record}, path())
            .status());
    for (const record::Segment& s : segments) {
      const bool set_hold = !s.evidence_hold;
      CUSTOS_RETURN_IF_ERROR(Run(db_.get(),
                                 "INSERT INTO hold_segments (hold_id, segment_id, set_hold) "
                                 "VALUES (?, ?, ?)",
                                 {hold.id, s.id, int64_t{set_hold ? 1 : 0}}, path())
                                 .status());
      if (!set_hold) continue;
      CUSTOS_RETURN_IF_ERROR(segments_->SetEvidenceHold(s.id, true, hold_reason));
      newly_held.push_back(s.id);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    for (int64_t id : newly_held) segments_->SetEvidenceHold(id, false).IgnoreError();
    return status;
  }
  cache_->policy_held.insert(newly_held.begin(), newly_held.end());
  cache_->holds[hold.id] = hold;
  return hold;
}

absl::Status PolicyEngine::ReleaseEvidenceHold(const auth::Principal& actor,
                                               std::string_view hold_id, std::string_view reason) {
  CUSTOS_RETURN_IF_ERROR(Authorize(actor, auth::Permission::kEvidenceHold,
                                   PolicyAction::kEvidenceHoldRelease, hold_id));
  CUSTOS_RETURN_IF_ERROR(CheckText(hold_id, "hold id", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(CheckText(reason, "reason", kMaxLongText, true, true));
  absl::MutexLock lock(&mu_);
  auto it = cache_->holds.find(hold_id);
  if (it == cache_->holds.end()) {
    return absl::NotFoundError(absl::StrCat("no evidence hold with id ", Quote(hold_id)));
  }
  if (it->second.released_ms != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("evidence hold ", it->second.id, " was already released on ",
                     FormatTime(it->second.released_ms), " by ", it->second.released_by));
  }
  if (segments_ == nullptr) {
    return absl::FailedPreconditionError(
        "this server has no recordings index, so no hold can be released");
  }
  EvidenceHold updated = it->second;
  updated.released_ms = clock_->WallMs();
  updated.released_by = actor.name;
  updated.release_reason = std::string(reason);
  // A segment is released in the index only when this engine set its hold and no other hold
  // in force keeps it.
  std::set<int64_t> kept;
  for (const auto& [id, other] : cache_->holds) {
    if (id == updated.id || other.released_ms != 0) continue;
    kept.insert(other.segments.begin(), other.segments.end());
  }
  std::vector<int64_t> to_release;
  for (int64_t segment : updated.segments) {
    if (!kept.contains(segment) && cache_->policy_held.contains(segment)) {
      to_release.push_back(segment);
    }
  }
  const std::string record = Dump(HoldJson(updated));
  PolicyChange change = MakeChange(actor, PolicyAction::kEvidenceHoldRelease, updated.id,
                                   updated.spec.legal_basis_ref, updated.spec.case_reference);
  change.reason = updated.release_reason;
  change.details = record;
  const absl::Status committed = Commit(change, [&]() -> absl::Status {
    CUSTOS_RETURN_IF_ERROR(Run(db_.get(),
                               "UPDATE evidence_holds SET released_ms = ?, record = ? WHERE id = ?",
                               {updated.released_ms, record, updated.id}, path())
                               .status());
    for (int64_t segment : to_release) {
      CUSTOS_RETURN_IF_ERROR(Run(db_.get(),
                                 "UPDATE hold_segments SET set_hold = 0 WHERE segment_id = ?",
                                 {segment}, path())
                                 .status());
    }
    return absl::OkStatus();
  });
  if (!committed.ok()) return committed;
  it->second = std::move(updated);
  // The index is released after the commit: a failure leaves footage held longer than the
  // policy says (never shorter), and is reported.
  std::vector<std::string> failed;
  for (int64_t segment : to_release) {
    cache_->policy_held.erase(segment);
    absl::Status released = segments_->SetEvidenceHold(segment, false);
    if (!released.ok() && !absl::IsNotFound(released)) {
      failed.push_back(absl::StrCat(segment, " (", released.message(), ")"));
    }
  }
  if (!failed.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "the hold was released, but the recordings index still holds segments ",
        absl::StrJoin(failed, ", "), "; they are kept until an operator clears their hold"));
  }
  return absl::OkStatus();
}

std::vector<EvidenceHold> PolicyEngine::ListEvidenceHolds() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<EvidenceHold> out;
  for (const auto& [id, hold] : cache_->holds) out.push_back(hold);
  return out;
}

}  // namespace custos::policy
