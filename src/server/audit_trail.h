// The server's record of access-relevant acts (logins, live views, playbacks, downloads,
// searches, user changes) and retention deletions: one JSON object per line in
// DATA_DIR/audit/access.jsonl, each line written and fsynced before Record() returns.
// The accountability work replaces this file with the tamper-evident Merkle log behind the
// same two interfaces (DESIGN.md §1.4).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "auth/access_log.h"
#include "retention/receipt_log.h"

namespace custos::server {

class AuditTrail final : public auth::AccessLog, public retention::DeletionAuditor {
 public:
  // Creates DATA_DIR/audit (mode 0700) and opens access.jsonl (mode 0600) for appending.
  // Errors: kPermissionDenied / kUnavailable (cannot create or open them).
  static absl::StatusOr<std::unique_ptr<AuditTrail>> Open(const std::string& data_dir);
  ~AuditTrail() override;

  // Never fails the caller; a write error is logged and counted (failed_writes()).
  void Record(const auth::AccessRecord& record) override;
  // Fail-closed for retention: a deletion is only done once its line is on disk.
  absl::Status Record(const retention::DeletionReceipt& receipt) override;

  const std::string& path() const { return path_; }
  int64_t failed_writes() const;

 private:
  AuditTrail(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status AppendLine(const std::string& line);

  const std::string path_;
  mutable absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_);
  int64_t failed_writes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace custos::server
