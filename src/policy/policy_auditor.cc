#include "policy/policy_auditor.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "store/sqlite_util.h"

namespace custos::policy {

std::string_view PolicyActionName(PolicyAction action) {
  switch (action) {
    case PolicyAction::kLegalBasisAdd:
      return "legal_basis.add";
    case PolicyAction::kLegalBasisRevoke:
      return "legal_basis.revoke";
    case PolicyAction::kLegalBasisCheck:
      return "legal_basis.check";
    case PolicyAction::kFaceAuthorisationAdd:
      return "face_authorisation.add";
    case PolicyAction::kFaceAuthorisationRevoke:
      return "face_authorisation.revoke";
    case PolicyAction::kAssemblyAdd:
      return "protected_assembly.add";
    case PolicyAction::kAssemblyRevoke:
      return "protected_assembly.revoke";
    case PolicyAction::kApprovalRequest:
      return "approval.request";
    case PolicyAction::kApprovalApprove:
      return "approval.approve";
    case PolicyAction::kApprovalReject:
      return "approval.reject";
    case PolicyAction::kEvidenceHoldPlace:
      return "evidence_hold.place";
    case PolicyAction::kEvidenceHoldRelease:
      return "evidence_hold.release";
    case PolicyAction::kRetentionSet:
      return "retention.set";
    case PolicyAction::kRetentionClear:
      return "retention.clear";
    case PolicyAction::kWatchlistPropose:
      return "watchlist.propose";
    case PolicyAction::kWatchlistActivate:
      return "watchlist.activate";
    case PolicyAction::kWatchlistReject:
      return "watchlist.reject";
    case PolicyAction::kWatchlistWithdraw:
      return "watchlist.withdraw";
    case PolicyAction::kWatchlistErase:
      return "watchlist.erase";
    case PolicyAction::kFaceMatchRecord:
      return "face_match.record";
    case PolicyAction::kFaceMatchConfirm:
      return "face_match.confirm";
    case PolicyAction::kFaceMatchReject:
      return "face_match.reject";
    case PolicyAction::kHotlistPropose:
      return "hotlist.propose";
    case PolicyAction::kHotlistWithdraw:
      return "hotlist.withdraw";
    case PolicyAction::kPlateHitRecord:
      return "plate_hit.record";
    case PolicyAction::kPlateHitConfirm:
      return "plate_hit.confirm";
    case PolicyAction::kPlateHitReject:
      return "plate_hit.reject";
    case PolicyAction::kPlateReadsPurge:
      return "plate_reads.purge";
  }
  return "unknown";
}

std::string_view PolicyResultName(PolicyResult result) {
  switch (result) {
    case PolicyResult::kOk:
      return "ok";
    case PolicyResult::kDenied:
      return "denied";
  }
  return "unknown";
}

absl::Status InMemoryPolicyAuditor::Record(const PolicyChange& change) {
  absl::MutexLock lock(&mu_);
  if (!fail_.ok()) return fail_;
  records_.push_back(change);
  return absl::OkStatus();
}

std::vector<PolicyChange> InMemoryPolicyAuditor::records() const {
  absl::MutexLock lock(&mu_);
  return records_;
}

void InMemoryPolicyAuditor::Clear() {
  absl::MutexLock lock(&mu_);
  records_.clear();
}

void InMemoryPolicyAuditor::FailWith(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_ = std::move(status);
}

absl::Status CommitAudited(sqlite3* db, const std::string& path, PolicyAuditor& auditor,
                           PolicyChange& change, const std::function<absl::Status()>& body) {
  CUSTOS_RETURN_IF_ERROR(store::Exec(db, "BEGIN IMMEDIATE", path));
  absl::Status status = body();
  if (status.ok()) {
    change.result = PolicyResult::kOk;
    absl::Status audited = auditor.Record(change);
    if (!audited.ok()) {
      status = absl::Status(
          audited.code(),
          absl::StrCat("the audit log did not accept the record of this change, so nothing was "
                       "changed; retry when the audit log is available (",
                       audited.message(), ")"));
    }
  }
  if (status.ok()) status = store::Exec(db, "COMMIT", path);
  if (!status.ok() && !sqlite3_get_autocommit(db)) {
    store::Exec(db, "ROLLBACK", path).IgnoreError();
  }
  return status;
}

absl::Status RecordRefusal(PolicyAuditor& auditor, int64_t time_ms, const auth::Principal& actor,
                           PolicyAction action, std::string_view object, absl::Status refusal) {
  PolicyChange change;
  change.time_ms = time_ms;
  change.actor = actor.name;
  change.role = actor.role;
  change.action = action;
  change.object = std::string(object);
  change.result = PolicyResult::kDenied;
  change.reason = std::string(refusal.message());
  auditor.Record(change).IgnoreError();
  return refusal;
}

}  // namespace custos::policy
