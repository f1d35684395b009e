#include "store/sqlite_event_store.h"

#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "store/event_json.h"

namespace custos::store {
namespace {

namespace fs = std::filesystem;

// PRAGMA application_id of a Custos event database: "CSEV".
constexpr int64_t kApplicationId = 0x43534556;

constexpr char kSqliteMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                   'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};

constexpr char kColumns[] =
    "id, camera, time_ms, type, label, track_id, score, box_x, box_y, box_w, box_h, zone, "
    "direction, dwell_ms, snapshot, speed_kmh";

// Checks what can be checked before SQLite touches the file, so that SQLite never gets to
// "initialise" something that is not a database.
absl::Status CheckPath(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot access event database ", path, ": ", ec.message()));
  }
  if (fs::exists(status)) {
    if (fs::is_directory(status)) {
      return absl::FailedPreconditionError(
          absl::StrCat("event database path ", path, " is a directory; give a file name such as ",
                       (fs::path(path) / "events.db").string()));
    }
    const uintmax_t size = fs::is_regular_file(status) ? fs::file_size(path, ec) : 0;
    if (!ec && size > 0) {
      std::array<char, 16> header{};
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot read event database ", path, "; check its permissions"));
      }
      in.read(header.data(), header.size());
      if (in.gcount() != static_cast<std::streamsize>(header.size()) ||
          !std::equal(header.begin(), header.end(), kSqliteMagic)) {
        return absl::DataLossError(
            absl::StrCat("event database ", path,
                         " exists but is not an SQLite database; refusing to "
                         "touch it. Move it away or point the store at another file"));
      }
    }
    if (::access(path.c_str(), W_OK) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("event database ", path, " is read-only; the store needs to write to it"));
    }
  } else if (!fs::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create event database ", path, ": directory ", dir.string(),
                     " does not exist; create it or choose another path"));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("directory ", dir.string(), " is not writable; the event database ", path,
                     " needs it for the database and its -wal and -shm files"));
  }
  return absl::OkStatus();
}

// Query parameters in bind order.
using Param = std::variant<int64_t, std::string>;

// " WHERE ..." for the filters of `query`, appending the parameters.
std::string WhereClause(const EventQuery& query, bool with_paging, std::vector<Param>& params) {
  std::string sql = " WHERE time_ms >= ? AND time_ms < ?";
  params.emplace_back(query.from_ms);
  params.emplace_back(query.to_ms);
  if (!query.camera.empty()) {
    sql += " AND camera = ?";
    params.emplace_back(query.camera);
  }
  if (query.type) {
    sql += " AND type = ?";
    params.emplace_back(std::string(EventTypeName(*query.type)));
  }
  if (!query.label.empty()) {
    sql += " AND label = ?";
    params.emplace_back(query.label);
  }
  if (!query.zone.empty()) {
    sql += " AND zone = ?";
    params.emplace_back(query.zone);
  }
  if (with_paging && !query.after_id.empty()) {
    sql += " AND id > ?";
    params.emplace_back(query.after_id);
  }
  return sql;
}

void BindAll(Statement& statement, const std::vector<Param>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    if (const int64_t* v = std::get_if<int64_t>(&params[i])) {
      statement.Bind(index, *v);
    } else {
      statement.Bind(index, std::string_view(std::get<std::string>(params[i])));
    }
  }
}

