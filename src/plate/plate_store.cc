#include "plate/plate_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "nlohmann/json.hpp"
#include "plate/plate_match.h"
#include "policy/policy_types.h"

namespace custos::plate {
namespace {

using json = nlohmann::json;
using policy::PolicyAction;

// PRAGMA application_id of a Custos plate database: "CSPL".
constexpr int64_t kApplicationId = 0x4353504C;
constexpr int64_t kMaxQueryRows = 200'000;  // Rows scanned by one query at most.

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Confidences are kept as integers of 1/10000 (the audit log takes no floating point).
int64_t E4(float value) { return static_cast<int64_t>(value * 10000.0f + 0.5f); }
float FromE4(int64_t value) { return static_cast<float>(value) / 10000.0f; }

json ReadJson(const StoredRead& r) {
  json candidates = json::array();
  for (const PlateCandidate& c : r.candidates) {
    candidates.push_back({{"text", c.text}, {"confidence_e4", E4(c.confidence)}});
  }
  return json{{"id", r.id},
              {"camera", r.camera},
              {"time_ms", r.time_ms},
              {"plate", r.plate},
              {"confidence_e4", E4(r.confidence)},
              {"candidates", std::move(candidates)},
              {"label", r.label},
              {"track_id", r.track_id},
              {"frames", r.frames},
              {"box",
               {static_cast<int64_t>(r.box.x), static_cast<int64_t>(r.box.y),
                static_cast<int64_t>(r.box.w), static_cast<int64_t>(r.box.h)}},
              {"expires_ms", r.expires_ms}};
}

StoredRead ReadFrom(const json& j) {
  StoredRead r;
  r.id = j.at("id").get<std::string>();
  r.camera = j.at("camera").get<std::string>();
  r.time_ms = j.at("time_ms").get<int64_t>();
  r.plate = j.at("plate").get<std::string>();
  r.confidence = FromE4(j.at("confidence_e4").get<int64_t>());
  for (const json& c : j.at("candidates")) {
    r.candidates.push_back(
        {c.at("text").get<std::string>(), FromE4(c.at("confidence_e4").get<int64_t>())});
  }
  r.label = j.at("label").get<std::string>();
  r.track_id = j.at("track_id").get<int64_t>();
  r.frames = j.at("frames").get<int>();
  const json& box = j.at("box");
  r.box = BoxF{box.at(0).get<float>(), box.at(1).get<float>(), box.at(2).get<float>(),
               box.at(3).get<float>()};
  r.expires_ms = j.at("expires_ms").get<int64_t>();
  return r;
}

json HitJson(const StoredHit& h) {
  return json{{"id", h.id},
              {"read", ReadJson(h.read)},
              {"entry_id", h.entry_id},
              {"entry_plate", h.entry_plate},
              {"entry_label", h.entry_label},
              {"legal_basis_ref", h.legal_basis_ref},
              {"distance", h.distance},
              {"status", std::string(HitStatusName(h.status))},
              {"decided_by", h.decided_by},
              {"decided_ms", h.decided_ms},
              {"note", h.note},
              {"keep_until_ms", h.keep_until_ms}};
}

StoredHit HitFrom(const json& j) {
  StoredHit h;
  h.id = j.at("id").get<std::string>();
  h.read = ReadFrom(j.at("read"));
  h.entry_id = j.at("entry_id").get<std::string>();
  h.entry_plate = j.at("entry_plate").get<std::string>();
  h.entry_label = j.at("entry_label").get<std::string>();
  h.legal_basis_ref = j.at("legal_basis_ref").get<std::string>();
  h.distance = j.at("distance").get<int>();
  const auto status = HitStatusFromName(j.at("status").get<std::string>());
  if (!status) throw std::runtime_error("unknown hit status");
  h.status = *status;
  h.decided_by = j.at("decided_by").get<std::string>();
  h.decided_ms = j.at("decided_ms").get<int64_t>();
  h.note = j.at("note").get<std::string>();
  h.keep_until_ms = j.at("keep_until_ms").get<int64_t>();
  return h;
}

template <typename T, typename F>
absl::StatusOr<T> Parse(const std::string& text, const std::string& path, F from) {
  try {
    return from(json::parse(text));
  } catch (const std::exception& ex) {
    return absl::DataLossError(absl::StrCat("plate database ", path, ": a record cannot be read (",
                                            ex.what(), "); restore the file from a backup"));
  }
}

bool LooksLikeJpeg(std::string_view bytes) {
  return bytes.size() > 4 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
         static_cast<unsigned char>(bytes[1]) == 0xD8 &&
         static_cast<unsigned char>(bytes[bytes.size() - 2]) == 0xFF &&
         static_cast<unsigned char>(bytes[bytes.size() - 1]) == 0xD9;
}

const std::vector<store::Migration>& Migrations() {
  static const auto* kMigrations = new std::vector<store::Migration>{
      {1,
       {
           // record: the read or hit as JSON without the crop; crop: the JPEG, base64.
           "CREATE TABLE reads ("
           "  id TEXT PRIMARY KEY,"
           "  camera TEXT NOT NULL,"
           "  time_ms INTEGER NOT NULL,"
           "  plate TEXT NOT NULL,"
           "  expires_ms INTEGER NOT NULL,"
           "  record TEXT NOT NULL,"
           "  crop TEXT NOT NULL"
           ") WITHOUT ROWID",
           "CREATE INDEX reads_time ON reads (time_ms)",
           "CREATE INDEX reads_expiry ON reads (expires_ms)",
           "CREATE TABLE hits ("
           "  id TEXT PRIMARY KEY,"
           "  camera TEXT NOT NULL,"
           "  time_ms INTEGER NOT NULL,"
           "  status TEXT NOT NULL,"
           "  keep_until_ms INTEGER NOT NULL,"
           "  record TEXT NOT NULL,"
           "  crop TEXT NOT NULL"
           ") WITHOUT ROWID",
           "CREATE INDEX hits_time ON hits (time_ms)",
           absl::StrCat("PRAGMA application_id = ", kApplicationId),
       }},
  };
  return *kMigrations;
}

absl::Status CheckCrop(std::string_view crop, size_t max_bytes) {
  if (crop.empty()) return absl::OkStatus();
  if (!LooksLikeJpeg(crop)) return absl::InvalidArgumentError("plate crop is not a JPEG");
  if (crop.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("plate crop is ", crop.size(), " bytes; at most ", max_bytes));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view HitStatusName(HitStatus status) {
  switch (status) {
    case HitStatus::kLead:
      return "lead";
    case HitStatus::kConfirmed:
      return "confirmed";
    case HitStatus::kRejected:
      return "rejected";
  }
  return "lead";
}

std::optional<HitStatus> HitStatusFromName(std::string_view name) {
  for (HitStatus s : {HitStatus::kLead, HitStatus::kConfirmed, HitStatus::kRejected}) {
    if (HitStatusName(s) == name) return s;
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<PlateStore>> PlateStore::Create(const PlateStoreOptions& options,
                                                               const PlateStoreDeps& deps) {
  if (deps.clock == nullptr || deps.auditor == nullptr) {
    return absl::InvalidArgumentError("plate store: clock and auditor are required");
  }
  constexpr int64_t kHour = 3'600'000;
  if (options.read_retention_ms < kHour || options.read_retention_ms > 90 * 24 * kHour) {
    return absl::InvalidArgumentError(
        "plate store: read retention must be between 1 hour and 90 days");
  }
  CUSTOS_ASSIGN_OR_RETURN(store::SqliteDb db,
                          store::OpenModuleDb(options.path, kApplicationId, Migrations(),
                                              "plate database", options.busy_timeout_ms));
  return std::unique_ptr<PlateStore>(new PlateStore(options, deps, std::move(db)));
}

PlateStore::PlateStore(const PlateStoreOptions& options, const PlateStoreDeps& deps,
                       store::SqliteDb db)
    : options_(options), clock_(deps.clock), auditor_(deps.auditor), db_(std::move(db)) {}

PlateStore::~PlateStore() = default;

absl::StatusOr<StoredRead> PlateStore::AddRead(StoredRead read) {
  read.plate = NormalizePlate(read.plate);
  if (read.plate.empty() || read.camera.empty()) {
    return absl::InvalidArgumentError("a plate read needs a plate text and a camera");
  }
  CUSTOS_RETURN_IF_ERROR(CheckCrop(read.crop_jpeg, options_.max_crop_bytes));
  read.id = NewUlid(read.time_ms);
  read.expires_ms = read.time_ms + options_.read_retention_ms;
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(),
                                "INSERT INTO reads (id, camera, time_ms, plate, expires_ms, "
                                "record, crop) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  stmt.Bind(1, read.id);
  stmt.Bind(2, read.camera);
  stmt.Bind(3, read.time_ms);
  stmt.Bind(4, read.plate);
  stmt.Bind(5, read.expires_ms);
  stmt.Bind(6, ReadJson(read).dump());
  stmt.Bind(7, absl::Base64Escape(read.crop_jpeg));
  const int rc = stmt.Step();
  if (rc != SQLITE_DONE)
    return store::SqliteStatus(db_.get(), rc, "storing a plate read", options_.path);
  return read;
}

absl::StatusOr<std::vector<StoredRead>> PlateStore::Query(const ReadQuery& query) const {
  if (!query.pattern.empty() && !ValidPlatePattern(query.pattern)) {
    return absl::InvalidArgumentError(
        absl::StrCat("plate '", query.pattern,
                     "' is not a plate pattern: use A-Z and 0-9, '?' for one unknown character "
                     "and '*' for several, with at least two known characters"));
  }
  if (query.max_confusions < 0 || query.max_confusions > 2) {
    return absl::InvalidArgumentError("max_confusions must be 0, 1 or 2");
  }
  if (query.limit < 1 || query.limit > 1000) {
    return absl::InvalidArgumentError("limit must be between 1 and 1000");
  }
  const int64_t to = query.to_ms != 0 ? query.to_ms : clock_->WallMs();
  if (query.from_ms > to) return absl::InvalidArgumentError("'from' is after 'to'");
  absl::ReaderMutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(),
                                "SELECT record FROM reads WHERE time_ms >= ?1 AND time_ms <= ?2 "
                                "AND (?3 = '' OR camera = ?3) ORDER BY time_ms DESC LIMIT ?4"));
  stmt.Bind(1, query.from_ms);
  stmt.Bind(2, to);
  stmt.Bind(3, query.camera);
  stmt.Bind(4, kMaxQueryRows);
  std::vector<StoredRead> out;
  for (;;) {
    const int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW)
      return store::SqliteStatus(db_.get(), rc, "querying plate reads", options_.path);
    CUSTOS_ASSIGN_OR_RETURN(StoredRead read,
                            Parse<StoredRead>(stmt.ColumnText(0), options_.path, ReadFrom));
    bool match = query.pattern.empty();
    // A read matches by its voted text or by any of its other candidates.
    for (size_t i = 0; !match && i <= read.candidates.size(); ++i) {
      const std::string& text = i == 0 ? read.plate : read.candidates[i - 1].text;
      match = MatchPlate(query.pattern, text, query.max_confusions).has_value();
    }
    if (!match) continue;
    out.push_back(std::move(read));
    if (static_cast<int>(out.size()) >= query.limit) break;
  }
  return out;
}

absl::StatusOr<StoredRead> PlateStore::GetRead(std::string_view read_id) const {
  absl::ReaderMutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(), "SELECT record, crop FROM reads WHERE id = ?1"));
  stmt.Bind(1, read_id);
  const int rc = stmt.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(
        absl::StrCat("plate read ", Sv(read_id), " does not exist (or its retention ran out)"));
  }
  if (rc != SQLITE_ROW)
    return store::SqliteStatus(db_.get(), rc, "reading a plate read", options_.path);
  CUSTOS_ASSIGN_OR_RETURN(StoredRead read,
                          Parse<StoredRead>(stmt.ColumnText(0), options_.path, ReadFrom));
  if (!absl::Base64Unescape(stmt.ColumnText(1), &read.crop_jpeg)) {
    return absl::DataLossError(absl::StrCat("plate read ", read.id, ": its crop is damaged"));
  }
  return read;
}

