// The hook through which the policy engine reports every change and every refusal. The
// tamper-evident audit log (DESIGN.md §1.4) implements it; InMemoryPolicyAuditor is for
// tests.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "auth/authenticator.h"
#include "auth/role.h"

struct sqlite3;

namespace custos::policy {

enum class PolicyAction {
  kLegalBasisAdd,
  kLegalBasisRevoke,
  kLegalBasisCheck,  // Only refusals are recorded; the allowed act is audited by its caller.
  kFaceAuthorisationAdd,
  kFaceAuthorisationRevoke,
  kAssemblyAdd,
  kAssemblyRevoke,
  kApprovalRequest,
  kApprovalApprove,
  kApprovalReject,
  kEvidenceHoldPlace,
  kEvidenceHoldRelease,
  kRetentionSet,
  kRetentionClear,
  // Recorded by the watchlist module (src/watchlist, docs/face.md "Watchlists").
  kWatchlistPropose,   // An entry proposed (pending its four-eyes approval).
  kWatchlistActivate,  // An approved entry made active.
  kWatchlistReject,    // An entry rejected by a supervisor.
  kWatchlistWithdraw,  // An entry taken off the watchlist.
  kWatchlistErase,     // Enrolment embeddings of ended entries erased.
  kFaceMatchRecord,    // A face match (a lead) stored.
  kFaceMatchConfirm,   // An operator confirmed a match.
  kFaceMatchReject,    // An operator rejected a match (a false match).
  // Recorded by the plate module (src/plate, docs/plates.md).
  kHotlistPropose,   // A plate proposed for a hotlist (pending its four-eyes approval).
  kHotlistWithdraw,  // A plate taken off a hotlist.
  kPlateHitRecord,   // A read matched an active hotlist entry (a lead) and was stored.
  kPlateHitConfirm,  // An operator confirmed a hit.
  kPlateHitReject,   // An operator rejected a hit (a misread or a wrong vehicle).
  kPlateReadsPurge,  // Plate reads (and hits) past their retention erased.
};
// "legal_basis.add", ... (docs/policy.md).
std::string_view PolicyActionName(PolicyAction action);

enum class PolicyResult {
  kOk,      // The change was made (it is only made if this record is accepted).
  kDenied,  // Refused by a rule; `reason` is what the user was told.
};
std::string_view PolicyResultName(PolicyResult result);  // "ok", "denied"

struct PolicyChange {
  int64_t time_ms = 0;  // UTC wall clock.
  std::string actor;    // Principal::name.
  auth::Role role = auth::Role::kPublic;
  PolicyAction action = PolicyAction::kLegalBasisAdd;
  // What was acted on: a legal-basis reference, an authorisation, assembly, request or hold
  // id, "<camera>/<data kind>" for retention.
  std::string object;
  std::string legal_basis_ref;  // May be empty.
  std::string purpose;          // Face purpose, approval kind, case reference...; may be "".
  PolicyResult result = PolicyResult::kOk;
  std::string reason;   // Refusal reason, revocation/rejection/release reason; may be "".
  std::string details;  // The record as stored, as one JSON object; "" for refusals.
};

// Receives a record for every change and every refusal. For a change, Record() runs inside
// the engine's database transaction: an error rolls the change back and is returned to the
// caller (fail-closed). Implementations must be thread-safe, must not call back into the
// engine, and should be quick: the engine holds its lock meanwhile.
class PolicyAuditor {
 public:
  virtual ~PolicyAuditor() = default;
  // Errors: any; the change is not made.
  virtual absl::Status Record(const PolicyChange& change) = 0;
};

// Keeps records in memory; can be told to fail. Thread-safe.
class InMemoryPolicyAuditor final : public PolicyAuditor {
 public:
  absl::Status Record(const PolicyChange& change) override;
  std::vector<PolicyChange> records() const;
  void Clear();
  // While set, Record() returns this and keeps nothing.
  void FailWith(absl::Status status);

 private:
  mutable absl::Mutex mu_;
  std::vector<PolicyChange> records_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
};

// Runs `body` in an IMMEDIATE transaction of `db` and records `change` (result ok) with
// `auditor` before committing; rolls back when either fails (fail-closed: no change without
// its audit record) and returns that error. For the stores of other modules that keep their
// own SQLite files (watchlist, plates).
absl::Status CommitAudited(sqlite3* db, const std::string& path, PolicyAuditor& auditor,
                           PolicyChange& change, const std::function<absl::Status()>& body);

// Records the refusal of `actor`'s `action` on `object` (result denied, the refusal's message
// as reason) with `auditor`, and returns `refusal`: the refusal stands whether or not its
// record is accepted.
absl::Status RecordRefusal(PolicyAuditor& auditor, int64_t time_ms, const auth::Principal& actor,
                           PolicyAction action, std::string_view object, absl::Status refusal);

}  // namespace custos::policy
