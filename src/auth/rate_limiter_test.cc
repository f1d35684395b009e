#include "auth/rate_limiter.h"

#include <string>

#include "gtest/gtest.h"

namespace custos::auth {
namespace {

constexpr int64_t kMinute = 60 * 1000;

TEST(LoginRateLimiter, LocksAfterFiveFailuresAndUnlocksWithTheClock) {
  FakeClock clock;
  LoginRateLimiter limiter(RateLimitOptions{}, &clock);
  for (int i = 0; i < 4; ++i) {
    limiter.RecordFailure("alice");
    EXPECT_EQ(limiter.RetryAfterMs("alice"), 0) << "after failure " << i + 1;
    clock.AdvanceMs(1000);
  }
  limiter.RecordFailure("alice");
  EXPECT_EQ(limiter.RetryAfterMs("alice"), kMinute);
  clock.AdvanceMs(kMinute - 1);
  EXPECT_EQ(limiter.RetryAfterMs("alice"), 1);
  clock.AdvanceMs(1);
  EXPECT_EQ(limiter.RetryAfterMs("alice"), 0);
}

TEST(LoginRateLimiter, LockoutDoublesWhileFailuresContinue) {
  FakeClock clock;
  LoginRateLimiter limiter(RateLimitOptions{}, &clock);
  for (int i = 0; i < 5; ++i) limiter.RecordFailure("k");
  EXPECT_EQ(limiter.RetryAfterMs("k"), kMinute);
  clock.AdvanceMs(kMinute);
  limiter.RecordFailure("k");  // Still five failures within the window.
  EXPECT_EQ(limiter.RetryAfterMs("k"), 2 * kMinute);
  clock.AdvanceMs(2 * kMinute);
  limiter.RecordFailure("k");
  EXPECT_EQ(limiter.RetryAfterMs("k"), 4 * kMinute);
}

TEST(LoginRateLimiter, LockoutIsCapped) {
  FakeClock clock;
  RateLimitOptions options;
  options.max_lockout_ms = 3 * kMinute;
  LoginRateLimiter limiter(options, &clock);
  for (int i = 0; i < 20; ++i) {
    limiter.RecordFailure("k");
    EXPECT_LE(limiter.RetryAfterMs("k"), 3 * kMinute);
    clock.AdvanceMs(limiter.RetryAfterMs("k"));
  }
}

TEST(LoginRateLimiter, FailuresOutsideTheWindowDoNotCount) {
  FakeClock clock;
  LoginRateLimiter limiter(RateLimitOptions{}, &clock);
  for (int i = 0; i < 10; ++i) {
    limiter.RecordFailure("k");
    clock.AdvanceMs(4 * kMinute);  // Never five within 15 minutes.
    EXPECT_EQ(limiter.RetryAfterMs("k"), 0);
  }
}

TEST(LoginRateLimiter, QuietWindowEndsTheEscalation) {
  FakeClock clock;
  LoginRateLimiter limiter(RateLimitOptions{}, &clock);
  for (int i = 0; i < 5; ++i) limiter.RecordFailure("k");
  clock.AdvanceMs(kMinute);
  limiter.RecordFailure("k");
  EXPECT_EQ(limiter.RetryAfterMs("k"), 2 * kMinute);
  clock.AdvanceMs(60 * kMinute);
  for (int i = 0; i < 5; ++i) limiter.RecordFailure("k");
  EXPECT_EQ(limiter.RetryAfterMs("k"), kMinute);
}

TEST(LoginRateLimiter, SuccessForgetsFailuresAndKeysAreIndependent) {
  FakeClock clock;
  LoginRateLimiter limiter(RateLimitOptions{}, &clock);
  for (int i = 0; i < 4; ++i) limiter.RecordFailure("alice");
  limiter.RecordSuccess("alice");
  limiter.RecordFailure("alice");
  EXPECT_EQ(limiter.RetryAfterMs("alice"), 0);
  for (int i = 0; i < 5; ++i) limiter.RecordFailure("bob");
  EXPECT_GT(limiter.RetryAfterMs("bob"), 0);
  EXPECT_EQ(limiter.RetryAfterMs("alice"), 0);
}

TEST(LoginRateLimiter, StaysBoundedUnderAFloodOfKeysAndKeepsLockedOnes) {
  FakeClock clock;
  RateLimitOptions options;
  options.max_keys = 10;
  LoginRateLimiter limiter(options, &clock);
  for (int i = 0; i < 5; ++i) limiter.RecordFailure("victim");
  clock.AdvanceMs(1);
  for (int i = 0; i < 100; ++i) {
    limiter.RecordFailure("flood" + std::to_string(i));
    clock.AdvanceMs(1);
  }
  EXPECT_GT(limiter.RetryAfterMs("victim"), 0);
}

}  // namespace
}  // namespace custos::auth
