#include "auth/access_log.h"

namespace custos::auth {

std::string_view AccessActionName(AccessAction action) {
  switch (action) {
    case AccessAction::kLogin:
      return "login";
    case AccessAction::kLoginFailed:
      return "login_failed";
    case AccessAction::kLogout:
      return "logout";
    case AccessAction::kSessionsRevoked:
      return "sessions_revoked";
    case AccessAction::kPasswordChanged:
      return "password_changed";
    case AccessAction::kUserCreated:
      return "user_created";
    case AccessAction::kUserDisabled:
      return "user_disabled";
    case AccessAction::kUserEnabled:
      return "user_enabled";
    case AccessAction::kApiTokenCreated:
      return "api_token_created";
    case AccessAction::kApiTokenRevoked:
      return "api_token_revoked";
    case AccessAction::kLiveView:
      return "live_view";
    case AccessAction::kPlayback:
      return "playback";
    case AccessAction::kDownload:
      return "download";
    case AccessAction::kSearch:
      return "search";
    case AccessAction::kPlateQuery:
      return "plate_query";
    case AccessAction::kExport:
      return "export";
  }
  return "unknown";
}

std::string_view AccessResultName(AccessResult result) {
  switch (result) {
    case AccessResult::kOk:
      return "ok";
    case AccessResult::kBadCredentials:
      return "bad_credentials";
    case AccessResult::kDisabled:
      return "disabled";
    case AccessResult::kRateLimited:
      return "rate_limited";
    case AccessResult::kDenied:
      return "denied";
    case AccessResult::kError:
      return "error";
  }
  return "unknown";
}

void InMemoryAccessLog::Record(const AccessRecord& record) {
  absl::MutexLock lock(&mu_);
  records_.push_back(record);
}

std::vector<AccessRecord> InMemoryAccessLog::records() const {
  absl::MutexLock lock(&mu_);
  return records_;
}

}  // namespace custos::auth