absl::StatusOr<StoredHit> PlateStore::AddHit(StoredHit hit) {
  if (hit.entry_id.empty() || hit.read.camera.empty()) {
    return absl::InvalidArgumentError("a plate hit needs an entry and a read");
  }
  CUSTOS_RETURN_IF_ERROR(CheckCrop(hit.read.crop_jpeg, options_.max_crop_bytes));
  hit.id = NewUlid(hit.read.time_ms);
  hit.status = HitStatus::kLead;
  absl::MutexLock lock(&mu_);
  policy::PolicyChange change;
  change.time_ms = clock_->WallMs();
  change.actor = "system";
  change.role = auth::Role::kPublic;
  change.action = PolicyAction::kPlateHitRecord;
  change.object = hit.id;
  change.legal_basis_ref = hit.legal_basis_ref;
  change.purpose = hit.entry_label;
  change.details = HitJson(hit).dump();
  CUSTOS_RETURN_IF_ERROR(
      policy::CommitAudited(db_.get(), options_.path, *auditor_, change, [&]() -> absl::Status {
        CUSTOS_ASSIGN_OR_RETURN(
            store::Statement stmt,
            store::Statement::Prepare(db_.get(),
                                      "INSERT INTO hits (id, camera, time_ms, status, "
                                      "keep_until_ms, record, crop) VALUES (?1, ?2, ?3, ?4, "
                                      "?5, ?6, ?7)"));
        stmt.Bind(1, hit.id);
        stmt.Bind(2, hit.read.camera);
        stmt.Bind(3, hit.read.time_ms);
        stmt.Bind(4, HitStatusName(hit.status));
        stmt.Bind(5, hit.keep_until_ms);
        stmt.Bind(6, HitJson(hit).dump());
        stmt.Bind(7, absl::Base64Escape(hit.read.crop_jpeg));
        const int rc = stmt.Step();
        if (rc != SQLITE_DONE) {
          return store::SqliteStatus(db_.get(), rc, "storing a plate hit", options_.path);
        }
        return absl::OkStatus();
      }));
  return hit;
}

