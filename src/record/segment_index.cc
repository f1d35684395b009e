#include "record/segment_index.h"

#include <charconv>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "record/segment_probe.h"
#include "spdlog/spdlog.h"

namespace custos::record {
namespace {

namespace fs = std::filesystem;

// PRAGMA application_id of a Custos segment index: "CSRG".
constexpr int64_t kApplicationId = 0x43535247;

constexpr char kColumns[] =
    "id, camera, path, start_ms, end_ms, bytes, state, evidence_hold, hold_reason, delete_batch";

// What retention may delete: see SegmentIndex::Deletable().
constexpr char kDeletable[] = "evidence_hold = 0 AND state != 'open' AND delete_batch = ''";

const std::vector<store::Migration>& Migrations() {
  static const auto* const kMigrations = new std::vector<store::Migration>{
      {1,
       {"CREATE TABLE segments ("
        " id INTEGER PRIMARY KEY,"
        " camera TEXT NOT NULL,"
        " path TEXT NOT NULL UNIQUE,"
        " start_ms INTEGER NOT NULL,"
        " end_ms INTEGER NOT NULL,"
        " bytes INTEGER NOT NULL DEFAULT 0,"
        " state TEXT NOT NULL CHECK (state IN ('open', 'closed', 'recovered', 'damaged')),"
        " evidence_hold INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX segments_camera_start ON segments (camera, start_ms)"}},
      // Retention: why a segment is held, and the deletion batch that has claimed it.
      {2,
       {"ALTER TABLE segments ADD COLUMN hold_reason TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE segments ADD COLUMN delete_batch TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX segments_start ON segments (start_ms)",
        "CREATE INDEX segments_delete_batch ON segments (delete_batch) WHERE delete_batch != ''"}},
  };
  return *kMigrations;
}

SegmentState StateFromName(const std::string& name) {
  if (name == "closed") return SegmentState::kClosed;
  if (name == "recovered") return SegmentState::kRecovered;
  if (name == "damaged") return SegmentState::kDamaged;
  return SegmentState::kOpen;
}

// Probes a file found on disk or left open: cut back to whole fragments, then read.
struct Settled {
  SegmentState state = SegmentState::kDamaged;
  int64_t duration_ms = 0;
  int64_t bytes = 0;
  std::string problem;
};
Settled Settle(const fs::path& file) {
  Settled settled;
  std::error_code error;
  settled.bytes = static_cast<int64_t>(fs::file_size(file, error));
  if (error) settled.bytes = 0;
  absl::StatusOr<int64_t> size = TruncateToLastCompleteFragment(file.string());
  if (!size.ok()) {
    settled.problem = std::string(size.status().message());
    return settled;
  }
  settled.bytes = *size;
  absl::StatusOr<ProbeResult> probe = ProbeSegment(file.string());
  if (!probe.ok()) {
    settled.problem = std::string(probe.status().message());
    return settled;
  }
  settled.state = SegmentState::kRecovered;
  settled.duration_ms = probe->duration_ms;
  return settled;
}

}  // namespace

const char* SegmentStateName(SegmentState state) {
  switch (state) {
    case SegmentState::kOpen:
      return "open";
    case SegmentState::kClosed:
      return "closed";
    case SegmentState::kRecovered:
      return "recovered";
    case SegmentState::kDamaged:
      return "damaged";
  }
  return "open";
}

SegmentIndex::SegmentIndex(std::string data_dir, std::string db_path, store::SqliteDb db)
    : data_dir_(std::move(data_dir)), db_path_(std::move(db_path)), db_(std::move(db)) {}

absl::StatusOr<std::unique_ptr<SegmentIndex>> SegmentIndex::Open(const std::string& data_dir) {
  std::error_code error;
  if (!fs::is_directory(data_dir, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data directory ", data_dir, " does not exist; create it or set another data_dir"));
  }
  const fs::path recordings = fs::path(data_dir) / "recordings";
  fs::create_directories(recordings, error);
  if (error) {
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", recordings.string(), ": ",
                                                    error.message(),
                                                    "; check the data directory's permissions"));
  }
  const std::string path = (recordings / "index.db").string();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  store::SqliteDb db(raw);
  if (rc != SQLITE_OK) return store::SqliteStatus(db.get(), rc, "opening segment index", path);
  sqlite3_busy_timeout(db.get(), 5000);
  CUSTOS_ASSIGN_OR_RETURN(const int64_t app_id,
                          store::QueryInt(db.get(), "PRAGMA application_id", path));
  CUSTOS_ASSIGN_OR_RETURN(const int64_t version,
                          store::QueryInt(db.get(), "PRAGMA user_version", path));
  if (app_id != 0 && app_id != kApplicationId) {
    return absl::FailedPreconditionError(
        absl::StrCat(path,
                     " is an SQLite database of another kind, not a segment index; move "
                     "it away"));
  }
  if (version > Migrations().back().version) {
    return store::NewerSchemaError(path, version, Migrations().back().version);
  }
  // WAL: the recorder's short writes never block readers (playback, retention).
  CUSTOS_RETURN_IF_ERROR(store::Exec(db.get(), "PRAGMA journal_mode=WAL", path));
  CUSTOS_RETURN_IF_ERROR(store::Exec(db.get(), "PRAGMA synchronous=NORMAL", path));
  CUSTOS_RETURN_IF_ERROR(store::ApplyMigrations(db.get(), Migrations(), path));
  if (app_id == 0) {
    CUSTOS_RETURN_IF_ERROR(
        store::Exec(db.get(), absl::StrCat("PRAGMA application_id=", kApplicationId), path));
  }
  return std::unique_ptr<SegmentIndex>(new SegmentIndex(data_dir, path, std::move(db)));
}

