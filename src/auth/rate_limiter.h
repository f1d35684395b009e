// Counts failed logins per key (a username, a client address) and locks a key out after too
// many, with lockouts that double while the failures go on. In memory: a restart forgets the
// counts, which an attacker cannot trigger. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "custos/clock.h"

namespace custos::auth {

struct RateLimitOptions {
  // This many failures within window_ms lock the key.
  int max_failures = 5;
  int64_t window_ms = 15 * 60 * 1000;
  // The first lockout; each further failure while max_failures remain within the window
  // doubles it, up to max_lockout_ms.
  int64_t lockout_ms = 60 * 1000;
  int64_t max_lockout_ms = 60 * 60 * 1000;
  // Keys remembered at most; beyond it the idle ones, then the oldest, are forgotten.
  size_t max_keys = 100'000;
};

class LoginRateLimiter {
 public:
  // REQUIRES: `clock` outlives the limiter; options are positive.
  LoginRateLimiter(const RateLimitOptions& options, const Clock* clock);

  // 0 when `key` may try now, else the milliseconds until it may.
  int64_t RetryAfterMs(std::string_view key) const;
  // Counts a failed attempt of `key`, locking it when the limit is reached.
  void RecordFailure(std::string_view key);
  // Forgets the failures of `key` (after a successful login for a username).
  void RecordSuccess(std::string_view key);

 private:
  struct Entry {
    // The last max_failures failure times, oldest first (a ring would do; this is small).
    std::vector<int64_t> failures;
    int lockouts = 0;
    int64_t locked_until_ms = 0;
  };

  void MakeRoomLocked(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RateLimitOptions options_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::auth
