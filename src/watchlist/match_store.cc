#include "watchlist/match_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "nlohmann/json.hpp"

namespace custos::watchlist {
namespace {

using json = nlohmann::json;
using policy::PolicyAction;

// PRAGMA application_id of a Custos face-match database: "CSFM".
constexpr int64_t kApplicationId = 0x4353464D;

std::string CropContext(std::string_view match_id) {
  return absl::StrCat("custos.face_match.crop.v1:", Sv(match_id));
}

// The record as stored and audited: everything but the crop. The score is kept as an integer
// of 1/10000 in the audit details (the audit log takes no floating-point numbers).
json MatchJson(const StoredMatch& m) {
  return json{{"id", m.id},
              {"entry_id", m.match.entry_id},
              {"label", m.match.label},
              {"category", std::string(SubjectCategoryName(m.match.category))},
              {"score_e4", static_cast<int64_t>(m.match.score * 10000.0f + 0.5f)},
              {"camera", m.match.camera},
              {"track_id", m.match.track_id},
              {"time_ms", m.match.time_ms},
              {"attempts", m.match.attempts},
              {"agreeing", m.match.agreeing},
              {"vote_share_e4", static_cast<int64_t>(m.match.vote_share * 10000.0f + 0.5f)},
              {"status", std::string(MatchStatusName(m.status))},
              {"decided_by", m.decided_by},
              {"decided_ms", m.decided_ms},
              {"note", m.note}};
}

absl::StatusOr<StoredMatch> MatchFrom(const std::string& text, const std::string& path) {
  try {
    const json j = json::parse(text);
    StoredMatch m;
    m.id = j.at("id").get<std::string>();
    m.match.entry_id = j.at("entry_id").get<std::string>();
    m.match.label = j.at("label").get<std::string>();
    const auto category = SubjectCategoryFromName(j.at("category").get<std::string>());
    const auto status = MatchStatusFromName(j.at("status").get<std::string>());
    if (!category || !status) throw std::runtime_error("unknown category or status");
    m.match.category = *category;
    m.status = *status;
    m.match.score = static_cast<float>(j.at("score_e4").get<int64_t>()) / 10000.0f;
    m.match.camera = j.at("camera").get<std::string>();
    m.match.track_id = j.at("track_id").get<int64_t>();
    m.match.time_ms = j.at("time_ms").get<int64_t>();
    m.match.attempts = j.at("attempts").get<int>();
    m.match.agreeing = j.at("agreeing").get<int>();
    m.match.vote_share = static_cast<float>(j.at("vote_share_e4").get<int64_t>()) / 10000.0f;
    m.decided_by = j.at("decided_by").get<std::string>();
    m.decided_ms = j.at("decided_ms").get<int64_t>();
    m.note = j.at("note").get<std::string>();
    return m;
  } catch (const std::exception& ex) {
    return absl::DataLossError(absl::StrCat("face-match database ", path,
                                            ": a match record cannot be read (", ex.what(),
                                            "); restore the file from a backup"));
  }
}

bool LooksLikeJpeg(std::string_view bytes) {
  return bytes.size() > 4 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
         static_cast<unsigned char>(bytes[1]) == 0xD8 &&
         static_cast<unsigned char>(bytes[bytes.size() - 2]) == 0xFF &&
         static_cast<unsigned char>(bytes[bytes.size() - 1]) == 0xD9;
}

}  // namespace

const std::vector<store::Migration>& MatchStore::Migrations() {
  static const auto* kMigrations = new std::vector<store::Migration>{
      {1,
       {
           "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
           // record: the match as JSON without the crop; crop: the sealed JPEG (base64).
           "CREATE TABLE matches ("
           "  id TEXT PRIMARY KEY,"
           "  entry_id TEXT NOT NULL,"
           "  camera TEXT NOT NULL,"
           "  time_ms INTEGER NOT NULL,"
           "  status TEXT NOT NULL,"  // lead, confirmed, rejected
           "  record TEXT NOT NULL,"
           "  crop TEXT NOT NULL"
           ") WITHOUT ROWID",
           "CREATE INDEX matches_time ON matches (time_ms)",
           "CREATE INDEX matches_entry ON matches (entry_id)",
           absl::StrCat("PRAGMA application_id = ", kApplicationId),
       }},
  };
  return *kMigrations;
}

absl::StatusOr<std::unique_ptr<MatchStore>> MatchStore::Create(const MatchStoreOptions& options,
                                                               const MatchStoreDeps& deps) {
  if (deps.clock == nullptr || deps.auditor == nullptr) {
    return absl::InvalidArgumentError(
        "the match store needs a clock and an auditor: nothing changes without an audit record");
  }
  if (options.key_path.empty()) {
    return absl::InvalidArgumentError(
        "match store key_path is empty; give the watchlist key, DATA_DIR/keys/watchlist.key");
  }
  CUSTOS_ASSIGN_OR_RETURN(store::SqliteDb db,
                          OpenModuleDb(options.path, kApplicationId, Migrations(),
                                       "face-match database", options.busy_timeout_ms));
  CUSTOS_ASSIGN_OR_RETURN(SecretKey key, KeyForDb(db.get(), options.path, options.key_path));
  return std::unique_ptr<MatchStore>(new MatchStore(options, deps, std::move(db), std::move(key)));
}

MatchStore::MatchStore(const MatchStoreOptions& options, const MatchStoreDeps& deps,
                       store::SqliteDb db, SecretKey key)
    : options_(options),
      clock_(deps.clock),
      auditor_(deps.auditor),
      key_(std::move(key)),
      db_(std::move(db)) {}

MatchStore::~MatchStore() = default;

absl::Status MatchStore::Commit(policy::PolicyChange& change,
                                const std::function<absl::Status()>& body) {
  absl::Status status = CommitAudited(db_.get(), options_.path, *auditor_, change, body);
  return status;
}

absl::StatusOr<StoredMatch> MatchStore::Record(const FaceMatch& match) {
  if (match.entry_id.empty() || match.camera.empty()) {
    return absl::InvalidArgumentError("a face match needs its entry id and camera");
  }
  if (!LooksLikeJpeg(match.crop_jpeg)) {
    return absl::InvalidArgumentError("a face match needs its face crop as a JPEG");
  }
  if (match.crop_jpeg.size() > options_.max_crop_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("the face crop is ", match.crop_jpeg.size(),
                                                   " bytes; at most ", options_.max_crop_bytes,
                                                   " are stored"));
  }
  StoredMatch stored;
  stored.id = NewUlid(match.time_ms > 0 ? match.time_ms : clock_->WallMs());
  stored.match = match;
  stored.status = MatchStatus::kLead;
  const std::string sealed = key_.Seal(match.crop_jpeg, CropContext(stored.id));

