// Deletion receipts: what one retention batch deleted, why, and where the receipt goes (a
// JSON lines file and the audit log). Format: docs/retention.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace custos::retention {

enum class DataKind {
  kVideo,      // Recorded segments (files and index rows).
  kEvents,     // Event rows, and the snapshot files they reference.
  kSnapshots,  // Snapshot files of events that are kept longer than their snapshots.
};
const char* DataKindName(DataKind kind);  // "video", "events", "snapshots"

// One deletion batch: one rule, one kind, one camera, at most RetentionOptions::max_batch
// items. Written before anything is deleted; `id` makes it idempotent.
struct DeletionReceipt {
  std::string id;       // ULID of the batch.
  int64_t time_ms = 0;  // UTC when the batch was committed.
  // Why: "video-age camera=gate-2 max_age_h=72", "events-age camera=gate-2 max_age_h=720",
  // "snapshots-age ...", "quota quota_bytes=... used_bytes=...",
  // "min-free min_free_bytes=... free_bytes=...".
  std::string rule;
  DataKind kind = DataKind::kVideo;
  std::string camera;
  int64_t count = 0;      // Segments, events or snapshots.
  int64_t bytes = 0;      // Bytes of the files deleted (as indexed / as found).
  int64_t oldest_ms = 0;  // Time span of what was deleted (segment start/end, event time).
  int64_t newest_ms = 0;
  // video: segment paths relative to the data directory; events: the id range
  // "<first ulid>..<last ulid>"; snapshots: paths relative to the snapshot directory.
  std::vector<std::string> items;
  // events: the snapshot files deleted with them (relative to the snapshot directory).
  std::vector<std::string> files;
};

// One JSON object on one line (no newline at the end).
std::string ReceiptToJson(const DeletionReceipt& receipt);
// Errors: kDataLoss when `line` is not a receipt.
absl::StatusOr<DeletionReceipt> ReceiptFromJson(std::string_view line);

// Where every receipt goes besides the local file; the tamper-evident audit log implements
// it (DESIGN.md §1.4). Retention is fail-closed: nothing is deleted until Record() returned
// OK. Implementations must be idempotent by receipt id: after a crash the same receipt may
// be recorded again. Must be thread-safe.
class DeletionAuditor {
 public:
  virtual ~DeletionAuditor() = default;
  // Errors: any; retention stops and retries the same receipt at its next run.
  virtual absl::Status Record(const DeletionReceipt& receipt) = 0;
};

// The append-only JSON lines file DATA_DIR/retention/receipts.jsonl. Each Append() is one
// write of one line followed by fsync; a line torn by a crash is skipped by readers and
// the next Append() starts on a fresh line. Thread-compatible.
class ReceiptLog {
 public:
  explicit ReceiptLog(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // Errors: kResourceExhausted (disk full), kPermissionDenied, kUnavailable (other I/O).
  absl::Status Append(const DeletionReceipt& receipt);
  // Every whole receipt in the file, in order; a missing file has none.
  // Errors: kUnavailable, kPermissionDenied.
  absl::StatusOr<std::vector<DeletionReceipt>> ReadAll() const;
  // Whether a receipt with this id is in the file. Errors: as ReadAll().
  absl::StatusOr<bool> Contains(const std::string& id) const;

 private:
  std::string path_;
};

// errno of a failed file operation to the code that tells the caller what to do.
absl::Status ErrnoStatus(int error, std::string_view what, std::string_view path);

}  // namespace custos::retention
