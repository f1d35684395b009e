// What the server adds around the policy engine and the audit log: policy changes written to
// the tamper-evident log, and the public monthly statistics computed from it (DESIGN.md §1.4,
// §1.7; docs/transparency.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "audit/audit_log.h"
#include "config/config.h"
#include "custos/clock.h"
#include "nlohmann/json.hpp"
#include "policy/policy_auditor.h"
#include "policy/policy_engine.h"

namespace custos::server {

// Appends every policy change and refusal to the audit log before the engine commits it
// (fail-closed: a change whose entry is not durable is rolled back).
class AuditLogPolicyAuditor final : public policy::PolicyAuditor {
 public:
  explicit AuditLogPolicyAuditor(audit::AuditLog* log) : log_(log) {}
  absl::Status Record(const policy::PolicyChange& change) override;

 private:
  audit::AuditLog* const log_;
};

// The audit-log actions counted per month, and the name each has in the statistics.
struct MonthCounts {
  int64_t logins = 0;
  int64_t live_views = 0;
  int64_t playbacks = 0;
  int64_t searches = 0;
  int64_t plate_queries = 0;
  int64_t exports = 0;
  int64_t deletions = 0;  // Items deleted by retention.
  int64_t matches = 0;
  int64_t confirmed_matches = 0;
  int64_t false_matches = 0;
  int64_t plate_hits = 0;  // Hotlist hits (leads), and operators' verdicts on them.
  int64_t confirmed_plate_hits = 0;
  int64_t false_plate_hits = 0;
  int64_t approvals_requested = 0;
  int64_t approvals_granted = 0;
  int64_t approvals_rejected = 0;
  int64_t refusals = 0;  // Acts refused by a rule or a role.
  int64_t audit_reads = 0;
};

// The public statistics (GET /public/stats.json): per UTC month, counted from the audit log,
// which is the record of every sensitive act; plus the live state now (cameras, watchlist
// size, authorisations and assemblies in force, the latest checkpoint). Scans only the
// entries appended since the last call. Thread-safe.
class PublicStatistics {
 public:
  struct Sources {
    audit::AuditLog* audit = nullptr;              // Required.
    const policy::PolicyEngine* policy = nullptr;  // Optional.
    const Clock* clock = nullptr;                  // Required.
    int cameras = 0;                               // Cameras in the register.
    int cameras_recording = 0;
    // Active watchlist entries now; empty: 0 (no watchlist on this server).
    std::function<int64_t()> watchlist_size = {};
  };
  explicit PublicStatistics(Sources sources) : sources_(std::move(sources)) {}

  // Errors: those of reading the audit log (kDataLoss, kUnavailable).
  absl::StatusOr<nlohmann::json> Json();

  // Folds one entry's canonical JSON into `months` (exposed for tests).
  static void Count(const nlohmann::json& entry, std::map<std::string, MonthCounts>& months);

 private:
  const Sources sources_;
  absl::Mutex mu_;
  uint64_t scanned_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, MonthCounts> months_ ABSL_GUARDED_BY(mu_);  // "2026-11" -> counts.
};

}  // namespace custos::server
