// Retention: deletes expired recordings, events and snapshots, keeps recordings under a
// quota and the data file system above a free-space floor, never touches what is on
// evidence hold, and leaves a receipt for every deletion batch. See docs/retention.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "custos/clock.h"
#include "record/segment_index.h"
#include "retention/receipt_log.h"
#include "store/sqlite_event_store.h"

namespace custos::retention {

inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kDayMs = 24 * kHourMs;

// How long each kind of data of one camera is kept.
struct RetentionPolicy {
  // Recordings: a segment is deleted once its end is older than this. 1 h .. 10 years.
  int64_t video_max_age_ms = 72 * kHourMs;
  // Events: deleted (with their snapshot files) once older than this. 1 h .. 10 years.
  int64_t events_max_age_ms = 30 * kDayMs;
  // Snapshot files of events: nullopt keeps them as long as their events. Shorter values
  // delete the files earlier and clear the events' snapshot references; a snapshot never
  // outlives its event, so a longer value is an error.
  std::optional<int64_t> snapshots_max_age_ms = std::nullopt;
};

// A camera's deviations from RetentionOptions::defaults; unset fields take the default.
struct CameraRetention {
  std::optional<int64_t> video_max_age_ms = std::nullopt;
  std::optional<int64_t> events_max_age_ms = std::nullopt;
  std::optional<int64_t> snapshots_max_age_ms = std::nullopt;
};

struct RetentionOptions {
  // The data directory: recordings/ (the segment index's) and retention/ (receipts.jsonl,
  // pending/) live under it. Must exist.
  std::string data_dir;
  // Where events' snapshot references are resolved; empty: DATA_DIR/snapshots. Files outside
  // it are never deleted.
  std::string snapshot_dir;
  // The policy of every camera without an entry in `cameras`.
  RetentionPolicy defaults;
  // Per camera id.
  std::map<std::string, CameraRetention> cameras;
  // Most bytes of recordings (all cameras, held segments included); 0: no quota. Over it,
  // the oldest segments not on hold are deleted across cameras until under it.
  int64_t video_quota_bytes = 0;
  // Least free bytes on the data file system; 0: no floor. Below it, the oldest segments
  // not on hold are deleted across cameras until above it.
  int64_t min_free_bytes = 0;
  // Most items (segments, events, snapshots) per deletion batch and receipt. 1..10000.
  int max_batch = 500;
};

// File system access, injectable so that tests fake free space and fail deletions.
// Implementations must be thread-safe.
class RetentionEnv {
 public:
  virtual ~RetentionEnv() = default;
  // Removes a file; a file that is already gone is not an error.
  // Errors: kPermissionDenied, kUnavailable (other I/O errors).
  virtual absl::Status RemoveFile(const std::string& path);
  // Bytes available to the server on the file system holding `path` (statvfs f_bavail).
  // Errors: kNotFound, kUnavailable.
  virtual absl::StatusOr<int64_t> FreeBytes(const std::string& path);
  // The process-wide real file system.
  static RetentionEnv* Default();
};

// What one RunOnce() or Reconcile() did.
struct RetentionSummary {
  int64_t segments_deleted = 0;
  int64_t segment_bytes_deleted = 0;
  int64_t events_deleted = 0;
  int64_t snapshots_deleted = 0;  // Snapshot files, with their events or on their own.
  int64_t snapshot_bytes_deleted = 0;
  int batches_finished_after_crash = 0;   // Committed batches that a crash or error left.
  int batches_rolled_back = 0;            // Marked in the index but never committed.
  std::vector<DeletionReceipt> receipts;  // Every batch finished by this run, in order.
};

// Enforces retention over one data directory. The server calls RunOnce() periodically
// (e.g. every minute); all time comes from the Clock.
//
// Crash safety: a batch is (1) marked in the segment index, (2) written to
// retention/pending/<id>.json, (3) appended to receipts.jsonl and (4) recorded by the
// auditor; only then (5) are its files deleted and (6) its rows removed, and (7) the
// pending file removed. A batch that got past (2) is rolled forward by Reconcile(); one
// marked in the index without a pending file is unmarked. Details: docs/retention.md.
//
// Thread-safe: RunOnce() and Reconcile() serialise on a mutex. Only one enforcer may run
// per data directory (the server's).
class RetentionEnforcer {
 public:
  // `index` and `clock` are required; `events` may be null (no event store); `auditor` is
  // required (fail-closed: no deletion without an audited receipt); `env` null means the
  // real file system. All must outlive the enforcer.
  // Errors: kInvalidArgument (an option out of range: the message names it),
  // kFailedPrecondition (data_dir missing), kPermissionDenied (retention/ not creatable).
  static absl::StatusOr<std::unique_ptr<RetentionEnforcer>> Create(
      const RetentionOptions& options, record::SegmentIndex* index, store::SqliteEventStore* events,
      DeletionAuditor* auditor, const Clock* clock, RetentionEnv* env = nullptr);