absl::StatusOr<int64_t> SegmentIndex::AddOpen(const std::string& camera, const std::string& path,
                                              int64_t start_ms) {
  Segment segment;
  segment.camera = camera;
  segment.path = path;
  segment.start_ms = start_ms;
  segment.end_ms = start_ms;
  segment.state = SegmentState::kOpen;
  absl::MutexLock lock(&mu_);
  return AddLocked(segment);
}

absl::StatusOr<int64_t> SegmentIndex::Add(const Segment& segment) {
  absl::MutexLock lock(&mu_);
  return AddLocked(segment);
}

absl::StatusOr<int64_t> SegmentIndex::AddLocked(const Segment& segment) {
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement insert,
      store::Statement::Prepare(db_.get(),
                                "INSERT INTO segments (camera, path, start_ms, end_ms, bytes, "
                                "state, evidence_hold, hold_reason) VALUES (?, ?, ?, ?, ?, ?, "
                                "?, ?)"));
  insert.Bind(1, segment.camera);
  insert.Bind(2, segment.path);
  insert.Bind(3, segment.start_ms);
  insert.Bind(4, segment.end_ms);
  insert.Bind(5, segment.bytes);
  insert.Bind(6, std::string_view(SegmentStateName(segment.state)));
  insert.Bind(7, int64_t{segment.evidence_hold ? 1 : 0});
  insert.Bind(8, std::string_view(segment.evidence_hold ? segment.hold_reason : std::string()));
  const int rc = insert.Step();
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db_.get(), rc, absl::StrCat("adding segment ", segment.path),
                               db_path_);
  }
  return sqlite3_last_insert_rowid(db_.get());
}

absl::Status SegmentIndex::Finish(int64_t id, int64_t end_ms, int64_t bytes, SegmentState state) {
  absl::MutexLock lock(&mu_);
  return FinishLocked(id, end_ms, bytes, state);
}

absl::Status SegmentIndex::FinishLocked(int64_t id, int64_t end_ms, int64_t bytes,
                                        SegmentState state) {
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement update,
      store::Statement::Prepare(
          db_.get(), "UPDATE segments SET end_ms = ?, bytes = ?, state = ? WHERE id = ?"));
  update.Bind(1, end_ms);
  update.Bind(2, bytes);
  update.Bind(3, std::string_view(SegmentStateName(state)));
  update.Bind(4, id);
  const int rc = update.Step();
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db_.get(), rc, absl::StrCat("finishing segment ", id), db_path_);
  }
  if (sqlite3_changes(db_.get()) == 0) {
    return absl::NotFoundError(absl::StrCat("no segment with id ", id, " in ", db_path_));
  }
  return absl::OkStatus();
}

