#include "auth/authenticator.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::auth {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kMinute = 60 * 1000;
constexpr char kAlicePassword[] = "alice's long password";

const Principal kAdmin{Principal::Kind::kUser, 1, "root", Role::kAdmin};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The bytes of the database and its WAL, where anything stored must be.
std::string DatabaseBytes(const fs::path& db) {
  return ReadFile(db) + ReadFile(db.string() + "-wal");
}

std::string RawText(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text) out = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("custos-auth");
    options_.path = (dir_ / "auth.db").string();
    // Cheap hashes keep the tests fast; one test uses the real limits.
    options_.password_hash = {PasswordHashOptions::kMinOpsLimit, PasswordHashOptions::kMinMemLimit};
    Open();
  }
  void TearDown() override {
    auth_.reset();
    fs::remove_all(dir_);
  }

  void Open() {
    auth_.reset();
    absl::StatusOr<std::unique_ptr<Authenticator>> auth =
        Authenticator::Create(options_, &clock_, &log_);
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = *std::move(auth);
  }

  void AddUser(const std::string& username, Role role,
               const std::string& password = kAlicePassword) {
    absl::StatusOr<User> user = auth_->CreateUser(kAdmin, {username, password, role});
    ASSERT_TRUE(user.ok()) << user.status();
  }

  absl::StatusOr<LoginResult> Login(const std::string& username,
                                    const std::string& password = kAlicePassword,
                                    const std::string& client = "10.0.0.1") {
    return auth_->Login({username, password, client});
  }

  fs::path dir_;
  AuthenticatorOptions options_;
  FakeClock clock_;
  InMemoryAccessLog log_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, StoresAnArgon2idHashAndNeverThePassword) {
  AddUser("alice", Role::kOperator);
  EXPECT_THAT(RawText(options_.path, "SELECT password_hash FROM users WHERE username = 'alice'"),
              StartsWith("$argon2id$"));
  EXPECT_EQ(DatabaseBytes(options_.path).find(kAlicePassword), std::string::npos);
}

