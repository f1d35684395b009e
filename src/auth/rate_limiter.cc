#include "auth/rate_limiter.h"

#include <algorithm>

#include "auth/strings.h"

namespace custos::auth {

LoginRateLimiter::LoginRateLimiter(const RateLimitOptions& options, const Clock* clock)
    : options_(options), clock_(clock) {}

int64_t LoginRateLimiter::RetryAfterMs(std::string_view key) const {
  const int64_t now = clock_->MonotonicMs();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Sv(key));
  if (it == entries_.end()) return 0;
  return std::max<int64_t>(0, it->second.locked_until_ms - now);
}

void LoginRateLimiter::RecordFailure(std::string_view key) {
  const int64_t now = clock_->MonotonicMs();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Sv(key));
  if (it == entries_.end()) {
    MakeRoomLocked(now);
    it = entries_.emplace(std::string(key), Entry{}).first;
  }
  Entry& e = it->second;
  std::erase_if(e.failures, [&](int64_t t) { return t <= now - options_.window_ms; });
  // A quiet window after the last lockout ends the escalation.
  if (e.failures.empty() && now >= e.locked_until_ms) e.lockouts = 0;
  e.failures.push_back(now);
  if (e.failures.size() > static_cast<size_t>(options_.max_failures)) {
    e.failures.erase(e.failures.begin());
  }
  if (e.failures.size() >= static_cast<size_t>(options_.max_failures)) {
    int64_t lockout = options_.lockout_ms;
    for (int i = 0; i < e.lockouts && lockout < options_.max_lockout_ms; ++i) lockout *= 2;
    lockout = std::min(lockout, options_.max_lockout_ms);
    ++e.lockouts;
    e.locked_until_ms = std::max(e.locked_until_ms, now + lockout);
  }
}

void LoginRateLimiter::RecordSuccess(std::string_view key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Sv(key));
  if (it != entries_.end()) entries_.erase(it);
}

void LoginRateLimiter::MakeRoomLocked(int64_t now_ms) {
  if (entries_.size() < options_.max_keys) return;
  // Forget keys with no failure in the window that are not locked.
  absl::erase_if(entries_, [&](const auto& kv) {
    const Entry& e = kv.second;
    return now_ms >= e.locked_until_ms &&
           (e.failures.empty() || e.failures.back() <= now_ms - options_.window_ms);
  });
  if (entries_.size() < options_.max_keys) return;
  // Still full (a flood of distinct keys): forget the unlocked key whose last failure is
  // oldest, or if all are locked, the oldest of all.
  auto oldest = entries_.end();
  auto oldest_locked = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    auto& best = now_ms < it->second.locked_until_ms ? oldest_locked : oldest;
    if (best == entries_.end() || it->second.failures.back() < best->second.failures.back()) {
      best = it;
    }
  }
  if (oldest == entries_.end()) oldest = oldest_locked;
  entries_.erase(oldest);
}

}  // namespace custos::auth