absl::Status SegmentIndex::SetEvidenceHold(int64_t id, bool hold, std::string_view reason) {
  absl::MutexLock lock(&mu_);
  // A hold never lands on a row that retention has committed to deleting: its receipt is
  // written and its file may be going right now.
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement update,
      store::Statement::Prepare(db_.get(),
                                "UPDATE segments SET evidence_hold = ?, hold_reason = ? "
                                "WHERE id = ? AND (? = 0 OR delete_batch = '')"));
  update.Bind(1, int64_t{hold ? 1 : 0});
  // Through a std::string: a default string_view has no data and would bind NULL, which the
  // column refuses.
  const std::string stored_reason = hold ? std::string(reason) : std::string();
  update.Bind(2, std::string_view(stored_reason));
  update.Bind(3, id);
  update.Bind(4, int64_t{hold ? 1 : 0});
  const int rc = update.Step();
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db_.get(), rc, "setting evidence hold", db_path_);
  }
  if (sqlite3_changes(db_.get()) == 0) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<Segment> rows, Query("WHERE id = ?", {}, {id}));
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("no segment with id ", id, " in ", db_path_));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("segment ", id, " (", rows[0].path, ") expired and is being deleted by ",
                     "retention batch ", rows[0].delete_batch,
                     " (see DATA_DIR/retention/receipts.jsonl); it can no longer be held"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Segment>> SegmentIndex::Deletable(const std::string& camera,
                                                             int64_t end_before_ms, int limit) {
  absl::MutexLock lock(&mu_);
  return Query(absl::StrCat("WHERE (? = '' OR camera = ?) AND ", kDeletable,
                            " AND end_ms < ? ORDER BY start_ms, id LIMIT ?"),
               {camera, camera}, {end_before_ms, int64_t{limit}});
}

absl::StatusOr<int64_t> SegmentIndex::MarkLocked(const std::vector<int64_t>& ids,
                                                 const std::string& batch) {
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement mark,
      store::Statement::Prepare(
          db_.get(),
          absl::StrCat("UPDATE segments SET delete_batch = ? WHERE id = ? AND ", kDeletable)));
  int64_t marked = 0;
  for (const int64_t id : ids) {
    mark.Reset();
    mark.Bind(1, std::string_view(batch));
    mark.Bind(2, id);
    const int rc = mark.Step();
    if (rc != SQLITE_DONE) {
      return store::SqliteStatus(db_.get(), rc, "marking segments for deletion", db_path_);
    }
    marked += sqlite3_changes(db_.get());
  }
  return marked;
}

absl::StatusOr<std::vector<Segment>> SegmentIndex::MarkForDeletion(const std::vector<int64_t>& ids,
                                                                   const std::string& batch) {
  if (batch.empty()) return absl::InvalidArgumentError("a deletion batch needs an id");
  absl::MutexLock lock(&mu_);
  CUSTOS_RETURN_IF_ERROR(store::Exec(db_.get(), "BEGIN IMMEDIATE", db_path_));
  absl::Status status = MarkLocked(ids, batch).status();
  if (status.ok()) status = store::Exec(db_.get(), "COMMIT", db_path_);
  if (!status.ok()) {
    if (!sqlite3_get_autocommit(db_.get())) {
      store::Exec(db_.get(), "ROLLBACK", db_path_).IgnoreError();
    }
    return status;
  }
  return Query("WHERE delete_batch = ? ORDER BY start_ms, id", {batch}, {});
}

absl::StatusOr<std::vector<Segment>> SegmentIndex::MarkedForDeletion(const std::string& batch) {
  if (batch.empty()) return absl::InvalidArgumentError("a deletion batch needs an id");
  absl::MutexLock lock(&mu_);
  return Query("WHERE delete_batch = ? ORDER BY start_ms, id", {batch}, {});
}