absl::StatusOr<StoredHit> PlateStore::GetHitLocked(std::string_view hit_id, bool with_crop) const {
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(), "SELECT record, crop FROM hits WHERE id = ?1"));
  stmt.Bind(1, hit_id);
  const int rc = stmt.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("plate hit ", Sv(hit_id), " does not exist"));
  }
  if (rc != SQLITE_ROW)
    return store::SqliteStatus(db_.get(), rc, "reading a plate hit", options_.path);
  CUSTOS_ASSIGN_OR_RETURN(StoredHit hit,
                          Parse<StoredHit>(stmt.ColumnText(0), options_.path, HitFrom));
  if (with_crop && !absl::Base64Unescape(stmt.ColumnText(1), &hit.read.crop_jpeg)) {
    return absl::DataLossError(absl::StrCat("plate hit ", hit.id, ": its crop is damaged"));
  }
  return hit;
}

absl::StatusOr<StoredHit> PlateStore::GetHit(std::string_view hit_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return GetHitLocked(hit_id, true);
}

absl::StatusOr<std::vector<StoredHit>> PlateStore::ListHits(const HitFilter& filter) const {
  if (filter.limit < 1 || filter.limit > 1000) {
    return absl::InvalidArgumentError("limit must be between 1 and 1000");
  }
  absl::ReaderMutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(
          db_.get(),
          "SELECT record FROM hits WHERE time_ms >= ?1 AND (?2 = 0 OR time_ms <= ?2) AND "
          "(?3 = '' OR camera = ?3) AND (?4 = '' OR status = ?4) ORDER BY time_ms DESC LIMIT ?5"));
  stmt.Bind(1, filter.from_ms);
  stmt.Bind(2, filter.to_ms);
  stmt.Bind(3, filter.camera);
  stmt.Bind(4, filter.status ? HitStatusName(*filter.status) : std::string_view(""));
  stmt.Bind(5, static_cast<int64_t>(filter.limit));
  std::vector<StoredHit> out;
  for (;;) {
    const int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW)
      return store::SqliteStatus(db_.get(), rc, "listing plate hits", options_.path);
    CUSTOS_ASSIGN_OR_RETURN(StoredHit hit,
                            Parse<StoredHit>(stmt.ColumnText(0), options_.path, HitFrom));
    out.push_back(std::move(hit));
  }
  return out;
}

