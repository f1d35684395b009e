// Users, passwords, sessions and API tokens, kept in one SQLite file (docs/auth.md). A pure
// library: the API layer turns requests into these calls and their Status codes into HTTP.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "auth/access_log.h"
#include "auth/password.h"
#include "auth/rate_limiter.h"
#include "auth/role.h"
#include "custos/clock.h"
#include "store/sqlite_util.h"

namespace custos::auth {

struct AuthenticatorOptions {
  // The database file, created (mode 0600) with the current schema when missing. ":memory:"
  // gives a private in-memory database (tests).
  std::string path;
  // How long a write waits for another process's lock before failing with kUnavailable.
  int busy_timeout_ms = 5000;
  PasswordHashOptions password_hash;
  RateLimitOptions rate_limit;
  // A session ends after this long without use...
  int64_t session_idle_timeout_ms = 30 * 60 * 1000;
  // ...and this long after login, however much it is used.
  int64_t session_absolute_timeout_ms = 12 * 60 * 60 * 1000;
};

// Who is making a request, once authenticated.
struct Principal {
  enum class Kind { kAnonymous, kUser, kApiToken };
  Kind kind = Kind::kAnonymous;
  int64_t user_id = 0;  // 0 unless kUser.
  std::string name;     // Username, or "token:<name>"; "" when anonymous.
  Role role = Role::kPublic;
};

struct User {
  int64_t id = 0;
  std::string username;
  Role role = Role::kViewer;
  int64_t created_ms = 0;
  bool disabled = false;
};

struct NewUser {
  std::string username;
  std::string password;
  Role role = Role::kViewer;
};

struct LoginRequest {
  std::string username;
  std::string password;
  std::string client;  // The client's address; "" disables the per-address limit.
};

// A live session as seen by the API layer.
struct Session {
  Principal principal;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;  // The absolute timeout; the idle one may end it earlier.
  // Synchronizer token: the client sends it back in a header on every state-changing
  // request; check it with Authenticator::CheckCsrf.
  std::string csrf_token;
};

struct LoginResult {
  // Give it to the client (an HttpOnly, Secure, SameSite=Strict cookie); only its SHA-256 is
  // stored, so it cannot be shown again.
  std::string session_token;
  Session session;
};

struct ApiTokenSpec {
  std::string name;  // As a username: 3 to 64 of a-z, 0-9, '.', '_', '-'. Unique for ever.
  Role role = Role::kViewer;
  int64_t expires_ms = 0;  // UTC; 0: does not expire.
};

struct ApiTokenInfo {
  int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  int64_t created_ms = 0;
  std::string created_by;
  int64_t expires_ms = 0;
  int64_t revoked_ms = 0;  // 0: not revoked.
};

struct NewApiToken {
  ApiTokenInfo info;
  std::string token;  // "cst_..."; shown once, only its SHA-256 is stored.
};

struct InitialAdmin {
  std::string username;
  std::string password_file;
};

// Thread-safe. Password hashing runs outside the database lock, so slow logins do not block
// session checks.
class Authenticator {
 public:
  // REQUIRES: `clock` and `access_log` outlive the authenticator.
  // Errors: kInvalidArgument (empty path, bad options); kFailedPrecondition (missing
  // directory, a database of another application or a newer schema, no WAL); kPermissionDenied
  // (not writable); kDataLoss (not an SQLite database); kUnavailable (locked, I/O error).
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(const AuthenticatorOptions& options,
                                                               const Clock* clock,
                                                               AccessLog* access_log);

  // The schema history; the last version is what this build creates.
  static const std::vector<store::Migration>& Migrations();

  // kOk when `principal` may do `permission`, else kPermissionDenied naming the role and act.
  static absl::Status Authorize(const Principal& principal, Permission permission);

  // Creates the first administrator, `username`, with a random 32-character password written
  // to a new file `password_file` (mode 0600, fsynced) and returns where it is. Nothing else
  // ever creates credentials without a person choosing them.
  // Errors: kFailedPrecondition (an admin exists already); kAlreadyExists (the file or the
  // username exists); kPermissionDenied/kUnavailable (cannot write the file); store errors.
  absl::StatusOr<InitialAdmin> CreateInitialAdmin(const std::string& password_file,
                                                  std::string_view username = "admin");

