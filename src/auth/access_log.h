// The hook through which authentication (and later every sensitive act) reports who did
// what. The accountability work will put a tamper-evident log behind it (DESIGN.md §1.4);
// InMemoryAccessLog is for tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "auth/role.h"

namespace custos::auth {

enum class AccessAction {
  kLogin,
  kLoginFailed,
  kLogout,
  kSessionsRevoked,
  kPasswordChanged,
  kUserCreated,
  kUserDisabled,
  kUserEnabled,
  kApiTokenCreated,
  kApiTokenRevoked,
  kLiveView,
  kPlayback,
  kDownload,
  kSearch,
  kPlateQuery,
  kExport,
};

enum class AccessResult {
  kOk,
  kBadCredentials,  // Wrong password or unknown user.
  kDisabled,        // The password was right but the account is disabled.
  kRateLimited,
  kDenied,  // The role does not allow it.
  kError,   // Failed for another reason (database unavailable, invalid request).
};

// "login", "login_failed", ...
std::string_view AccessActionName(AccessAction action);
// "ok", "bad_credentials", ...
std::string_view AccessResultName(AccessResult result);

struct AccessRecord {
  int64_t time_ms = 0;        // UTC wall clock.
  std::string actor;          // Username, "token:<name>", or the name tried in a failed login.
  Role role = Role::kPublic;  // The actor's role; kPublic when not (yet) authenticated.
  AccessAction action = AccessAction::kLogin;
  std::string object;  // What was acted on: a username, token name, camera, ...; may be "".
  AccessResult result = AccessResult::kOk;
  std::string client;  // The client's address as the API layer saw it; may be "".
};

// Receives a record for every access-relevant act. Implementations must be thread-safe and
// should not block for long: Authenticator calls Record() on the request's thread, outside
// its own locks.
class AccessLog {
 public:
  virtual ~AccessLog() = default;
  virtual void Record(const AccessRecord& record) = 0;
};

// Keeps records in memory. Thread-safe.
class InMemoryAccessLog final : public AccessLog {
 public:
  void Record(const AccessRecord& record) override;
  std::vector<AccessRecord> records() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<AccessRecord> records_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::auth
