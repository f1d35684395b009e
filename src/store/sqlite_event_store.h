// The single-node event store: one SQLite file in WAL mode. Schema and migrations are
// documented in docs/events.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "custos/event_store.h"
#include "store/sqlite_util.h"

namespace custos::store {

struct SqliteEventStoreOptions {
  // The database file; created with the current schema when missing. ":memory:" gives a
  // private in-memory database (tests).
  std::string path;
  // How long a write waits for a lock held by another connection (another process on the
  // same file) before failing with kUnavailable.
  int busy_timeout_ms = 5000;
};

// EventStore on SQLite: WAL journal, synchronous=NORMAL (a power cut may lose the last
// transactions but never corrupts the file), busy_timeout for concurrent writers. Opening
// applies pending schema migrations; it never deletes, truncates or migrates a file it does
// not recognise as a Custos event database.
//
// Thread-safe: one connection behind a mutex, so calls are serialised. Several processes
// may open the same file; SQLite's locking and the busy timeout coordinate them.
class SqliteEventStore final : public EventStore {
 public:
  // Errors:
  //   kFailedPrecondition: the directory does not exist; the file is a directory; the
  //     database's schema is newer than this build; the file is an SQLite database of some
  //     other application; WAL mode is not available on this file system.
  //   kPermissionDenied: the file or its directory is not writable.
  //   kDataLoss: the file exists but is not an SQLite database, or is corrupt.
  //   kUnavailable: locked by another process beyond busy_timeout_ms, or an I/O error.
  //   kInvalidArgument: empty path or negative busy_timeout_ms.
  static absl::StatusOr<std::unique_ptr<SqliteEventStore>> Open(
      const SqliteEventStoreOptions& options);

  // The schema version this build creates and understands (PRAGMA user_version).
  static int SchemaVersion();
  // The migration history; the last entry's version is SchemaVersion().
  static const std::vector<Migration>& Migrations();

  absl::Status Append(const std::vector<Event>& events) override;
  absl::StatusOr<std::vector<Event>> Query(const EventQuery& query) override;
  absl::StatusOr<std::optional<Event>> Find(const std::string& id) override;
  absl::StatusOr<int64_t> Count(const EventQuery& query) override;
  absl::StatusOr<std::vector<BucketCount>> CountBuckets(const EventQuery& query,
                                                        int64_t bucket_ms) override;
  absl::StatusOr<std::vector<LineCrossingCount>> CountLineCrossings(const EventQuery& query,
                                                                    int64_t bucket_ms) override;

  // Retention (src/retention, docs/retention.md).
  // Every camera that has stored events.
  // Errors: kUnavailable, kDataLoss.
  absl::StatusOr<std::vector<std::string>> Cameras();
  // Deletes the events with these ids in one transaction; returns how many existed.
  // Errors: as Append() (nothing deleted on error).
  absl::StatusOr<int64_t> Delete(const std::vector<std::string>& ids);
  // Clears the snapshot reference of these events (their snapshot files were deleted before
  // the events themselves expired); returns how many changed. Errors: as Delete().
  absl::StatusOr<int64_t> ClearSnapshots(const std::vector<std::string>& ids);
  // Events of `camera` with time_ms < before_ms that reference a snapshot, in id order, at
  // most `limit` (1..EventQuery::kMaxLimit). Errors: as Query().
  absl::StatusOr<std::vector<Event>> WithSnapshotsBefore(const std::string& camera,
                                                         int64_t before_ms, int limit);

  const std::string& path() const { return path_; }

 private:
  SqliteEventStore(std::string path, SqliteDb db);

  absl::Status AppendLocked(const std::vector<Event>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `sql` (one `?` for the id) for each id in one transaction; sums the changes.
  absl::StatusOr<int64_t> ForEachIdInTransaction(const char* sql,
                                                 const std::vector<std::string>& ids,
                                                 std::string_view what);
  absl::StatusOr<std::vector<Event>> SelectLocked(
      const std::string& sql, const std::vector<std::variant<int64_t, std::string>>& params)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs a bucketed aggregate `select_sql` + WHERE of `query` + `group_sql` (the first column
  // the bucket index), calling `row` for each result row with the bucket's start.
  absl::Status ForEachBucketRow(const EventQuery& query, int64_t bucket_ms,
                                const std::string& select_sql, const std::string& group_sql,
                                const std::function<void(const Statement&, int64_t)>& row);

  const std::string path_;
  absl::Mutex mu_;
  SqliteDb db_ ABSL_GUARDED_BY(mu_);
  // Prepared once, after db_ so that it is finalised before the connection closes.
  std::optional<Statement> insert_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::store