absl::Status CheckQuery(const EventQuery& query) {
  if (query.from_ms > query.to_ms) {
    return absl::InvalidArgumentError(absl::StrCat("query time range is reversed: from_ms ",
                                                   query.from_ms, " > to_ms ", query.to_ms));
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<Migration>& SqliteEventStore::Migrations() {
  // Released versions never change: add a new version for every schema change.
  static const auto* const kMigrations = new std::vector<Migration>{
      {1,
       {
           "CREATE TABLE events ("
           "  id TEXT PRIMARY KEY NOT NULL,"  // ULID
           "  camera TEXT NOT NULL,"
           "  time_ms INTEGER NOT NULL,"
           "  type TEXT NOT NULL,"  // EventTypeName()
           "  label TEXT NOT NULL DEFAULT '',"
           "  track_id INTEGER NOT NULL DEFAULT 0,"
           "  score REAL NOT NULL DEFAULT 0,"
           "  box_x REAL NOT NULL DEFAULT 0,"
           "  box_y REAL NOT NULL DEFAULT 0,"
           "  box_w REAL NOT NULL DEFAULT 0,"
           "  box_h REAL NOT NULL DEFAULT 0,"
           "  zone TEXT NOT NULL DEFAULT '',"
           "  direction TEXT NOT NULL DEFAULT '',"
           "  dwell_ms INTEGER NOT NULL DEFAULT 0,"
           "  snapshot TEXT NOT NULL DEFAULT ''"
           ") WITHOUT ROWID",
           "CREATE INDEX events_camera_time ON events (camera, time_ms)",
           "CREATE INDEX events_type_time ON events (type, time_ms)",
           absl::StrCat("PRAGMA application_id = ", kApplicationId),
       }},
      // Traffic (docs/traffic.md): the advisory speed of line_cross, wrong_way and track_end
      // events of vehicles; 0 = unknown, so rows written before keep meaning "unknown".
      {2, {"ALTER TABLE events ADD COLUMN speed_kmh REAL NOT NULL DEFAULT 0"}},
  };
  return *kMigrations;
}

int SqliteEventStore::SchemaVersion() { return Migrations().back().version; }

absl::StatusOr<std::unique_ptr<SqliteEventStore>> SqliteEventStore::Open(
    const SqliteEventStoreOptions& options) {
  const std::string& path = options.path;
  if (path.empty()) return absl::InvalidArgumentError("event database path is empty");
  if (options.busy_timeout_ms < 0) {
    return absl::InvalidArgumentError("busy_timeout_ms must not be negative");
  }
  const bool in_memory = path == ":memory:";
  if (!in_memory) CUSTOS_RETURN_IF_ERROR(CheckPath(path));

  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDb db(raw);  // Closed on every return below unless handed to the store.
  if (rc != SQLITE_OK) return SqliteStatus(db.get(), rc, "opening event database", path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);

  // Read-only checks first: nothing is written to a file we are going to refuse.
  CUSTOS_ASSIGN_OR_RETURN(const int64_t app_id, QueryInt(db.get(), "PRAGMA application_id", path));
  CUSTOS_ASSIGN_OR_RETURN(const int64_t version, QueryInt(db.get(), "PRAGMA user_version", path));
  CUSTOS_ASSIGN_OR_RETURN(const int64_t objects,
                          QueryInt(db.get(), "SELECT count(*) FROM sqlite_master", path));
  if (app_id != 0 && app_id != kApplicationId) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, " belongs to another application (application_id ", app_id,
                     "); point the store at another file"));
  }
  if (version > SchemaVersion()) return NewerSchemaError(path, version, SchemaVersion());
  if (app_id == 0 && objects > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path,
                     " already has tables but is not a Custos event database; refusing "
                     "to modify it. Point the store at another file"));
  }

  // WAL lets readers (the API) proceed while the pipeline writes.
  CUSTOS_RETURN_IF_ERROR(EnableWal(db.get(), "event database", path, in_memory));
  CUSTOS_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA synchronous = NORMAL", path));
  CUSTOS_RETURN_IF_ERROR(ApplyMigrations(db.get(), Migrations(), path));
  return std::unique_ptr<SqliteEventStore>(new SqliteEventStore(path, std::move(db)));
}

SqliteEventStore::SqliteEventStore(std::string path, SqliteDb db)
    : path_(std::move(path)), db_(std::move(db)) {}

absl::Status SqliteEventStore::Append(const std::vector<Event>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (UlidTimeMs(e.id) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("event ", i, " has id '", e.id, "', not a ULID; nothing was stored"));
    }
    if (e.camera.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("event ", i, " (", e.id, ") has no camera; nothing was stored"));
    }
  }
  if (events.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  CUSTOS_RETURN_IF_ERROR(Exec(db_.get(), "BEGIN IMMEDIATE", path_));
  absl::Status status = AppendLocked(events);
  if (status.ok()) status = Exec(db_.get(), "COMMIT", path_);
  if (!status.ok() && !sqlite3_get_autocommit(db_.get())) {
    Exec(db_.get(), "ROLLBACK", path_).IgnoreError();
  }
  return status;
}