absl::StatusOr<std::vector<std::string>> SegmentIndex::PendingDeletionBatches() {
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement select,
      store::Statement::Prepare(db_.get(),
                                "SELECT DISTINCT delete_batch FROM segments "
                                "WHERE delete_batch != '' ORDER BY delete_batch"));
  std::vector<std::string> batches;
  int rc = 0;
  while ((rc = select.Step()) == SQLITE_ROW) batches.push_back(select.ColumnText(0));
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db_.get(), rc, "listing pending deletions", db_path_);
  }
  return batches;
}

absl::StatusOr<int64_t> SegmentIndex::ExecForBatch(const char* sql, const std::string& batch,
                                                   std::string_view what) {
  if (batch.empty()) return absl::InvalidArgumentError("a deletion batch needs an id");
  CUSTOS_ASSIGN_OR_RETURN(store::Statement statement, store::Statement::Prepare(db_.get(), sql));
  statement.Bind(1, std::string_view(batch));
  const int rc = statement.Step();
  if (rc != SQLITE_DONE) return store::SqliteStatus(db_.get(), rc, what, db_path_);
  return int64_t{sqlite3_changes(db_.get())};
}

absl::StatusOr<int64_t> SegmentIndex::UnmarkDeletion(const std::string& batch) {
  absl::MutexLock lock(&mu_);
  return ExecForBatch("UPDATE segments SET delete_batch = '' WHERE delete_batch = ?", batch,
                      "unmarking segments");
}

absl::StatusOr<int64_t> SegmentIndex::RemoveDeleted(const std::string& batch) {
  absl::MutexLock lock(&mu_);
  return ExecForBatch("DELETE FROM segments WHERE delete_batch = ?", batch,
                      "removing deleted segments");
}

absl::StatusOr<int64_t> SegmentIndex::TotalBytes() {
  absl::MutexLock lock(&mu_);
  return store::QueryInt(db_.get(), "SELECT COALESCE(SUM(bytes), 0) FROM segments", db_path_);
}

absl::StatusOr<std::vector<Segment>> SegmentIndex::Query(
    const std::string& where, const std::vector<std::string>& text_params,
    const std::vector<int64_t>& int_params) {
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement select,
      store::Statement::Prepare(db_.get(),
                                absl::StrCat("SELECT ", kColumns, " FROM segments ", where)));
  int index = 1;
  for (const std::string& text : text_params) select.Bind(index++, text);
  for (const int64_t value : int_params) select.Bind(index++, value);
  std::vector<Segment> segments;
  int rc = 0;
  while ((rc = select.Step()) == SQLITE_ROW) {
    Segment& s = segments.emplace_back();
    s.id = select.ColumnInt(0);
    s.camera = select.ColumnText(1);
    s.path = select.ColumnText(2);
    s.start_ms = select.ColumnInt(3);
    s.end_ms = select.ColumnInt(4);
    s.bytes = select.ColumnInt(5);
    s.state = StateFromName(select.ColumnText(6));
    s.evidence_hold = select.ColumnInt(7) != 0;
    s.hold_reason = select.ColumnText(8);
    s.delete_batch = select.ColumnText(9);
  }
  if (rc != SQLITE_DONE) return store::SqliteStatus(db_.get(), rc, "listing segments", db_path_);
  return segments;
}

absl::StatusOr<std::vector<Segment>> SegmentIndex::Overlapping(const std::string& camera,
                                                               int64_t from_ms, int64_t to_ms) {
  absl::MutexLock lock(&mu_);
  // An open segment's end is not known yet: it overlaps anything after its start.
  return Query(
      "WHERE camera = ? AND start_ms <= ? AND (end_ms >= ? OR state = 'open') "
      "ORDER BY start_ms, id",
      {camera}, {to_ms, from_ms});
}

absl::StatusOr<std::vector<Segment>> SegmentIndex::All() {
  absl::MutexLock lock(&mu_);
  return Query("ORDER BY camera, start_ms, id", {}, {});
}