  // Finishes what a crash left (Reconcile()), then applies, in this order: the age of
  // recordings, events and snapshots per camera, the recordings quota, the free-space floor.
  // Stops at the first error; what was finished before it has its receipts.
  // Errors: kResourceExhausted (over quota or under the free-space floor with only held or
  // open segments left: the message says how much is held), kUnavailable (the auditor or
  // the receipt log refused: nothing of that batch was deleted; retried next run), others
  // from the index, the event store and the file system.
  absl::StatusOr<RetentionSummary> RunOnce();

  // Rolls forward every batch that was committed (pending file written) and rolls back
  // marks without one. Run by RunOnce(); callable on its own at start-up.
  // Errors: as RunOnce().
  absl::StatusOr<RetentionSummary> Reconcile();

  // The effective policy of `camera` (defaults merged with its override).
  RetentionPolicy PolicyFor(const std::string& camera) const;

  const std::string& receipts_path() const { return receipts_path_; }

 private:
  // One batch on its way through the steps above. Serialised as the pending file.
  struct Batch {
    DeletionReceipt receipt;
    std::vector<std::string> event_ids;  // kEvents: rows to delete; kSnapshots: to clear.
    std::vector<std::string> paths;      // Absolute paths of the files to delete.
  };

  RetentionEnforcer(const RetentionOptions& options, record::SegmentIndex* index,
                    store::SqliteEventStore* events, DeletionAuditor* auditor, const Clock* clock,
                    RetentionEnv* env);

  absl::Status ReconcileLocked(RetentionSummary& summary) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status VideoAge(RetentionSummary& summary) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status EventsAge(RetentionSummary& summary) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SnapshotsAge(RetentionSummary& summary) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Quota(RetentionSummary& summary) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MinFree(RetentionSummary& summary) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Deletes oldest-first across cameras until `need_bytes` are freed (quota, min-free).
  // Returns the bytes freed.
  absl::StatusOr<int64_t> DeleteOldest(int64_t need_bytes, const std::string& rule,
                                       RetentionSummary& summary)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks `segments` and runs them as one video batch. Returns the rows actually deleted.
  absl::StatusOr<std::vector<record::Segment>> DeleteSegments(
      const std::vector<record::Segment>& segments, const std::string& rule,
      RetentionSummary& summary) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Steps (2)-(7) for a new batch.
  absl::Status Commit(Batch& batch, RetentionSummary& summary) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Steps (4)-(7).
  absl::Status Execute(const Batch& batch, RetentionSummary& summary)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The absolute path of snapshot `relative`, or "" when it would lie outside snapshot_dir.
  std::string SnapshotPath(const std::string& relative) const;
  std::string PendingPath(const std::string& id) const;
  absl::Status WritePending(const Batch& batch) const;
  absl::StatusOr<Batch> ReadPending(const std::string& path) const;

  const RetentionOptions options_;
  record::SegmentIndex* const index_;
  store::SqliteEventStore* const events_;
  DeletionAuditor* const auditor_;
  const Clock* const clock_;
  RetentionEnv* const env_;
  const std::string pending_dir_;
  const std::string receipts_path_;
  absl::Mutex mu_;
  ReceiptLog log_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::retention