absl::Status SqliteEventStore::AppendLocked(const std::vector<Event>& events) {
  if (!insert_) {
    CUSTOS_ASSIGN_OR_RETURN(
        Statement insert,
        Statement::Prepare(db_.get(), absl::StrCat("INSERT OR IGNORE INTO events (", kColumns,
                                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                                   "?, ?, ?, ?, ?, ?)")));
    insert_.emplace(std::move(insert));
  }
  Statement& insert = *insert_;
  for (const Event& e : events) {
    insert.Reset();
    insert.Bind(1, std::string_view(e.id));
    insert.Bind(2, std::string_view(e.camera));
    insert.Bind(3, e.time_ms);
    insert.Bind(4, std::string_view(EventTypeName(e.type)));
    insert.Bind(5, std::string_view(e.label));
    insert.Bind(6, e.track_id);
    insert.Bind(7, static_cast<double>(e.score));
    insert.Bind(8, static_cast<double>(e.box.x));
    insert.Bind(9, static_cast<double>(e.box.y));
    insert.Bind(10, static_cast<double>(e.box.w));
    insert.Bind(11, static_cast<double>(e.box.h));
    insert.Bind(12, std::string_view(e.zone));
    insert.Bind(13, std::string_view(e.direction));
    insert.Bind(14, e.dwell_ms);
    insert.Bind(15, std::string_view(e.snapshot));
    insert.Bind(16, e.speed_kmh);
    const int rc = insert.Step();
    if (rc != SQLITE_DONE) {
      absl::Status status =
          SqliteStatus(db_.get(), rc, absl::StrCat("storing event ", e.id), path_);
      insert.Reset();
      return status;
    }
  }
  insert.Reset();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Event>> SqliteEventStore::Query(const EventQuery& query) {
  CUSTOS_RETURN_IF_ERROR(CheckQuery(query));
  if (query.limit < 1 || query.limit > EventQuery::kMaxLimit) {
    return absl::InvalidArgumentError(absl::StrCat("query limit must be between 1 and ",
                                                   EventQuery::kMaxLimit, ", got ", query.limit));
  }
  std::vector<Param> params;
  std::string sql =
      absl::StrCat("SELECT ", kColumns, " FROM events",
                   WhereClause(query, /*with_paging=*/true, params), " ORDER BY id LIMIT ?");
  params.emplace_back(int64_t{query.limit});

  absl::MutexLock lock(&mu_);
  return SelectLocked(sql, params);
}

absl::StatusOr<std::optional<Event>> SqliteEventStore::Find(const std::string& id) {
  const std::string sql = absl::StrCat("SELECT ", kColumns, " FROM events WHERE id = ?");
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Event> events, SelectLocked(sql, {Param(id)}));
  if (events.empty()) return std::nullopt;
  return std::move(events[0]);
}

absl::StatusOr<std::vector<Event>> SqliteEventStore::SelectLocked(
    const std::string& sql, const std::vector<Param>& params) {
  CUSTOS_ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db_.get(), sql));
  BindAll(select, params);
  std::vector<Event> events;
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    Event e;
    e.id = select.ColumnText(0);
    e.camera = select.ColumnText(1);
    e.time_ms = select.ColumnInt(2);
    const std::string type = select.ColumnText(3);
    std::optional<EventType> parsed = EventTypeFromName(type);
    if (!parsed) {
      return absl::DataLossError(absl::StrCat("event ", e.id, " in ", path_, " has unknown type '",
                                              type, "' (written by a newer Custos?)"));
    }
    e.type = *parsed;
    e.label = select.ColumnText(4);
    e.track_id = select.ColumnInt(5);
    e.score = static_cast<float>(select.ColumnDouble(6));
    e.box = BoxF{
        static_cast<float>(select.ColumnDouble(7)), static_cast<float>(select.ColumnDouble(8)),
        static_cast<float>(select.ColumnDouble(9)), static_cast<float>(select.ColumnDouble(10))};
    e.zone = select.ColumnText(11);
    e.direction = select.ColumnText(12);
    e.dwell_ms = select.ColumnInt(13);
    e.snapshot = select.ColumnText(14);
    e.speed_kmh = select.ColumnDouble(15);
    events.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db_.get(), rc, "querying events", path_);
  return events;
}

absl::StatusOr<int64_t> SqliteEventStore::Count(const EventQuery& query) {
  CUSTOS_RETURN_IF_ERROR(CheckQuery(query));
  std::vector<Param> params;
  const std::string sql = absl::StrCat("SELECT count(*) FROM events",
                                       WhereClause(query, /*with_paging=*/false, params));
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(Statement count, Statement::Prepare(db_.get(), sql));
  BindAll(count, params);
  const int rc = count.Step();
  if (rc != SQLITE_ROW) return SqliteStatus(db_.get(), rc, "counting events", path_);
  return count.ColumnInt(0);
}

absl::Status SqliteEventStore::ForEachBucketRow(
    const EventQuery& query, int64_t bucket_ms, const std::string& select_sql,
    const std::string& group_sql, const std::function<void(const Statement&, int64_t)>& row) {
  CUSTOS_RETURN_IF_ERROR(CheckQuery(query));
  if (bucket_ms < 1 || query.to_ms == std::numeric_limits<int64_t>::max()) {
    return absl::InvalidArgumentError(
        "counting in buckets needs bucket_ms >= 1 and a closed range");
  }
  std::vector<Param> params;
  const std::string sql = absl::StrCat(
      "SELECT (time_ms - ", query.from_ms, ") / ", bucket_ms, " AS bucket, ", select_sql,
      " FROM events", WhereClause(query, /*with_paging=*/false, params), " ", group_sql);
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db_.get(), sql));
  BindAll(select, params);
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    row(select, query.from_ms + select.ColumnInt(0) * bucket_ms);
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db_.get(), rc, "counting events", path_);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<BucketCount>> SqliteEventStore::CountBuckets(const EventQuery& query,
                                                                        int64_t bucket_ms) {
  std::vector<BucketCount> counts;
  CUSTOS_RETURN_IF_ERROR(ForEachBucketRow(
      query, bucket_ms, "label, count(*)", "GROUP BY bucket, label ORDER BY bucket, label",
      [&](const Statement& row, int64_t start_ms) {
        counts.push_back(
            {.start_ms = start_ms, .label = row.ColumnText(1), .count = row.ColumnInt(2)});
      }));
  return counts;
}

