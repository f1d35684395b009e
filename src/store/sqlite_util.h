// Thin RAII wrappers over the SQLite C API, the mapping from SQLite result codes to
// absl::Status, and versioned schema migrations. Internal to the store module.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace custos::store {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;

// Maps an SQLite result code to the code that tells the caller what to do:
// BUSY/LOCKED/IOERR/CANTOPEN -> kUnavailable (retry), FULL/NOMEM -> kResourceExhausted,
// CORRUPT/NOTADB -> kDataLoss, READONLY/PERM/AUTH -> kPermissionDenied, others -> kInternal.
// The message is "<what> (<path>): <sqlite's message>".
absl::Status SqliteStatus(sqlite3* db, int rc, std::string_view what, std::string_view path);

// A prepared statement. Bind errors are remembered and returned by the next Step().
// Thread-compatible, like the connection it belongs to.
class Statement {
 public:
  // Errors: as SqliteStatus.
  static absl::StatusOr<Statement> Prepare(sqlite3* db, std::string_view sql);

  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based. Text is copied.
  void Bind(int index, int64_t value);
  void Bind(int index, double value);
  void Bind(int index, std::string_view value);

  // SQLITE_ROW, SQLITE_DONE, or an error code (including a remembered bind error).
  int Step();
  // Ready to run again with new bindings.
  void Reset();

  int64_t ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
  double ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string ColumnText(int column) const;  // "" for NULL.

 private:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = SQLITE_OK;
};

// Runs SQL that returns no rows (may hold several statements).
// Errors: as SqliteStatus.
absl::Status Exec(sqlite3* db, std::string_view sql, std::string_view path);

// Switches `db` (`what`: "policy database", for messages) to WAL journal mode, which lets
// readers proceed while one writer writes. An in-memory database keeps "memory" mode.
// Errors: as SqliteStatus; kFailedPrecondition when SQLite will not use WAL there (a network
// file system).
absl::Status EnableWal(sqlite3* db, std::string_view what, std::string_view path, bool in_memory);

// Runs a query returning one integer (PRAGMA user_version, SELECT count(*) ...).
// Errors: as SqliteStatus; kInternal when it returns no row.
absl::StatusOr<int64_t> QueryInt(sqlite3* db, std::string_view sql, std::string_view path);

// One step of the schema history: applying `steps` in order takes the schema from
// version - 1 to `version`. Versions are 1, 2, 3, ... and never change once released.
struct Migration {
  int version;
  std::vector<std::string> steps;
};

// Brings the schema (PRAGMA user_version) up to the last of `migrations`, applying the
// missing ones in one IMMEDIATE transaction: all or nothing, safe against another process
// migrating at the same time.
// Errors: kFailedPrecondition (the database is at a newer version than the last migration),
// others as SqliteStatus, with the failing step's version in the message.
absl::Status ApplyMigrations(sqlite3* db, const std::vector<Migration>& migrations,
                             std::string_view path);

// The kFailedPrecondition returned for a database whose schema version `found` is newer than
// the `latest` this build knows.
absl::Status NewerSchemaError(std::string_view path, int64_t found, int64_t latest);

// Opens (creating with mode 0600 when missing) the SQLite file `path` of application
// `application_id` and brings it to the last of `migrations`, with WAL, synchronous NORMAL and
// secure_delete (erased rows are overwritten on disk). `what` names the store in messages
// ("watchlist database"). A file of another application, one with tables but no application
// id, or one of a newer schema is refused before anything is written.
// Errors: kInvalidArgument (empty path); kFailedPrecondition (missing directory, foreign or
// newer file); kPermissionDenied; kDataLoss; kUnavailable.
absl::StatusOr<SqliteDb> OpenModuleDb(const std::string& path, int64_t application_id,
                                      const std::vector<Migration>& migrations,
                                      std::string_view what, int busy_timeout_ms);

}  // namespace custos::store
