#include "policy/policy_auditor.h"

#include <utility>

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

}  // namespace custos::policy