absl::StatusOr<StoredHit> PlateStore::ConfirmHit(const auth::Principal& actor,
                                                 std::string_view hit_id, std::string_view note) {
  return Decide(actor, hit_id, HitStatus::kConfirmed, note);
}

absl::StatusOr<StoredHit> PlateStore::RejectHit(const auth::Principal& actor,
                                                std::string_view hit_id, std::string_view reason) {
  return Decide(actor, hit_id, HitStatus::kRejected, reason);
}

absl::StatusOr<StoredHit> PlateStore::Decide(const auth::Principal& actor, std::string_view hit_id,
                                             HitStatus verdict, std::string_view note) {
  CUSTOS_RETURN_IF_ERROR(
      auth::Authenticator::Authorize(actor, auth::Permission::kAcknowledgeAlerts));
  CUSTOS_RETURN_IF_ERROR(policy::CheckText(note,
                                           verdict == HitStatus::kRejected ? "reason" : "note",
                                           2000, verdict == HitStatus::kRejected, true));
  absl::MutexLock lock(&mu_);
  StoredHit hit;
  policy::PolicyChange change;
  CUSTOS_RETURN_IF_ERROR(
      policy::CommitAudited(db_.get(), options_.path, *auditor_, change, [&]() -> absl::Status {
        CUSTOS_ASSIGN_OR_RETURN(hit, GetHitLocked(hit_id, false));
        if (hit.status != HitStatus::kLead) {
          return absl::FailedPreconditionError(absl::StrCat("plate hit ", hit.id, " was already ",
                                                            Sv(HitStatusName(hit.status)), " by ",
                                                            hit.decided_by));
        }
        hit.status = verdict;
        hit.decided_by = actor.name;
        hit.decided_ms = clock_->WallMs();
        hit.note = std::string(note);
        change.time_ms = hit.decided_ms;
        change.actor = actor.name;
        change.role = actor.role;
        change.action = verdict == HitStatus::kConfirmed ? PolicyAction::kPlateHitConfirm
                                                         : PolicyAction::kPlateHitReject;
        change.object = hit.id;
        change.legal_basis_ref = hit.legal_basis_ref;
        change.reason = hit.note;
        change.details = HitJson(hit).dump();
        CUSTOS_ASSIGN_OR_RETURN(
            store::Statement stmt,
            store::Statement::Prepare(db_.get(),
                                      "UPDATE hits SET status = ?2, record = ?3 WHERE id = ?1"));
        stmt.Bind(1, hit.id);
        stmt.Bind(2, HitStatusName(hit.status));
        stmt.Bind(3, HitJson(hit).dump());
        const int rc = stmt.Step();
        if (rc != SQLITE_DONE) {
          return store::SqliteStatus(db_.get(), rc, "deciding a plate hit", options_.path);
        }
        return absl::OkStatus();
      }));
  return hit;
}