TEST_F(AuthenticatorTest, CreatesTheDatabaseReadableOnlyByItsOwner) {
  struct stat st {};
  ASSERT_EQ(::stat(options_.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuthenticatorTest, RefusesPasswordsThatBreakThePolicy) {
  absl::StatusOr<User> user = auth_->CreateUser(kAdmin, {"alice", "short", Role::kViewer});
  EXPECT_EQ(user.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(user.status().message(), HasSubstr("at least 12 characters"));
  user = auth_->CreateUser(kAdmin, {"alice.smith1", "alice.smith1", Role::kViewer});
  EXPECT_EQ(user.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(user.status().message(), HasSubstr("must not be the username"));
}

TEST_F(AuthenticatorTest, RefusesBadUsernamesDuplicatesAndThePublicRole) {
  EXPECT_EQ(auth_->CreateUser(kAdmin, {"Alice", kAlicePassword, Role::kViewer}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(auth_->CreateUser(kAdmin, {"anon", kAlicePassword, Role::kPublic}).status().code(),
            absl::StatusCode::kInvalidArgument);
  AddUser("alice", Role::kViewer);
  EXPECT_EQ(auth_->CreateUser(kAdmin, {"alice", kAlicePassword, Role::kAdmin}).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(AuthenticatorTest, OnlyRolesThatManageUsersMayCreateThem) {
  for (Role role : {Role::kViewer, Role::kSupervisor, Role::kAuditor}) {
    const Principal by{Principal::Kind::kUser, 7, "someone", role};
    absl::StatusOr<User> user = auth_->CreateUser(by, {"mallory", kAlicePassword, Role::kAdmin});
    EXPECT_EQ(user.status().code(), absl::StatusCode::kPermissionDenied) << RoleName(role);
  }
  EXPECT_EQ(
      auth_->CreateUser(Principal{}, {"mallory", kAlicePassword, Role::kAdmin}).status().code(),
      absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, AuthorizeExplainsWhichRoleMayNotDoWhat) {
  const Principal viewer{Principal::Kind::kUser, 2, "vic", Role::kViewer};
  absl::Status s = Authenticator::Authorize(viewer, Permission::kPlayback);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "the viewer role may not play back recorded video");
  EXPECT_TRUE(Authenticator::Authorize(viewer, Permission::kLiveViewBlurred).ok());
  EXPECT_TRUE(Authenticator::Authorize(Principal{}, Permission::kReadTransparency).ok());
}

TEST_F(AuthenticatorTest, LogsInAndTheSessionCarriesTheRole) {
  AddUser("alice", Role::kInvestigator);
  absl::StatusOr<LoginResult> login = Login("alice");
  ASSERT_TRUE(login.ok()) << login.status();
  absl::StatusOr<Session> session = auth_->AuthenticateSession(login->session_token);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->principal.name, "alice");
  EXPECT_EQ(session->principal.role, Role::kInvestigator);
  EXPECT_EQ(session->csrf_token, login->session.csrf_token);
  EXPECT_NE(session->csrf_token, login->session_token);
}

TEST_F(AuthenticatorTest, UsernamesAreMatchedIgnoringCase) {
  AddUser("alice", Role::kViewer);
  EXPECT_TRUE(Login("ALICE").ok());
}

TEST_F(AuthenticatorTest, WrongPasswordAndUnknownUserGiveTheSameError) {
  AddUser("alice", Role::kViewer);
  absl::StatusOr<LoginResult> wrong = Login("alice", "not alice's password");
  absl::StatusOr<LoginResult> unknown = Login("nobody", kAlicePassword);
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status(), unknown.status());
}

TEST_F(AuthenticatorTest, UnknownUserCostsAsMuchHashingAsAWrongPassword) {
  options_.password_hash = {2, size_t{16} << 20};  // About 30 ms per verification.
  Open();
  AddUser("alice", Role::kViewer);
  auto fastest_ms = [&](const std::string& username) {
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      EXPECT_FALSE(Login(username, "not the password", "").ok());
      best = std::min(
          best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count());
    }
    return best;
  };
  const double known = fastest_ms("alice");
  const double unknown = fastest_ms("nobody");
  // Generous bounds: a shared CI machine is noisy, but skipping the hash would be ~1000x.
  EXPECT_GT(unknown, known * 0.3) << "known " << known << " ms, unknown " << unknown << " ms";
}

TEST_F(AuthenticatorTest, DisabledUserCannotLogInAndLosesTheirSessions) {
  AddUser("alice", Role::kOperator);
  absl::StatusOr<LoginResult> before = Login("alice");
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(auth_->SetDisabled(kAdmin, "alice", true).ok());
  EXPECT_EQ(auth_->AuthenticateSession(before->session_token).status().code(),
            absl::StatusCode::kUnauthenticated);
  absl::StatusOr<LoginResult> login = Login("alice");
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(log_.records().back().result, AccessResult::kDisabled) << "told apart only here";
  EXPECT_EQ(login.status(), Login("nobody").status()) << "must not reveal the account exists";
  ASSERT_TRUE(auth_->SetDisabled(kAdmin, "alice", false).ok());
  EXPECT_TRUE(Login("alice").ok());
}

TEST_F(AuthenticatorTest, AdminsCannotDisableThemselves) {
  AddUser("root", Role::kAdmin);
  EXPECT_EQ(auth_->SetDisabled(kAdmin, "root", true).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(auth_->SetDisabled(kAdmin, "ghost", true).code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthenticatorTest, RateLimitKicksInAfterFiveFailuresAndExpiresWithTheClock) {
  AddUser("alice", Role::kViewer);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login("alice", "wrong password!").status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  // Locked: even the right password is refused, before any hashing.
  absl::StatusOr<LoginResult> locked = Login("alice");
  EXPECT_EQ(locked.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(locked.status().message(), HasSubstr("try again in 60 seconds"));
  EXPECT_EQ(log_.records().back().result, AccessResult::kRateLimited);
  clock_.AdvanceMs(kMinute);
  EXPECT_TRUE(Login("alice").ok());
}

TEST_F(AuthenticatorTest, RateLimitOnAnUnknownUsernameLooksTheSame) {
  AddUser("alice", Role::kViewer);
  for (int i = 0; i < 5; ++i) {
    (void)Login("alice", "wrong password!", "10.0.0.1");
    (void)Login("nobody", "wrong password!", "10.0.0.2");
  }
  EXPECT_EQ(Login("alice", "x", "10.0.0.3").status(), Login("nobody", "x", "10.0.0.4").status());
}

TEST_F(AuthenticatorTest, RateLimitPerClientAddressCoversEveryUsername) {
  AddUser("alice", Role::kViewer);
  for (int i = 0; i < 5; ++i) (void)Login("user" + std::to_string(i), "guess guess guess");
  EXPECT_EQ(Login("alice", kAlicePassword, "10.0.0.1").status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Login("alice", kAlicePassword, "10.0.0.9").ok());
}

TEST_F(AuthenticatorTest, EveryLoginAttemptProducesAnAccessRecord) {
  AddUser("alice", Role::kOperator);
  const size_t before = log_.records().size();
  absl::StatusOr<LoginResult> ok = Login("alice", kAlicePassword, "192.0.2.7");
  (void)Login("alice", "wrong password!", "192.0.2.7");
  (void)Login("nobody", "wrong password!", "192.0.2.8");
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE(auth_->Logout(ok->session_token, "192.0.2.7").ok());
  const std::vector<AccessRecord> records = log_.records();
  ASSERT_EQ(records.size(), before + 4);
  const AccessRecord& login = records[before];
  EXPECT_EQ(login.action, AccessAction::kLogin);
  EXPECT_EQ(login.result, AccessResult::kOk);
  EXPECT_EQ(login.actor, "alice");
  EXPECT_EQ(login.role, Role::kOperator);
  EXPECT_EQ(login.client, "192.0.2.7");
  EXPECT_EQ(login.time_ms, clock_.WallMs());
  EXPECT_EQ(records[before + 1].action, AccessAction::kLoginFailed);
  EXPECT_EQ(records[before + 1].result, AccessResult::kBadCredentials);
  EXPECT_EQ(records[before + 2].action, AccessAction::kLoginFailed);
  EXPECT_EQ(records[before + 2].actor, "nobody");
  EXPECT_EQ(records[before + 2].client, "192.0.2.8");
  EXPECT_EQ(records[before + 3].action, AccessAction::kLogout);
  EXPECT_EQ(records[before + 3].actor, "alice");
}

TEST_F(AuthenticatorTest, SessionEndsAfterTheIdleTimeout) {
  AddUser("alice", Role::kViewer);
  absl::StatusOr<LoginResult> login = Login("alice");
  ASSERT_TRUE(login.ok());
  clock_.AdvanceMs(options_.session_idle_timeout_ms - 1);
  EXPECT_TRUE(auth_->AuthenticateSession(login->session_token).ok());  // Extends it.
  clock_.AdvanceMs(options_.session_idle_timeout_ms - 1);
  EXPECT_TRUE(auth_->AuthenticateSession(login->session_token).ok());
  clock_.AdvanceMs(options_.session_idle_timeout_ms);
  absl::StatusOr<Session> expired = auth_->AuthenticateSession(login->session_token);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.status().message(), HasSubstr("log in again"));
}

TEST_F(AuthenticatorTest, SessionEndsAtTheAbsoluteTimeoutHoweverMuchItIsUsed) {
  AddUser("alice", Role::kViewer);
  absl::StatusOr<LoginResult> login = Login("alice");
  ASSERT_TRUE(login.ok());
  int64_t elapsed = 0;
  while (elapsed + 10 * kMinute < options_.session_absolute_timeout_ms) {
    clock_.AdvanceMs(10 * kMinute);
    elapsed += 10 * kMinute;
    ASSERT_TRUE(auth_->AuthenticateSession(login->session_token).ok()) << elapsed;
  }
  clock_.AdvanceMs(options_.session_absolute_timeout_ms - elapsed);
  EXPECT_EQ(auth_->AuthenticateSession(login->session_token).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, CsrfTokenMismatchIsRefused) {
  AddUser("alice", Role::kViewer);
  absl::StatusOr<LoginResult> login = Login("alice");
  ASSERT_TRUE(login.ok());
  absl::StatusOr<Session> session = auth_->AuthenticateSession(login->session_token);
  ASSERT_TRUE(session.ok());
  EXPECT_TRUE(Authenticator::CheckCsrf(*session, login->session.csrf_token).ok());
  std::string forged = login->session.csrf_token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Authenticator::CheckCsrf(*session, forged).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Authenticator::CheckCsrf(*session, "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Authenticator::CheckCsrf(*session, login->session_token).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthenticatorTest, LogoutEndsOnlyThatSession) {
  AddUser("alice", Role::kViewer);
  absl::StatusOr<LoginResult> a = Login("alice");
  absl::StatusOr<LoginResult> b = Login("alice");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(auth_->Logout(a->session_token, "").ok());
  EXPECT_FALSE(auth_->AuthenticateSession(a->session_token).ok());
  EXPECT_TRUE(auth_->AuthenticateSession(b->session_token).ok());
  EXPECT_TRUE(auth_->Logout(a->session_token, "").ok()) << "logging out twice is fine";
}

TEST_F(AuthenticatorTest, RevokingSessionsEndsAllOfThem) {
  AddUser("alice", Role::kViewer);
  AddUser("bob", Role::kViewer);
  absl::StatusOr<LoginResult> a = Login("alice");
  absl::StatusOr<LoginResult> b = Login("alice");
  absl::StatusOr<LoginResult> bob = Login("bob");
  ASSERT_TRUE(a.ok() && b.ok() && bob.ok());
  // Bob may not end Alice's sessions; Alice may end her own.
  EXPECT_EQ(auth_->RevokeSessions(bob->session.principal, "alice").status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<int64_t> revoked = auth_->RevokeSessions(a->session.principal, "alice");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(*revoked, 2);
  EXPECT_FALSE(auth_->AuthenticateSession(a->session_token).ok());
  EXPECT_FALSE(auth_->AuthenticateSession(b->session_token).ok());
  EXPECT_TRUE(auth_->AuthenticateSession(bob->session_token).ok());
}

TEST_F(AuthenticatorTest, SessionTokensAreStoredOnlyAsHashes) {
  AddUser("alice", Role::kViewer);
  absl::StatusOr<LoginResult> login = Login("alice");
  ASSERT_TRUE(login.ok());
  const std::string bytes = DatabaseBytes(options_.path);
  EXPECT_EQ(bytes.find(login->session_token), std::string::npos);
  EXPECT_NE(bytes.find(Sha256Hex(login->session_token)), std::string::npos);
  EXPECT_FALSE(auth_->AuthenticateSession(Sha256Hex(login->session_token)).ok())
      << "the stored hash must not work as a token";
}

TEST_F(AuthenticatorTest, ApiTokenIsShownOnceStoredHashedAndCarriesItsRole) {
  absl::StatusOr<NewApiToken> created =
      auth_->CreateApiToken(kAdmin, {"stats-exporter", Role::kAuditor, 0});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_THAT(created->token, StartsWith("cst_"));
  const std::string bytes = DatabaseBytes(options_.path);
  EXPECT_EQ(bytes.find(created->token), std::string::npos);
  EXPECT_EQ(bytes.find(created->token.substr(4)), std::string::npos);
  EXPECT_NE(bytes.find(Sha256Hex(created->token)), std::string::npos);

  absl::StatusOr<Principal> principal = auth_->AuthenticateApiToken(created->token);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->kind, Principal::Kind::kApiToken);
  EXPECT_EQ(principal->name, "token:stats-exporter");
  EXPECT_EQ(principal->role, Role::kAuditor);

  // Listing never shows the token again.
  absl::StatusOr<std::vector<ApiTokenInfo>> list = auth_->ListApiTokens(kAdmin);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "stats-exporter");
  EXPECT_EQ((*list)[0].created_by, "root");
}

TEST_F(AuthenticatorTest, RevokedOrExpiredApiTokensAreRefused) {
  absl::StatusOr<NewApiToken> a = auth_->CreateApiToken(kAdmin, {"a-bot", Role::kViewer, 0});
  absl::StatusOr<NewApiToken> b =
      auth_->CreateApiToken(kAdmin, {"b-bot", Role::kViewer, clock_.WallMs() + kMinute});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(auth_->RevokeApiToken(kAdmin, "a-bot").ok());
  EXPECT_THAT(auth_->AuthenticateApiToken(a->token).status().message(), HasSubstr("revoked"));
  EXPECT_TRUE(auth_->AuthenticateApiToken(b->token).ok());
  clock_.AdvanceMs(kMinute);
  EXPECT_THAT(auth_->AuthenticateApiToken(b->token).status().message(), HasSubstr("expired"));
  EXPECT_EQ(auth_->AuthenticateApiToken("cst_made-up").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_->RevokeApiToken(kAdmin, "a-bot").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(auth_->CreateApiToken(kAdmin, {"a-bot", Role::kViewer, 0}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(
      auth_->CreateApiToken(kAdmin, {"c-bot", Role::kViewer, clock_.WallMs()}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthenticatorTest, InitialAdminPasswordFileHasMode0600AndASecondCallRefuses) {
  const std::string file = (dir_ / "initial-admin.txt").string();
  absl::StatusOr<InitialAdmin> admin = auth_->CreateInitialAdmin(file);
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->password_file, file);
  EXPECT_EQ(admin->username, "admin");
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const std::string contents = ReadFile(file);
  const size_t at = contents.find("password: ");
  ASSERT_NE(at, std::string::npos) << contents;
  const std::string password = contents.substr(at + 10, contents.find('\n', at) - at - 10);
  EXPECT_GE(password.size(), 20u);
  EXPECT_EQ(password.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  absl::StatusOr<LoginResult> login = Login("admin", password);
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->session.principal.role, Role::kAdmin);

  absl::StatusOr<InitialAdmin> again = auth_->CreateInitialAdmin((dir_ / "again.txt").string());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(dir_ / "again.txt"));
}

TEST_F(AuthenticatorTest, InitialAdminRefusesToOverwriteAFileAndLeavesNoAdminBehind) {
  const fs::path file = dir_ / "existing.txt";
  std::ofstream(file) << "keep me";
  absl::StatusOr<InitialAdmin> admin = auth_->CreateInitialAdmin(file.string());
  EXPECT_EQ(admin.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(file), "keep me");
  // The transaction rolled back, so a retry with a fresh path works.
  EXPECT_TRUE(auth_->CreateInitialAdmin((dir_ / "fresh.txt").string()).ok());
}

TEST_F(AuthenticatorTest, RehashesOnLoginWhenTheHashLimitsChange) {
  AddUser("alice", Role::kViewer);
  const std::string sql = "SELECT password_hash FROM users WHERE username = 'alice'";
  const std::string old_hash = RawText(options_.path, sql);
  EXPECT_THAT(old_hash, HasSubstr(",t=1,"));
  options_.password_hash.opslimit = 2;
  Open();
  ASSERT_TRUE(Login("alice").ok());
  const std::string new_hash = RawText(options_.path, sql);
  EXPECT_THAT(new_hash, HasSubstr(",t=2,"));
  EXPECT_TRUE(VerifyPassword(new_hash, kAlicePassword));
  ASSERT_TRUE(Login("alice").ok());
  EXPECT_EQ(RawText(options_.path, sql), new_hash) << "no rehash when the limits match";
}

TEST_F(AuthenticatorTest, ChangingThePasswordNeedsTheOldOneAndEndsSessions) {
  AddUser("alice", Role::kViewer);
  absl::StatusOr<LoginResult> login = Login("alice");
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(auth_->ChangePassword("alice", "wrong password!", "a brand new password", "").code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_->ChangePassword("alice", kAlicePassword, "short", "").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(auth_->ChangePassword("alice", kAlicePassword, "a brand new password", "").ok());
  EXPECT_FALSE(auth_->AuthenticateSession(login->session_token).ok());
  EXPECT_FALSE(Login("alice").ok());
  EXPECT_TRUE(Login("alice", "a brand new password").ok());
}

TEST_F(AuthenticatorTest, UsersAndSessionsSurviveReopening) {
  AddUser("alice", Role::kSupervisor);
  absl::StatusOr<LoginResult> login = Login("alice");
  ASSERT_TRUE(login.ok());
  Open();
  absl::StatusOr<Session> session = auth_->AuthenticateSession(login->session_token);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->principal.role, Role::kSupervisor);
  absl::StatusOr<std::vector<User>> users = auth_->ListUsers(kAdmin);
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].username, "alice");
}

TEST(AuthenticatorOpen, RefusesADatabaseOfAnotherApplication) {
  const fs::path dir = custos::testing::TempDir("custos-auth-open");
  const fs::path path = dir / "other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  FakeClock clock;
  InMemoryAccessLog log;
  AuthenticatorOptions options;
  options.path = path.string();
  absl::StatusOr<std::unique_ptr<Authenticator>> auth =
      Authenticator::Create(options, &clock, &log);
  EXPECT_EQ(auth.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(auth.status().message(), HasSubstr("not a Custos auth database"));
  options.path = (dir / "missing" / "auth.db").string();
  EXPECT_EQ(Authenticator::Create(options, &clock, &log).status().code(),
            absl::StatusCode::kFailedPrecondition);
  fs::remove_all(dir);
}

TEST_F(AuthenticatorTest, ConcurrentLoginsAndChecksAreSafe) {
  AddUser("alice", Role::kViewer);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        absl::StatusOr<LoginResult> login =
            auth_->Login({"alice", kAlicePassword, "10.1.0." + std::to_string(t)});
        if (login.ok() && auth_->AuthenticateSession(login->session_token).ok()) ++ok;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace custos::auth
