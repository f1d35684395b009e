#include "store/sqlite_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "custos/status.h"

namespace custos::store {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::Status SqliteStatus(sqlite3* db, int rc, std::string_view what, std::string_view path) {
  // sqlite3_errmsg describes the most recent failure on `db`, which is usually `rc`; when it
  // is not (or there is no connection), fall back to the generic text of the code.
  const char* detail = sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) detail = sqlite3_errmsg(db);
  std::string message = absl::StrCat(AbslView(what), " (", AbslView(path), "): ", detail);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(
          absl::StrCat(message, "; another connection holds the lock, retry later"));
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return absl::UnavailableError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat(message, "; free disk space"));
    case SQLITE_NOMEM:
      return absl::ResourceExhaustedError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(
          absl::StrCat(message, "; the file is damaged or not an SQLite database"));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(
          absl::StrCat(message, "; check the permissions of the file and its directory"));
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<Statement> Statement::Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteStatus(db, rc, absl::StrCat("preparing '", AbslView(sql), "'"),
                        sqlite3_db_filename(db, "main") ? sqlite3_db_filename(db, "main") : "");
  }
  return Statement(stmt);
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void Statement::Bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void Statement::Bind(int index, std::string_view value) {
  // A default-constructed view has no data pointer, which SQLite would bind as NULL: an empty
  // string is an empty string.
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc =
      sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
}

int Statement::Step() {
  if (bind_error_ != SQLITE_OK) return bind_error_;
  return sqlite3_step(stmt_);
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

absl::Status Exec(sqlite3* db, std::string_view sql, std::string_view path) {
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);  // Same text as sqlite3_errmsg, which SqliteStatus reads.
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, absl::StrCat("running '", text, "'"), path);
  return absl::OkStatus();
}

absl::Status EnableWal(sqlite3* db, std::string_view what, std::string_view path, bool in_memory) {
  CUSTOS_ASSIGN_OR_RETURN(Statement journal, Statement::Prepare(db, "PRAGMA journal_mode = WAL"));
  const int step = journal.Step();
  if (step != SQLITE_ROW) {
    return SqliteStatus(db, step, absl::StrCat("switching ", AbslView(what), " to WAL mode"), path);
  }
  const std::string mode = journal.ColumnText(0);
  if (mode != "wal" && !(in_memory && mode == "memory")) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot use WAL journal mode for ", AbslView(path), " (SQLite chose '", mode,
                     "'); put the database on a local file system"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> QueryInt(sqlite3* db, std::string_view sql, std::string_view path) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return SqliteStatus(db, rc, absl::StrCat("running '", AbslView(sql), "'"), path);
  }
  rc = sqlite3_step(raw);
  const int64_t value = rc == SQLITE_ROW ? sqlite3_column_int64(raw, 0) : 0;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    absl::Status status = SqliteStatus(db, rc, absl::StrCat("running '", AbslView(sql), "'"), path);
    sqlite3_finalize(raw);
    return status;
  }
  sqlite3_finalize(raw);
  if (rc == SQLITE_DONE) {
    return absl::InternalError(absl::StrCat("'", AbslView(sql), "' returned no row"));
  }
  return value;
}

absl::Status NewerSchemaError(std::string_view path, int64_t found, int64_t latest) {
  return absl::FailedPreconditionError(absl::StrCat(
      "database ", AbslView(path), " has schema version ", found,
      ", newer than this build of Custos understands (", latest,
      "); it was written by a newer Custos. Upgrade Custos or point the store at another file; "
      "the database was not changed"));
}

absl::Status ApplyMigrations(sqlite3* db, const std::vector<Migration>& migrations,
                             std::string_view path) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError("schema migrations must be numbered 1, 2, 3, ... in order");
    }
  }
  const int64_t latest = migrations.empty() ? 0 : migrations.back().version;
  // IMMEDIATE takes the write lock before reading the version, so two processes opening a
  // new database at once cannot both migrate it.
  CUSTOS_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", path));
  absl::Status status = [&]() -> absl::Status {
    CUSTOS_ASSIGN_OR_RETURN(const int64_t current, QueryInt(db, "PRAGMA user_version", path));
    if (current > latest) return NewerSchemaError(path, current, latest);
    for (const Migration& migration : migrations) {
      if (migration.version <= current) continue;
      for (const std::string& step : migration.steps) {
        absl::Status step_status = Exec(db, step, path);
        if (!step_status.ok()) {
          return absl::Status(
              step_status.code(),
              absl::StrCat("migrating the schema from version ", current, " to ", migration.version,
                           " failed, nothing was changed: ", step_status.message()));
        }
      }
      CUSTOS_RETURN_IF_ERROR(
          Exec(db, absl::StrCat("PRAGMA user_version = ", migration.version), path));
    }
    return Exec(db, "COMMIT", path);
  }();
  if (!status.ok() && !sqlite3_get_autocommit(db)) Exec(db, "ROLLBACK", path).IgnoreError();
  return status;
}

absl::StatusOr<SqliteDb> OpenModuleDb(const std::string& path, int64_t application_id,
                                      const std::vector<Migration>& migrations,
                                      std::string_view what, int busy_timeout_ms) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(what), " path is empty; give a file name"));
  }
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!std::filesystem::is_directory(dir, ec)) {
      return absl::FailedPreconditionError(absl::StrCat("cannot create ", AbslView(what), " ", path,
                                                        ": directory ", dir.string(),
                                                        " does not exist; create it first"));
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      ::close(fd);
    } else if (errno != EEXIST) {
      const int e = errno;
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", AbslView(what), " ", path, ": ", std::strerror(e)));
    }
  }
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK) {
    return SqliteStatus(db.get(), rc, absl::StrCat("opening ", AbslView(what)), path);
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  CUSTOS_ASSIGN_OR_RETURN(const int64_t app_id, QueryInt(db.get(), "PRAGMA application_id", path));
  CUSTOS_ASSIGN_OR_RETURN(const int64_t objects,
                          QueryInt(db.get(), "SELECT count(*) FROM sqlite_master", path));
  if (app_id != 0 && app_id != application_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, " belongs to another application (application_id ", app_id,
                     "); point the ", AbslView(what), " at another file. It was not changed"));
  }
  if (app_id == 0 && objects > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, " already has tables but is not a Custos ", AbslView(what),
                     "; refusing to modify it. Point the ", AbslView(what), " at another file"));
  }
  const int64_t latest = migrations.back().version;
  CUSTOS_ASSIGN_OR_RETURN(const int64_t version, QueryInt(db.get(), "PRAGMA user_version", path));
  if (version > latest) return NewerSchemaError(path, version, latest);
  CUSTOS_RETURN_IF_ERROR(EnableWal(db.get(), what, path, in_memory));
  CUSTOS_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA synchronous = NORMAL", path));
  // Erased templates and crops are overwritten on disk, not left in free pages.
  CUSTOS_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA secure_delete = ON", path));
  CUSTOS_RETURN_IF_ERROR(ApplyMigrations(db.get(), migrations, path));
  return db;
}

}  // namespace custos::store