absl::StatusOr<PurgeResult> PlateStore::Purge() {
  const int64_t now = clock_->WallMs();
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      const int64_t reads,
      store::QueryInt(db_.get(),
                      absl::StrCat("SELECT count(*) FROM reads WHERE expires_ms <= ", now),
                      options_.path));
  CUSTOS_ASSIGN_OR_RETURN(
      const int64_t hits,
      store::QueryInt(db_.get(),
                      absl::StrCat("SELECT count(*) FROM hits WHERE keep_until_ms <= ", now),
                      options_.path));
  if (reads == 0 && hits == 0) return PurgeResult{};
  policy::PolicyChange change;
  change.time_ms = now;
  change.actor = "retention";
  change.role = auth::Role::kPublic;
  change.action = PolicyAction::kPlateReadsPurge;
  change.object = "plates";
  change.details = json{{"reads", reads}, {"hits", hits}, {"before_ms", now}}.dump();
  CUSTOS_RETURN_IF_ERROR(
      policy::CommitAudited(db_.get(), options_.path, *auditor_, change, [&]() -> absl::Status {
        absl::Status erased = store::Exec(
            db_.get(), absl::StrCat("DELETE FROM reads WHERE expires_ms <= ", now), options_.path);
        if (!erased.ok()) return erased;
        return store::Exec(db_.get(), absl::StrCat("DELETE FROM hits WHERE keep_until_ms <= ", now),
                           options_.path);
      }));
  return PurgeResult{reads, hits};
}

}  // namespace custos::plate