  policy::PolicyChange change;
  change.time_ms = clock_->WallMs();
  change.actor = "system";
  change.role = auth::Role::kPublic;
  change.action = PolicyAction::kFaceMatchRecord;
  change.object = stored.id;
  change.purpose = std::string((SubjectCategoryName(match.category)));
  change.details = MatchJson(stored).dump();

  absl::MutexLock lock(&mu_);
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    CUSTOS_ASSIGN_OR_RETURN(
        store::Statement stmt,
        store::Statement::Prepare(db_.get(),
                                  "INSERT INTO matches (id, entry_id, camera, time_ms, status, "
                                  "record, crop) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    stmt.Bind(1, stored.id);
    stmt.Bind(2, match.entry_id);
    stmt.Bind(3, match.camera);
    stmt.Bind(4, match.time_ms);
    stmt.Bind(5, (MatchStatusName(stored.status)));
    stmt.Bind(6, MatchJson(stored).dump());
    stmt.Bind(7, sealed);
    const int rc = stmt.Step();
    if (rc != SQLITE_DONE) {
      return store::SqliteStatus(db_.get(), rc, "storing a face match", options_.path);
    }
    return absl::OkStatus();
  }));
  return stored;
}

absl::StatusOr<StoredMatch> MatchStore::Confirm(const auth::Principal& actor,
                                                std::string_view match_id, std::string_view note) {
  return Decide(actor, match_id, true, note);
}

absl::StatusOr<StoredMatch> MatchStore::Reject(const auth::Principal& actor,
                                               std::string_view match_id, std::string_view reason) {
  return Decide(actor, match_id, false, reason);
}