absl::StatusOr<std::map<std::string, int64_t>> SegmentIndex::BytesPerCamera() {
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement select,
      store::Statement::Prepare(db_.get(),
                                "SELECT camera, SUM(bytes) FROM segments GROUP BY camera"));
  std::map<std::string, int64_t> bytes;
  int rc = 0;
  while ((rc = select.Step()) == SQLITE_ROW) bytes[select.ColumnText(0)] = select.ColumnInt(1);
  if (rc != SQLITE_DONE) return store::SqliteStatus(db_.get(), rc, "summing bytes", db_path_);
  return bytes;
}

absl::StatusOr<ReconcileReport> SegmentIndex::Reconcile() {
  absl::MutexLock lock(&mu_);
  ReconcileReport report;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Segment> rows, Query("ORDER BY id", {}, {}));
  std::set<std::string> known;
  for (const Segment& row : rows) {
    known.insert(row.path);
    const fs::path file = fs::path(data_dir_) / row.path;
    std::error_code error;
    if (!fs::exists(file, error)) {
      if (row.evidence_hold) {
        spdlog::error("recording {} is on evidence hold but its file is gone", row.path);
        if (row.state != SegmentState::kDamaged) {
          CUSTOS_RETURN_IF_ERROR(FinishLocked(row.id, row.end_ms, 0, SegmentState::kDamaged));
          ++report.missing_flagged;
        }
        continue;
      }
      spdlog::warn("recording {} is indexed but its file is gone; removing the row", row.path);
      CUSTOS_ASSIGN_OR_RETURN(
          store::Statement remove,
          store::Statement::Prepare(db_.get(), "DELETE FROM segments WHERE id = ?"));
      remove.Bind(1, row.id);
      const int rc = remove.Step();
      if (rc != SQLITE_DONE) {
        return store::SqliteStatus(db_.get(), rc, "removing a missing segment", db_path_);
      }
      ++report.missing_removed;
      continue;
    }
    if (row.state != SegmentState::kOpen) continue;
    const Settled settled = Settle(file);
    if (settled.state == SegmentState::kRecovered) {
      CUSTOS_RETURN_IF_ERROR(FinishLocked(row.id, row.start_ms + settled.duration_ms, settled.bytes,
                                          SegmentState::kRecovered));
      ++report.open_recovered;
    } else {
      spdlog::warn("recording {} left open by a crash is unplayable: {}", row.path,
                   settled.problem);
      CUSTOS_RETURN_IF_ERROR(
          FinishLocked(row.id, row.start_ms, settled.bytes, SegmentState::kDamaged));
      ++report.open_damaged;
    }
  }

  // Files without a row: recordings/<camera>/<day>/<hour>/<start_ms>.mp4
  const fs::path root = fs::path(data_dir_) / "recordings";
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(root, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file(error) || it->path().extension() != ".mp4") continue;
    const fs::path relative = fs::relative(it->path(), data_dir_, error);
    if (error) break;
    if (known.count(relative.string()) != 0) continue;
    std::vector<std::string> parts;
    for (const fs::path& part : relative) parts.push_back(part.string());
    Segment segment;
    segment.path = relative.string();
    segment.camera = parts.size() >= 2 ? parts[1] : "";
    const std::string stem = it->path().stem().string();
    int64_t start_ms = 0;
    const auto parsed = std::from_chars(stem.data(), stem.data() + stem.size(), start_ms);
    if (parsed.ec != std::errc() || parsed.ptr != stem.data() + stem.size()) start_ms = 0;
    segment.start_ms = start_ms;
    const Settled settled = Settle(it->path());
    segment.state = settled.state;
    segment.bytes = settled.bytes;
    segment.end_ms = start_ms + settled.duration_ms;
    if (settled.state == SegmentState::kRecovered) {
      ++report.orphans_recovered;
    } else {
      spdlog::warn("recording {} found without an index row does not play: {}", segment.path,
                   settled.problem);
      ++report.orphans_damaged;
    }
    CUSTOS_RETURN_IF_ERROR(AddLocked(segment).status());
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot list recordings under ", root.string(), ": ", error.message()));
  }
  return report;
}

}  // namespace custos::record
