#include "auth/password.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr PasswordHashOptions kFast{PasswordHashOptions::kMinOpsLimit,
                                    PasswordHashOptions::kMinMemLimit};

TEST(PasswordHash, IsArgon2idWithInteractiveLimitsAndNeverThePassword) {
  const std::string password = "correct horse battery staple";
  absl::StatusOr<std::string> hash = HashPassword(password, PasswordHashOptions{});
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_THAT(*hash, StartsWith("$argon2id$v=19$m=65536,t=2,p=1$"));
  EXPECT_EQ(hash->find(password), std::string::npos);
  EXPECT_TRUE(VerifyPassword(*hash, password));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));
}

TEST(PasswordHash, SaltsEveryHash) {
  absl::StatusOr<std::string> a = HashPassword("the same password", kFast);
  absl::StatusOr<std::string> b = HashPassword("the same password", kFast);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(PasswordHash, MalformedHashesNeverVerify) {
  EXPECT_FALSE(VerifyPassword("", ""));
  EXPECT_FALSE(VerifyPassword("plaintext", "plaintext"));
  EXPECT_FALSE(VerifyPassword(std::string(1000, '$'), "x"));
}

TEST(PasswordHash, NeedsRehashWhenTheLimitsChange) {
  absl::StatusOr<std::string> hash = HashPassword("a long enough password", kFast);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(NeedsRehash(*hash, kFast));
  EXPECT_TRUE(NeedsRehash(*hash, PasswordHashOptions{2, PasswordHashOptions::kMinMemLimit}));
  EXPECT_TRUE(NeedsRehash(*hash, PasswordHashOptions{}));
}

TEST(PasswordHash, RejectsLimitsBelowTheMinimum) {
  EXPECT_EQ(
      HashPassword("x", PasswordHashOptions{0, PasswordHashOptions::kMinMemLimit}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateHashOptions({1, 1024}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(PasswordPolicy, RequiresTwelveCharacters) {
  absl::Status s = CheckPasswordPolicy("alice", "elevenchars");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at least 12 characters"));
  EXPECT_TRUE(CheckPasswordPolicy("alice", "twelve chars").ok());
}

TEST(PasswordPolicy, CountsCharactersNotBytes) {
  // Eleven two-byte characters are 22 bytes but only 11 characters.
  EXPECT_FALSE(CheckPasswordPolicy("alice", "ééééééééééé").ok());
  EXPECT_TRUE(CheckPasswordPolicy("alice", "éééééééééééé").ok());
}

TEST(PasswordPolicy, RefusesTheUsernameInAnyCase) {
  absl::Status s = CheckPasswordPolicy("administrator", "ADMINISTRATOR");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("must not be the username"));
}

TEST(PasswordPolicy, RefusesInvalidUtf8AndOverlongPasswords) {
  EXPECT_THAT(CheckPasswordPolicy("alice", "twelve chars\xff").message(), HasSubstr("UTF-8"));
  EXPECT_THAT(CheckPasswordPolicy("alice", "twelve chars\xc3").message(), HasSubstr("UTF-8"));
  EXPECT_THAT(CheckPasswordPolicy("alice", std::string(kMaxPasswordBytes + 1, 'a')).message(),
              HasSubstr("too long"));
}

TEST(Username, AcceptsLowercaseNamesAndExplainsWhatIsWrong) {
  EXPECT_TRUE(ValidateUsername("alice").ok());
  EXPECT_TRUE(ValidateUsername("j.doe-2_x").ok());
  EXPECT_THAT(ValidateUsername("al").message(), HasSubstr("3 to 64 characters"));
  EXPECT_THAT(ValidateUsername(std::string(65, 'a')).message(), HasSubstr("3 to 64 characters"));
  EXPECT_THAT(ValidateUsername("Alice").message(), HasSubstr("start with"));
  EXPECT_THAT(ValidateUsername("-alice").message(), HasSubstr("start with"));
  EXPECT_THAT(ValidateUsername("ali ce").message(), HasSubstr("only lowercase"));
  EXPECT_THAT(ValidateUsername("alice'--").message(), HasSubstr("only lowercase"));
}

TEST(RandomToken, IsUrlSafeAndFresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string token = RandomToken(32);
    EXPECT_EQ(token.size(), 43u);
    EXPECT_EQ(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    EXPECT_TRUE(seen.insert(token).second);
  }
}

TEST(Sha256Hex, MatchesTheKnownDigestOfAbc) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SecretEquals, ComparesContentAndLength) {
  EXPECT_TRUE(SecretEquals("abc", "abc"));
  EXPECT_FALSE(SecretEquals("abc", "abd"));
  EXPECT_FALSE(SecretEquals("abc", "abcd"));
  EXPECT_TRUE(SecretEquals("", ""));
}

}  // namespace
}  // namespace custos::auth