absl::StatusOr<StoredMatch> MatchStore::Decide(const auth::Principal& actor,
                                               std::string_view match_id, bool confirm,
                                               std::string_view note) {
  const PolicyAction action =
      confirm ? PolicyAction::kFaceMatchConfirm : PolicyAction::kFaceMatchReject;
  if (absl::Status allowed =
          auth::Authenticator::Authorize(actor, auth::Permission::kAcknowledgeAlerts);
      !allowed.ok()) {
    policy::PolicyChange refusal;
    refusal.time_ms = clock_->WallMs();
    refusal.actor = actor.name;
    refusal.role = actor.role;
    refusal.action = action;
    refusal.object = std::string(match_id);
    refusal.result = policy::PolicyResult::kDenied;
    refusal.reason = std::string(allowed.message());
    auditor_->Record(refusal).IgnoreError();
    return allowed;
  }
  CUSTOS_RETURN_IF_ERROR(CheckText(note, confirm ? "note" : "reason", 2000, !confirm));
  absl::MutexLock lock(&mu_);
  StoredMatch m;
  policy::PolicyChange change;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    CUSTOS_ASSIGN_OR_RETURN(m, GetLocked(match_id, false));
    if (m.status != MatchStatus::kLead) {
      return absl::FailedPreconditionError(absl::StrCat(
          "match ", m.id, " was already ", Sv(MatchStatusName(m.status)), " by ", m.decided_by,
          " on ", FormatTime(m.decided_ms), "; a match is decided once"));
    }
    m.status = confirm ? MatchStatus::kConfirmed : MatchStatus::kRejected;
    m.decided_by = actor.name;
    m.decided_ms = clock_->WallMs();
    m.note = std::string(note);
    change.time_ms = m.decided_ms;
    change.actor = actor.name;
    change.role = actor.role;
    change.action = action;
    change.object = m.id;
    change.purpose = std::string((SubjectCategoryName(m.match.category)));
    change.reason = m.note;
    change.details = MatchJson(m).dump();
    CUSTOS_ASSIGN_OR_RETURN(
        store::Statement stmt,
        store::Statement::Prepare(db_.get(),
                                  "UPDATE matches SET status = ?2, record = ?3 WHERE id = ?1"));
    stmt.Bind(1, m.id);
    stmt.Bind(2, (MatchStatusName(m.status)));
    stmt.Bind(3, MatchJson(m).dump());
    const int rc = stmt.Step();
    if (rc != SQLITE_DONE) {
      return store::SqliteStatus(db_.get(), rc, "updating a face match", options_.path);
    }
    return absl::OkStatus();
  }));
  return m;
}

absl::StatusOr<StoredMatch> MatchStore::GetLocked(std::string_view match_id, bool with_crop) const {
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(), "SELECT record, crop FROM matches WHERE id = ?1"));
  stmt.Bind(1, match_id);
  const int rc = stmt.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("no face match with id '", Sv(match_id), "'"));
  }
  if (rc != SQLITE_ROW) {
    return store::SqliteStatus(db_.get(), rc, "reading a face match", options_.path);
  }
  CUSTOS_ASSIGN_OR_RETURN(StoredMatch m, MatchFrom(stmt.ColumnText(0), options_.path));
  if (with_crop) {
    CUSTOS_ASSIGN_OR_RETURN(m.match.crop_jpeg, key_.Open(stmt.ColumnText(1), CropContext(m.id)));
  }
  return m;
}

absl::StatusOr<StoredMatch> MatchStore::Get(std::string_view match_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return GetLocked(match_id, true);
}

absl::StatusOr<std::vector<StoredMatch>> MatchStore::List(const MatchFilter& filter) const {
  if (filter.limit < 1 || filter.limit > 1000) {
    return absl::InvalidArgumentError("limit must be 1..1000");
  }
  absl::ReaderMutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(
          db_.get(),
          "SELECT record FROM matches WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR camera = ?2) "
          "AND time_ms >= ?3 AND (?4 = 0 OR time_ms < ?4) ORDER BY time_ms DESC, id DESC "
          "LIMIT ?5"));
  stmt.Bind(1, filter.status ? MatchStatusName(*filter.status) : std::string_view(""));
  stmt.Bind(2, filter.camera);
  stmt.Bind(3, filter.from_ms);
  stmt.Bind(4, filter.to_ms);
  stmt.Bind(5, static_cast<int64_t>(filter.limit));
  std::vector<StoredMatch> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    CUSTOS_ASSIGN_OR_RETURN(StoredMatch m, MatchFrom(stmt.ColumnText(0), options_.path));
    out.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db_.get(), rc, "listing face matches", options_.path);
  }
  return out;
}

absl::StatusOr<std::vector<MonthlyMatchCounts>> MatchStore::MonthlyCounts() const {
  absl::ReaderMutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(
          db_.get(),
          "SELECT strftime('%Y-%m', time_ms / 1000, 'unixepoch') AS month, count(*), "
          "sum(status = 'confirmed'), sum(status = 'rejected') FROM matches GROUP BY month "
          "ORDER BY month"));
  std::vector<MonthlyMatchCounts> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    out.push_back({stmt.ColumnText(0), stmt.ColumnInt(1), stmt.ColumnInt(2), stmt.ColumnInt(3)});
  }
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db_.get(), rc, "counting face matches", options_.path);
  }
  return out;
}

}  // namespace custos::watchlist
