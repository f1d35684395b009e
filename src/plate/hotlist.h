// Plate hotlists: the vehicles the live pipeline looks out for (docs/plates.md "Hotlists").
//
// An entry is a plate (A-Z, 0-9) with a label, a reason and a legal basis in force covering
// plate_hotlist. Proposing it opens a four-eyes request in the policy engine; the entry is
// active only while that request is approved (by another supervisor), its legal basis is in
// force and it has not expired or been withdrawn — all checked against the clock and the
// policy engine at every match, so nothing waits for a sweeper. Matching tolerates up to the
// entry's max_confusions OCR confusions (plate_match.h).
//
// Thread-safe. Changes are recorded with the auditor inside their transaction (fail-closed);
// approvals and rejections are the policy engine's (and audited there).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "auth/authenticator.h"
#include "custos/clock.h"
#include "plate/plate_reader.h"
#include "policy/policy_auditor.h"
#include "policy/policy_engine.h"
#include "store/sqlite_util.h"

namespace custos::plate {

enum class HotlistStatus { kPending, kActive, kRejected, kWithdrawn, kExpired };
std::string_view HotlistStatusName(HotlistStatus status);  // "pending", "active", ...

struct HotlistSpec {
  std::string plate = {};   // Normalised on entry; 2..12 characters A-Z, 0-9.
  std::string label = {};   // What operators see: "stolen vehicle, case 4711". 1..200 characters.
  std::string reason = {};  // Why; 1..2000 characters.
  std::string legal_basis_ref = {};
  int64_t expires_ms = 0;  // 0: the default expiry.
  int max_confusions = 1;  // 0..2.
};

struct HotlistEntry {
  std::string id;  // ULID.
  HotlistSpec spec;
  std::string approval_id;  // The policy engine's four-eyes request.
  std::string proposed_by;
  int64_t proposed_ms = 0;
  std::string withdrawn_by;  // Empty unless withdrawn.
  int64_t withdrawn_ms = 0;
  std::string withdraw_reason;
  // Filled from the policy engine when listed.
  HotlistStatus status = HotlistStatus::kPending;
  std::string decided_by;
  int64_t decided_ms = 0;
};

struct HotlistOptions {
  std::string path;  // Usually DATA_DIR/hotlist.db; created (mode 0600) when missing.
  int64_t default_expiry_ms = 7LL * 24 * 3'600'000;
  int64_t max_expiry_ms = 30LL * 24 * 3'600'000;
  int busy_timeout_ms = 5000;
};

struct HotlistDeps {
  const Clock* clock = nullptr;              // Required.
  policy::PolicyEngine* policy = nullptr;    // Required.
  policy::PolicyAuditor* auditor = nullptr;  // Required.
};

// A read that matched an active entry.
struct HotlistMatch {
  HotlistEntry entry = {};
  std::string text = {};      // The read's candidate that matched.
  int distance = 0;           // Confusions.
  float confidence = 0;       // That candidate's.
  int64_t keep_until_ms = 0;  // The legal basis's expiry: how long the hit is kept.
};

class HotlistStore {
 public:
  // Errors: kInvalidArgument (options, deps); as store::OpenModuleDb.
  static absl::StatusOr<std::unique_ptr<HotlistStore>> Create(const HotlistOptions& options,
                                                              const HotlistDeps& deps);
  ~HotlistStore();

  // Needs plate_query and a legal basis in force covering plate_hotlist. Returns the pending
  // entry. Errors: kInvalidArgument (the message says what to fix); kPermissionDenied;
  // kUnauthenticated; the auditor's code; store errors.
  absl::StatusOr<HotlistEntry> Propose(const auth::Principal& actor, const HotlistSpec& spec);
  // The second pair of eyes (approve_watchlist, not the proposer): through the policy engine.
  absl::StatusOr<HotlistEntry> Approve(const auth::Principal& approver, std::string_view id);
  absl::StatusOr<HotlistEntry> Reject(const auth::Principal& approver, std::string_view id,
                                      std::string_view reason);
  // The proposer or a supervisor; a reason is required. Errors: kFailedPrecondition (already
  // withdrawn, rejected or expired).
  absl::StatusOr<HotlistEntry> Withdraw(const auth::Principal& actor, std::string_view id,
                                        std::string_view reason);

  absl::StatusOr<HotlistEntry> Get(std::string_view id) const;
  // Every entry, newest first, with its status now.
  absl::StatusOr<std::vector<HotlistEntry>> List() const;

  // The active entries `read` matches (its voted text or any candidate, within each entry's
  // max_confusions), best (fewest confusions) first. Each is re-checked with the policy
  // engine. Errors: store errors only.
  absl::StatusOr<std::vector<HotlistMatch>> Match(const PlateRead& read) const;

 private:
  HotlistStore(const HotlistOptions& options, const HotlistDeps& deps, store::SqliteDb db);
  HotlistStatus StatusNow(HotlistEntry& entry, int64_t now) const;
  absl::StatusOr<HotlistEntry> GetLocked(std::string_view id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status Refuse(const auth::Principal& actor, policy::PolicyAction action,
                      std::string_view object, absl::Status refusal);

  const HotlistOptions options_;
  const Clock* const clock_;
  policy::PolicyEngine* const policy_;
  policy::PolicyAuditor* const auditor_;
  mutable absl::Mutex mu_;
  store::SqliteDb db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::plate
