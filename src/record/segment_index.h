// The index of recorded segments: one SQLite row per MP4 file under DATA_DIR/recordings, and
// the reconciliation of rows with files after a crash. See docs/recording.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/sqlite_util.h"

namespace custos::record {

enum class SegmentState {
  kOpen,       // Being written (or the writer crashed: Reconcile() settles it).
  kClosed,     // Finished by the writer; end_ms and bytes are exact.
  kRecovered,  // Found after a crash or on disk without a row, probed and kept.
  kDamaged,    // Cannot be played (no complete fragment), or its file is gone but on hold.
};
const char* SegmentStateName(SegmentState state);

struct Segment {
  int64_t id = 0;
  std::string camera;
  std::string path;  // Relative to the data directory: recordings/<camera>/<day>/<hour>/<ms>.mp4
  int64_t start_ms = 0;  // UTC of the first frame.
  int64_t end_ms = 0;    // UTC just after the last frame; start_ms while open.
  int64_t bytes = 0;
  SegmentState state = SegmentState::kOpen;
  bool evidence_hold = false;  // Never deleted, and never silently dropped from the index.
  // Why the hold was set (case or legal-basis reference); empty when not held. The legal
  // basis itself is checked by the caller of SetEvidenceHold().
  std::string hold_reason;
  // Id (ULID) of the retention batch that is deleting this segment, empty otherwise. A marked
  // row is committed to deletion: it cannot be put on hold (docs/retention.md).
  std::string delete_batch;
};

// What Reconcile() did.
struct ReconcileReport {
  int orphans_recovered = 0;  // Files without a row, probed and added as recovered.
  int orphans_damaged = 0;    // Files without a row that do not play, added as damaged.
  int open_recovered = 0;     // Rows left open by a crash, cut to their last whole fragment.
  int open_damaged = 0;       // Rows left open whose file has no whole fragment.
  int missing_removed = 0;    // Rows whose file is gone, removed.
  int missing_flagged = 0;    // Rows whose file is gone but on evidence hold, marked damaged.
};

// Thread-safe: one index serves the recorders of all cameras of a process (one SQLite
// connection behind a mutex; WAL, so readers in other processes are not blocked).
class SegmentIndex {
 public:
  // Opens (creating if needed) DATA_DIR/recordings/index.db and migrates its schema.
  // Errors: kFailedPrecondition (data_dir missing, schema newer than this build),
  // kPermissionDenied, kDataLoss (not a database), kResourceExhausted (disk full),
  // kUnavailable (locked or I/O error: retry).
  static absl::StatusOr<std::unique_ptr<SegmentIndex>> Open(const std::string& data_dir);

  const std::string& data_dir() const { return data_dir_; }

  // Adds a row in state open; returns its id. Errors: as Open(), kInvalidArgument for a
  // duplicate path.
  absl::StatusOr<int64_t> AddOpen(const std::string& camera, const std::string& path,
                                  int64_t start_ms);
  // Sets the end, size and state of segment `id`. Errors: kNotFound, others as Open().
  absl::Status Finish(int64_t id, int64_t end_ms, int64_t bytes, SegmentState state);
  // Adds a complete row (Reconcile, imports); returns its id.
  absl::StatusOr<int64_t> Add(const Segment& segment);
  // Sets or clears the evidence hold of segment `id`; `reason` is kept with a hold and
  // cleared with it. Errors: kNotFound; kFailedPrecondition when setting a hold on a segment
  // that retention has already committed to deleting (its receipt is written).
  absl::Status SetEvidenceHold(int64_t id, bool hold, std::string_view reason = {});

  // Retention (src/retention, docs/retention.md). Segments that retention may delete: not on
  // hold, not open, not already marked; `camera` empty means every camera; only those whose
  // end_ms < end_before_ms; oldest first (start_ms, id); at most `limit`.
  absl::StatusOr<std::vector<Segment>> Deletable(const std::string& camera, int64_t end_before_ms,
                                                 int limit);
  // Marks those of `ids` that are still deletable (see Deletable) with `batch`, in one
  // transaction, and returns the rows now marked with `batch`. Rows put on hold, reopened or
  // marked by another batch meanwhile are skipped. Errors: as Open(), kInvalidArgument for
  // an empty batch.
  absl::StatusOr<std::vector<Segment>> MarkForDeletion(const std::vector<int64_t>& ids,
                                                       const std::string& batch);
  // The rows marked with `batch`, by start time.
  absl::StatusOr<std::vector<Segment>> MarkedForDeletion(const std::string& batch);
  // Every batch id that still has marked rows.
  absl::StatusOr<std::vector<std::string>> PendingDeletionBatches();
  // Clears the mark of `batch` (its deletion was never committed); returns the rows cleared.
  absl::StatusOr<int64_t> UnmarkDeletion(const std::string& batch);
  // Removes the rows marked with `batch` (after their files are gone); returns how many.
  absl::StatusOr<int64_t> RemoveDeleted(const std::string& batch);
  // Total bytes of every row (held and open ones included).
  absl::StatusOr<int64_t> TotalBytes();

  // Segments of `camera` that overlap [from_ms, to_ms], by start time.
  absl::StatusOr<std::vector<Segment>> Overlapping(const std::string& camera, int64_t from_ms,
                                                   int64_t to_ms);
  // Every row, by camera then start time.
  absl::StatusOr<std::vector<Segment>> All();
  // Bytes on disk per camera, over all rows.
  absl::StatusOr<std::map<std::string, int64_t>> BytesPerCamera();

  // Brings rows and files into agreement after a crash or manual changes; run at start-up,
  // before any recorder writes. Open rows are re-probed: the file is cut back to its last
  // complete fragment and closed as recovered with its real end time. Files without a row
  // are probed and added (recovered, or damaged when they do not play). Rows without a
  // file are removed, or marked damaged if on evidence hold. Errors: as Open().
  absl::StatusOr<ReconcileReport> Reconcile();

 private:
  SegmentIndex(std::string data_dir, std::string db_path, store::SqliteDb db);
  absl::StatusOr<std::vector<Segment>> Query(const std::string& where,
                                             const std::vector<std::string>& text_params,
                                             const std::vector<int64_t>& int_params)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> AddLocked(const Segment& segment) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FinishLocked(int64_t id, int64_t end_ms, int64_t bytes, SegmentState state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> MarkLocked(const std::vector<int64_t>& ids, const std::string& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `sql` with `batch` bound to its one parameter; returns sqlite3_changes().
  absl::StatusOr<int64_t> ExecForBatch(const char* sql, const std::string& batch,
                                       std::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string data_dir_;
  const std::string db_path_;
  absl::Mutex mu_;
  store::SqliteDb db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::record