  // Errors: kPermissionDenied (`by` lacks manage_users); kInvalidArgument (username, role
  // public, password policy); kAlreadyExists (username taken); store errors.
  absl::StatusOr<User> CreateUser(const Principal& by, const NewUser& user);
  // Disabling also ends all sessions of the user.
  // Errors: kPermissionDenied; kNotFound; kFailedPrecondition (disabling oneself); store.
  absl::Status SetDisabled(const Principal& by, std::string_view username, bool disabled);
  // Errors: kPermissionDenied; kNotFound; store errors.
  absl::StatusOr<User> GetUser(const Principal& by, std::string_view username);
  absl::StatusOr<std::vector<User>> ListUsers(const Principal& by);

  // Checks the password and opens a session. Unknown user, wrong password and disabled
  // account give the same kUnauthenticated after the same amount of hashing work.
  // Errors: kUnauthenticated; kResourceExhausted (too many failures for this username or
  // address; the message says when to retry); store errors.
  absl::StatusOr<LoginResult> Login(const LoginRequest& request);

  // The session of `session_token`, extending its idle timeout.
  // Errors: kUnauthenticated (unknown, ended or expired; log in again); store errors.
  absl::StatusOr<Session> AuthenticateSession(std::string_view session_token);

  // Errors: kPermissionDenied when `presented` is not the session's CSRF token.
  static absl::Status CheckCsrf(const Session& session, std::string_view presented);

  // Ends the session; unknown tokens are fine (already logged out).
  absl::Status Logout(std::string_view session_token, std::string_view client);

  // Ends every session of `username`. Allowed for the user themself and for manage_users.
  // Returns how many were ended. Errors: kPermissionDenied; kNotFound; store errors.
  absl::StatusOr<int64_t> RevokeSessions(const Principal& by, std::string_view username);

  // Changes the user's own password after checking the old one (rate limited like a login),
  // and ends all their sessions. Errors: kUnauthenticated; kResourceExhausted;
  // kInvalidArgument (policy); store errors.
  absl::Status ChangePassword(std::string_view username, std::string_view old_password,
                              std::string_view new_password, std::string_view client);

  // Errors: kPermissionDenied; kInvalidArgument (name, role public, expiry in the past);
  // kAlreadyExists (name used before); store errors.
  absl::StatusOr<NewApiToken> CreateApiToken(const Principal& by, const ApiTokenSpec& spec);
  // Errors: kUnauthenticated (unknown, revoked or expired); store errors.
  absl::StatusOr<Principal> AuthenticateApiToken(std::string_view token);
  // Errors: kPermissionDenied; kNotFound; store errors.
  absl::Status RevokeApiToken(const Principal& by, std::string_view name);
  absl::StatusOr<std::vector<ApiTokenInfo>> ListApiTokens(const Principal& by);

  const std::string& path() const { return options_.path; }

 private:
  struct StoredUser {
    User user;
    std::string password_hash;
  };

  Authenticator(const AuthenticatorOptions& options, const Clock* clock, AccessLog* access_log,
                store::SqliteDb db, std::string dummy_hash);

  absl::StatusOr<std::optional<StoredUser>> FindUserLocked(std::string_view username)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<User> InsertUserLocked(std::string_view username, Role role,
                                        std::string_view password_hash)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> DeleteSessionsLocked(int64_t user_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Transaction(const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Checks both rate-limit keys; kResourceExhausted when either is locked.
  absl::Status CheckRateLimit(std::string_view username_key, std::string_view client);
  void RecordFailure(std::string_view username_key, std::string_view client);
  // Verifies `password` against the user's hash, or against a dummy hash when there is no
  // user, so both take the same time.
  bool VerifyUserPassword(const std::optional<StoredUser>& user, std::string_view password) const;
  void Record(std::string_view actor, Role role, AccessAction action, std::string_view object,
              AccessResult result, std::string_view client);

  const AuthenticatorOptions options_;
  const Clock* const clock_;
  AccessLog* const access_log_;
  const std::string dummy_hash_;
  LoginRateLimiter limiter_;
  absl::Mutex mu_;
  store::SqliteDb db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::auth