absl::StatusOr<std::vector<LineCrossingCount>> SqliteEventStore::CountLineCrossings(
    const EventQuery& query, int64_t bucket_ms) {
  EventQuery crossings = query;
  crossings.type = EventType::kLineCross;
  std::vector<LineCrossingCount> counts;
  CUSTOS_RETURN_IF_ERROR(ForEachBucketRow(
      crossings, bucket_ms,
      "zone, direction, label, count(*), count(CASE WHEN speed_kmh > 0 THEN 1 END), "
      "coalesce(avg(CASE WHEN speed_kmh > 0 THEN speed_kmh END), 0)",
      "GROUP BY bucket, zone, direction, label ORDER BY bucket, zone, direction, label",
      [&](const Statement& row, int64_t start_ms) {
        counts.push_back({.start_ms = start_ms,
                          .line = row.ColumnText(1),
                          .direction = row.ColumnText(2),
                          .label = row.ColumnText(3),
                          .count = row.ColumnInt(4),
                          .with_speed = row.ColumnInt(5),
                          .mean_speed_kmh = row.ColumnDouble(6)});
      }));
  return counts;
}

absl::StatusOr<std::vector<std::string>> SqliteEventStore::Cameras() {
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db_.get(), "SELECT DISTINCT camera FROM events ORDER BY camera"));
  std::vector<std::string> cameras;
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) cameras.push_back(select.ColumnText(0));
  if (rc != SQLITE_DONE) return SqliteStatus(db_.get(), rc, "listing cameras", path_);
  return cameras;
}

absl::StatusOr<int64_t> SqliteEventStore::ForEachIdInTransaction(
    const char* sql, const std::vector<std::string>& ids, std::string_view what) {
  if (ids.empty()) return 0;
  absl::MutexLock lock(&mu_);
  CUSTOS_RETURN_IF_ERROR(Exec(db_.get(), "BEGIN IMMEDIATE", path_));
  int64_t changed = 0;
  absl::Status status = [&]() -> absl::Status {
    CUSTOS_ASSIGN_OR_RETURN(Statement statement, Statement::Prepare(db_.get(), sql));
    for (const std::string& id : ids) {
      statement.Reset();
      statement.Bind(1, std::string_view(id));
      const int rc = statement.Step();
      if (rc != SQLITE_DONE) return SqliteStatus(db_.get(), rc, what, path_);
      changed += sqlite3_changes(db_.get());
    }
    return absl::OkStatus();
  }();
  if (status.ok()) status = Exec(db_.get(), "COMMIT", path_);
  if (!status.ok()) {
    if (!sqlite3_get_autocommit(db_.get())) Exec(db_.get(), "ROLLBACK", path_).IgnoreError();
    return status;
  }
  return changed;
}

absl::StatusOr<int64_t> SqliteEventStore::Delete(const std::vector<std::string>& ids) {
  return ForEachIdInTransaction("DELETE FROM events WHERE id = ?", ids, "deleting events");
}

absl::StatusOr<int64_t> SqliteEventStore::ClearSnapshots(const std::vector<std::string>& ids) {
  return ForEachIdInTransaction("UPDATE events SET snapshot = '' WHERE id = ? AND snapshot != ''",
                                ids, "clearing snapshots");
}

absl::StatusOr<std::vector<Event>> SqliteEventStore::WithSnapshotsBefore(const std::string& camera,
                                                                         int64_t before_ms,
                                                                         int limit) {
  if (limit < 1 || limit > EventQuery::kMaxLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be between 1 and ", EventQuery::kMaxLimit, ", got ", limit));
  }
  const std::string sql = absl::StrCat("SELECT ", kColumns,
                                       " FROM events WHERE camera = ? AND time_ms < ? AND "
                                       "snapshot != '' ORDER BY id LIMIT ?");
  absl::MutexLock lock(&mu_);
  return SelectLocked(sql, {camera, before_ms, int64_t{limit}});
}

}  // namespace custos::store
