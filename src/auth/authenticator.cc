#include "auth/authenticator.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "auth/strings.h"
#include "custos/status.h"

namespace custos::auth {
namespace {

namespace fs = std::filesystem;
using store::Statement;

// PRAGMA application_id of a Custos auth database: "CSAU".
constexpr int64_t kApplicationId = 0x43534155;

// One message for unknown user, wrong password and disabled account, so that the answer
// tells nobody which usernames exist.
constexpr char kBadCredentials[] = "wrong username or password, or the account is disabled";
constexpr char kSessionEnded[] = "not logged in, or the session has ended; log in again";
constexpr char kApiTokenPrefix[] = "cst_";
constexpr size_t kTokenBytes = 32;            // 256 bits.
constexpr size_t kMaxTokenLength = 256;       // Longer input is refused before hashing.
constexpr size_t kInitialPasswordBytes = 24;  // 32 base64url characters.

std::string ErrnoText(int error) { return std::strerror(error); }

// Lowercase, at most kMaxUsernameLength: the form in which a login's username is looked up
// and rate limited, so that case variants share one counter.
std::string UsernameKey(std::string_view username) {
  return absl::AsciiStrToLower(Sv(username.substr(0, kMaxUsernameLength)));
}

absl::Status StepDone(sqlite3* db, Statement& statement, std::string_view what,
                      const std::string& path) {
  const int rc = statement.Step();
  if (rc != SQLITE_DONE) return store::SqliteStatus(db, rc, what, path);
  return absl::OkStatus();
}

absl::StatusOr<Role> ParseStoredRole(const std::string& name, const std::string& path) {
  std::optional<Role> role = RoleFromName(name);
  if (!role || *role == Role::kPublic) {
    return absl::DataLossError(absl::StrCat("auth database ", path, " holds unknown role '", name,
                                            "' (written by a newer Custos?)"));
  }
  return *role;
}

// Creates `path` (which must not exist) with mode 0600, writes `contents` and syncs the file
// and its directory.
absl::Status WriteSecretFile(const std::string& path, std::string_view contents) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat("password file ", path,
                       " already exists; refusing to overwrite it. Move it away or "
                       "choose another path"));
    }
    if (error == ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create password file ", path, ": its directory does not exist"));
    }
    if (error == EACCES || error == EPERM || error == EROFS) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create password file ", path, ": ", ErrnoText(error)));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot create password file ", path, ": ", ErrnoText(error)));
  }
  absl::Status status;
  // The umask can only remove bits, but be explicit.
  if (::fchmod(fd, 0600) != 0) {
    status = absl::UnavailableError(absl::StrCat("cannot chmod ", path, ": ", ErrnoText(errno)));
  }
  size_t written = 0;
  while (status.ok() && written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = absl::UnavailableError(
          absl::StrCat("cannot write password file ", path, ": ", ErrnoText(errno)));
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (status.ok() && ::fsync(fd) != 0) {
    status = absl::UnavailableError(
        absl::StrCat("cannot sync password file ", path, ": ", ErrnoText(errno)));
  }
  ::close(fd);
  if (!status.ok()) {
    ::unlink(path.c_str());
    return status;
  }
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

// Creates a missing database file with mode 0600 before SQLite does (SQLite would use 0644);
// SQLite gives the -wal and -shm files the mode of the database.
absl::Status PrepareDatabaseFile(const std::string& path) {
  std::error_code ec;
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create auth database ", path, ": directory ", dir.string(),
                     " does not exist; create it or choose another path"));
  }
  if (fs::is_directory(path, ec)) {
    return absl::FailedPreconditionError(absl::StrCat("auth database path ", path,
                                                      " is a directory; give a file name such as ",
                                                      (fs::path(path) / "auth.db").string()));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    const int error = errno;
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create auth database ", path, ": ", ErrnoText(error)));
  }
  return absl::OkStatus();
}

absl::Status ValidateOptions(const AuthenticatorOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("auth database path is empty");
  if (options.busy_timeout_ms < 0) {
    return absl::InvalidArgumentError("busy_timeout_ms must not be negative");
  }
  CUSTOS_RETURN_IF_ERROR(ValidateHashOptions(options.password_hash));
  if (options.session_idle_timeout_ms <= 0 || options.session_absolute_timeout_ms <= 0) {
    return absl::InvalidArgumentError("session timeouts must be positive");
  }
  const RateLimitOptions& r = options.rate_limit;
  if (r.max_failures < 1 || r.window_ms <= 0 || r.lockout_ms <= 0 ||
      r.max_lockout_ms < r.lockout_ms || r.max_keys < 1) {
    return absl::InvalidArgumentError(
        "rate_limit: max_failures, window_ms, lockout_ms and max_keys must be positive and "
        "max_lockout_ms at least lockout_ms");
  }
  return absl::OkStatus();
}

absl::StatusOr<store::SqliteDb> OpenDatabase(const AuthenticatorOptions& options) {
  const std::string& path = options.path;
  const bool in_memory = path == ":memory:";
  if (!in_memory) CUSTOS_RETURN_IF_ERROR(PrepareDatabaseFile(path));
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  store::SqliteDb db(raw);
  if (rc != SQLITE_OK) return store::SqliteStatus(db.get(), rc, "opening auth database", path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);

  CUSTOS_ASSIGN_OR_RETURN(const int64_t app_id,
                          store::QueryInt(db.get(), "PRAGMA application_id", path));
  CUSTOS_ASSIGN_OR_RETURN(const int64_t objects,
                          store::QueryInt(db.get(), "SELECT count(*) FROM sqlite_master", path));
  if (app_id != 0 && app_id != kApplicationId) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, " belongs to another application (application_id ", app_id,
                     "); point the auth store at another file"));
  }
  if (app_id == 0 && objects > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", path,
        " already has tables but is not a Custos auth database; refusing to modify it. Point "
        "the auth store at another file"));
  }
  CUSTOS_RETURN_IF_ERROR(store::EnableWal(db.get(), "auth database", path, in_memory));
  CUSTOS_RETURN_IF_ERROR(store::Exec(db.get(), "PRAGMA synchronous = NORMAL", path));
  CUSTOS_RETURN_IF_ERROR(store::Exec(db.get(), "PRAGMA foreign_keys = ON", path));
  // Deleted secrets (session hashes, old password hashes) are overwritten, not left in free
  // pages.
  CUSTOS_RETURN_IF_ERROR(store::Exec(db.get(), "PRAGMA secure_delete = ON", path));
  CUSTOS_RETURN_IF_ERROR(store::ApplyMigrations(db.get(), Authenticator::Migrations(), path));
  return db;
}

}  // namespace

const std::vector<store::Migration>& Authenticator::Migrations() {
  // Released versions never change: add a new version for every schema change.
  static const auto* const kMigrations = new std::vector<store::Migration>{
      {1,
       {
           "CREATE TABLE users ("
           "  id INTEGER PRIMARY KEY,"
           "  username TEXT NOT NULL UNIQUE,"
           "  role TEXT NOT NULL,"           // RoleName()
           "  password_hash TEXT NOT NULL,"  // crypto_pwhash_str: $argon2id$...
           "  created_ms INTEGER NOT NULL,"
           "  disabled INTEGER NOT NULL DEFAULT 0"
           ")",
           "CREATE TABLE sessions ("
           "  token_hash TEXT PRIMARY KEY NOT NULL,"  // SHA-256 hex of the session token
           "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
           "  created_ms INTEGER NOT NULL,"
           "  last_seen_ms INTEGER NOT NULL,"
           "  expires_ms INTEGER NOT NULL,"
           "  csrf_token TEXT NOT NULL,"
           "  client TEXT NOT NULL DEFAULT ''"
           ") WITHOUT ROWID",
           "CREATE INDEX sessions_user ON sessions (user_id)",
           "CREATE TABLE api_tokens ("
           "  id INTEGER PRIMARY KEY,"
           "  name TEXT NOT NULL UNIQUE,"
           "  role TEXT NOT NULL,"
           "  token_hash TEXT NOT NULL UNIQUE,"  // SHA-256 hex of the token
           "  created_ms INTEGER NOT NULL,"
           "  created_by TEXT NOT NULL,"
           "  expires_ms INTEGER NOT NULL DEFAULT 0,"  // 0: never
           "  revoked_ms INTEGER NOT NULL DEFAULT 0"   // 0: not revoked
           ")",
           absl::StrCat("PRAGMA application_id = ", kApplicationId),
       }},
  };
  return *kMigrations;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(
    const AuthenticatorOptions& options, const Clock* clock, AccessLog* access_log) {
  CUSTOS_RETURN_IF_ERROR(ValidateOptions(options));
  CUSTOS_RETURN_IF_ERROR(InitSodium());
  // Logins for unknown users verify against this, so they cost what a real check costs.
  CUSTOS_ASSIGN_OR_RETURN(std::string dummy_hash,
                          HashPassword(RandomToken(kTokenBytes), options.password_hash));
  CUSTOS_ASSIGN_OR_RETURN(store::SqliteDb db, OpenDatabase(options));
  return std::unique_ptr<Authenticator>(
      new Authenticator(options, clock, access_log, std::move(db), std::move(dummy_hash)));
}

Authenticator::Authenticator(const AuthenticatorOptions& options, const Clock* clock,
                             AccessLog* access_log, store::SqliteDb db, std::string dummy_hash)
    : options_(options),
      clock_(clock),
      access_log_(access_log),
      dummy_hash_(std::move(dummy_hash)),
      limiter_(options.rate_limit, clock),
      db_(std::move(db)) {}

absl::Status Authenticator::Authorize(const Principal& principal, Permission permission) {
  if (Allows(principal.role, permission)) return absl::OkStatus();
  if (principal.kind == Principal::Kind::kAnonymous) {
    return absl::UnauthenticatedError(
        absl::StrCat("log in to ", Sv(PermissionDescription(permission))));
  }
  return absl::PermissionDeniedError(absl::StrCat("the ", Sv(RoleName(principal.role)),
                                                  " role may not ",
                                                  Sv(PermissionDescription(permission))));
}

void Authenticator::Record(std::string_view actor, Role role, AccessAction action,
                           std::string_view object, AccessResult result, std::string_view client) {
  AccessRecord record;
  record.time_ms = clock_->WallMs();
  record.actor = std::string(actor);
  record.role = role;
  record.action = action;
  record.object = std::string(object);
  record.result = result;
  record.client = std::string(client);
  access_log_->Record(record);
}

absl::Status Authenticator::Transaction(const std::function<absl::Status()>& body) {
  CUSTOS_RETURN_IF_ERROR(store::Exec(db_.get(), "BEGIN IMMEDIATE", path()));
  absl::Status status = body();
  if (status.ok()) status = store::Exec(db_.get(), "COMMIT", path());
  if (!status.ok() && !sqlite3_get_autocommit(db_.get())) {
    store::Exec(db_.get(), "ROLLBACK", path()).IgnoreError();
  }
  return status;
}

absl::StatusOr<std::optional<Authenticator::StoredUser>> Authenticator::FindUserLocked(
    std::string_view username) {
  CUSTOS_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db_.get(),
                         "SELECT id, username, role, password_hash, created_ms, disabled "
                         "FROM users WHERE username = ?"));
  select.Bind(1, username);
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredUser>();
  if (rc != SQLITE_ROW) return store::SqliteStatus(db_.get(), rc, "looking up a user", path());
  StoredUser stored;
  stored.user.id = select.ColumnInt(0);
  stored.user.username = select.ColumnText(1);
  CUSTOS_ASSIGN_OR_RETURN(stored.user.role, ParseStoredRole(select.ColumnText(2), path()));
  stored.password_hash = select.ColumnText(3);
  stored.user.created_ms = select.ColumnInt(4);
  stored.user.disabled = select.ColumnInt(5) != 0;
  return std::optional<StoredUser>(std::move(stored));
}

absl::StatusOr<User> Authenticator::InsertUserLocked(std::string_view username, Role role,
                                                     std::string_view password_hash) {
  CUSTOS_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db_.get(),
                         "INSERT INTO users (username, role, password_hash, created_ms) "
                         "VALUES (?, ?, ?, ?)"));
  User user;
  user.username = std::string(username);
  user.role = role;
  user.created_ms = clock_->WallMs();
  insert.Bind(1, username);
  insert.Bind(2, RoleName(role));
  insert.Bind(3, password_hash);
  insert.Bind(4, user.created_ms);
  const int rc = insert.Step();
  if (rc == SQLITE_CONSTRAINT_UNIQUE) {
    return absl::AlreadyExistsError(
        absl::StrCat("username '", Sv(username), "' is taken; choose another"));
  }
  if (rc != SQLITE_DONE) return store::SqliteStatus(db_.get(), rc, "creating a user", path());
  user.id = sqlite3_last_insert_rowid(db_.get());
  return user;
}

absl::StatusOr<int64_t> Authenticator::DeleteSessionsLocked(int64_t user_id) {
  CUSTOS_ASSIGN_OR_RETURN(Statement del,
                          Statement::Prepare(db_.get(), "DELETE FROM sessions WHERE user_id = ?"));
  del.Bind(1, user_id);
  CUSTOS_RETURN_IF_ERROR(StepDone(db_.get(), del, "ending sessions", path()));
  return static_cast<int64_t>(sqlite3_changes(db_.get()));
}

absl::StatusOr<InitialAdmin> Authenticator::CreateInitialAdmin(const std::string& password_file,
                                                               std::string_view username) {
  CUSTOS_RETURN_IF_ERROR(ValidateUsername(username));
  if (password_file.empty()) {
    return absl::InvalidArgumentError("give a path for the initial admin's password file");
  }
  const std::string password = RandomToken(kInitialPasswordBytes);
  CUSTOS_ASSIGN_OR_RETURN(const std::string hash, HashPassword(password, options_.password_hash));
  const std::string contents = absl::StrCat(
      "# Custos initial administrator. Log in, change this password, then delete this file.\n",
      "username: ", Sv(username), "\npassword: ", password, "\n");
  bool wrote_file = false;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
      CUSTOS_ASSIGN_OR_RETURN(
          const int64_t admins,
          store::QueryInt(db_.get(), "SELECT count(*) FROM users WHERE role = 'admin'", path()));
      if (admins > 0) {
        return absl::FailedPreconditionError(
            "an administrator exists already; log in as one to create users. No password file "
            "was written");
      }
      CUSTOS_ASSIGN_OR_RETURN(User user, InsertUserLocked(username, Role::kAdmin, hash));
      CUSTOS_RETURN_IF_ERROR(WriteSecretFile(password_file, contents));
      wrote_file = true;
      return absl::OkStatus();
    });
  }
  if (!status.ok()) {
    if (wrote_file) ::unlink(password_file.c_str());
    return status;
  }
  Record("system", Role::kPublic, AccessAction::kUserCreated, username, AccessResult::kOk, "");
  return InitialAdmin{std::string(username), password_file};
}

absl::StatusOr<User> Authenticator::CreateUser(const Principal& by, const NewUser& new_user) {
  CUSTOS_RETURN_IF_ERROR(Authorize(by, Permission::kManageUsers));
  CUSTOS_RETURN_IF_ERROR(ValidateUsername(new_user.username));
  if (new_user.role == Role::kPublic) {
    return absl::InvalidArgumentError(
        "'public' is the role of anonymous visitors, not of a user; choose another role");
  }
  CUSTOS_RETURN_IF_ERROR(CheckPasswordPolicy(new_user.username, new_user.password));
  CUSTOS_ASSIGN_OR_RETURN(const std::string hash,
                          HashPassword(new_user.password, options_.password_hash));
  absl::StatusOr<User> user;
  {
    absl::MutexLock lock(&mu_);
    user = InsertUserLocked(new_user.username, new_user.role, hash);
  }
  Record(by.name, by.role, AccessAction::kUserCreated, new_user.username,
         user.ok() ? AccessResult::kOk : AccessResult::kError, "");
  return user;
}

absl::Status Authenticator::SetDisabled(const Principal& by, std::string_view username,
                                        bool disabled) {
  CUSTOS_RETURN_IF_ERROR(Authorize(by, Permission::kManageUsers));
  if (disabled && by.kind == Principal::Kind::kUser && by.name == username) {
    return absl::FailedPreconditionError(
        "you cannot disable your own account; ask another administrator");
  }
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
      CUSTOS_ASSIGN_OR_RETURN(std::optional<StoredUser> user, FindUserLocked(username));
      if (!user) return absl::NotFoundError(absl::StrCat("no user named '", Sv(username), "'"));
      CUSTOS_ASSIGN_OR_RETURN(
          Statement update,
          Statement::Prepare(db_.get(), "UPDATE users SET disabled = ? WHERE id = ?"));
      update.Bind(1, int64_t{disabled ? 1 : 0});
      update.Bind(2, user->user.id);
      CUSTOS_RETURN_IF_ERROR(StepDone(db_.get(), update, "disabling a user", path()));
      if (disabled) CUSTOS_RETURN_IF_ERROR(DeleteSessionsLocked(user->user.id).status());
      return absl::OkStatus();
    });
  }
  Record(by.name, by.role, disabled ? AccessAction::kUserDisabled : AccessAction::kUserEnabled,
         username, status.ok() ? AccessResult::kOk : AccessResult::kError, "");
  return status;
}

absl::StatusOr<User> Authenticator::GetUser(const Principal& by, std::string_view username) {
  CUSTOS_RETURN_IF_ERROR(Authorize(by, Permission::kManageUsers));
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<StoredUser> user, FindUserLocked(username));
  if (!user) return absl::NotFoundError(absl::StrCat("no user named '", Sv(username), "'"));
  return user->user;
}

absl::StatusOr<std::vector<User>> Authenticator::ListUsers(const Principal& by) {
  CUSTOS_RETURN_IF_ERROR(Authorize(by, Permission::kManageUsers));
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db_.get(),
                         "SELECT id, username, role, created_ms, disabled FROM users "
                         "ORDER BY username"));
  std::vector<User> users;
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    User user;
    user.id = select.ColumnInt(0);
    user.username = select.ColumnText(1);
    CUSTOS_ASSIGN_OR_RETURN(user.role, ParseStoredRole(select.ColumnText(2), path()));
    user.created_ms = select.ColumnInt(3);
    user.disabled = select.ColumnInt(4) != 0;
    users.push_back(std::move(user));
  }
  if (rc != SQLITE_DONE) return store::SqliteStatus(db_.get(), rc, "listing users", path());
  return users;
}

absl::Status Authenticator::CheckRateLimit(std::string_view username_key, std::string_view client) {
  int64_t wait_ms = limiter_.RetryAfterMs(absl::StrCat("user:", Sv(username_key)));
  if (!client.empty()) {
    wait_ms = std::max(wait_ms, limiter_.RetryAfterMs(absl::StrCat("client:", Sv(client))));
  }
  if (wait_ms <= 0) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat("too many failed logins for this account or from this address; try again in ",
                   (wait_ms + 999) / 1000, " seconds"));
}

void Authenticator::RecordFailure(std::string_view username_key, std::string_view client) {
  limiter_.RecordFailure(absl::StrCat("user:", Sv(username_key)));
  if (!client.empty()) limiter_.RecordFailure(absl::StrCat("client:", Sv(client)));
}

bool Authenticator::VerifyUserPassword(const std::optional<StoredUser>& user,
                                       std::string_view password) const {
  if (!user) {
    VerifyPassword(dummy_hash_, password);
    return false;
  }
  return VerifyPassword(user->password_hash, password);
}

absl::StatusOr<LoginResult> Authenticator::Login(const LoginRequest& request) {
  const std::string key = UsernameKey(request.username);
  if (absl::Status limited = CheckRateLimit(key, request.client); !limited.ok()) {
    Record(key, Role::kPublic, AccessAction::kLoginFailed, "", AccessResult::kRateLimited,
           request.client);
    return limited;
  }
  std::optional<StoredUser> user;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::optional<StoredUser>> found = FindUserLocked(key);
    if (!found.ok()) {
      Record(key, Role::kPublic, AccessAction::kLoginFailed, "", AccessResult::kError,
             request.client);
      return found.status();
    }
    user = *std::move(found);
  }
  const bool password_ok = VerifyUserPassword(user, request.password);
  if (!password_ok || user->user.disabled) {
    RecordFailure(key, request.client);
    Record(key, Role::kPublic, AccessAction::kLoginFailed, "",
           password_ok ? AccessResult::kDisabled : AccessResult::kBadCredentials, request.client);
    return absl::UnauthenticatedError(kBadCredentials);
  }
  limiter_.RecordSuccess(absl::StrCat("user:", key));

  // Upgrade a hash made with other limits while the password is at hand.
  std::optional<std::string> new_hash;
  if (NeedsRehash(user->password_hash, options_.password_hash)) {
    absl::StatusOr<std::string> rehashed = HashPassword(request.password, options_.password_hash);
    if (rehashed.ok()) new_hash = *std::move(rehashed);  // Else keep the old one; try next time.
  }

  const int64_t now = clock_->WallMs();
  LoginResult result;
  result.session_token = RandomToken(kTokenBytes);
  result.session.principal = {Principal::Kind::kUser, user->user.id, user->user.username,
                              user->user.role};
  result.session.created_ms = now;
  result.session.expires_ms = now + options_.session_absolute_timeout_ms;
  result.session.csrf_token = RandomToken(kTokenBytes);
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
      // Sweep sessions that have run out, so that the table does not grow without bound.
      CUSTOS_ASSIGN_OR_RETURN(
          Statement sweep,
          Statement::Prepare(db_.get(),
                             "DELETE FROM sessions WHERE expires_ms <= ? OR last_seen_ms <= ?"));
      sweep.Bind(1, now);
      sweep.Bind(2, now - options_.session_idle_timeout_ms);
      CUSTOS_RETURN_IF_ERROR(StepDone(db_.get(), sweep, "removing expired sessions", path()));
      CUSTOS_ASSIGN_OR_RETURN(
          Statement insert,
          Statement::Prepare(db_.get(),
                             "INSERT INTO sessions (token_hash, user_id, created_ms, "
                             "last_seen_ms, expires_ms, csrf_token, client) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)"));
      insert.Bind(1, Sha256Hex(result.session_token));
      insert.Bind(2, user->user.id);
      insert.Bind(3, now);
      insert.Bind(4, now);
      insert.Bind(5, result.session.expires_ms);
      insert.Bind(6, std::string_view(result.session.csrf_token));
      insert.Bind(7, std::string_view(request.client));
      CUSTOS_RETURN_IF_ERROR(StepDone(db_.get(), insert, "creating a session", path()));
      if (new_hash) {
        // Only if nobody changed the password meanwhile.
        CUSTOS_ASSIGN_OR_RETURN(Statement update,
                                Statement::Prepare(db_.get(),
                                                   "UPDATE users SET password_hash = ? "
                                                   "WHERE id = ? AND password_hash = ?"));
        update.Bind(1, std::string_view(*new_hash));
        update.Bind(2, user->user.id);
        update.Bind(3, std::string_view(user->password_hash));
        CUSTOS_RETURN_IF_ERROR(StepDone(db_.get(), update, "upgrading a password hash", path()));
      }
      return absl::OkStatus();
    });
  }
  if (!status.ok()) {
    Record(user->user.username, user->user.role, AccessAction::kLoginFailed, "",
           AccessResult::kError, request.client);
    return status;
  }
  Record(user->user.username, user->user.role, AccessAction::kLogin, "", AccessResult::kOk,
         request.client);
  return result;
}

absl::StatusOr<Session> Authenticator::AuthenticateSession(std::string_view session_token) {
  if (session_token.empty() || session_token.size() > kMaxTokenLength) {
    return absl::UnauthenticatedError(kSessionEnded);
  }
  const std::string token_hash = Sha256Hex(session_token);
  const int64_t now = clock_->WallMs();
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db_.get(),
                         "SELECT s.user_id, u.username, u.role, u.disabled, s.created_ms, "
                         "s.last_seen_ms, s.expires_ms, s.csrf_token "
                         "FROM sessions s JOIN users u ON u.id = s.user_id "
                         "WHERE s.token_hash = ?"));
  select.Bind(1, std::string_view(token_hash));
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return absl::UnauthenticatedError(kSessionEnded);
  if (rc != SQLITE_ROW) return store::SqliteStatus(db_.get(), rc, "checking a session", path());
  Session session;
  session.principal.kind = Principal::Kind::kUser;
  session.principal.user_id = select.ColumnInt(0);
  session.principal.name = select.ColumnText(1);
  CUSTOS_ASSIGN_OR_RETURN(session.principal.role, ParseStoredRole(select.ColumnText(2), path()));
  const bool disabled = select.ColumnInt(3) != 0;
  session.created_ms = select.ColumnInt(4);
  const int64_t last_seen_ms = select.ColumnInt(5);
  session.expires_ms = select.ColumnInt(6);
  session.csrf_token = select.ColumnText(7);

  const bool expired =
      now >= session.expires_ms || now - last_seen_ms >= options_.session_idle_timeout_ms;
  CUSTOS_ASSIGN_OR_RETURN(
      Statement update,
      Statement::Prepare(db_.get(), expired || disabled
                                        ? "DELETE FROM sessions WHERE token_hash = ?"
                                        : "UPDATE sessions SET last_seen_ms = ? "
                                          "WHERE token_hash = ?"));
  if (expired || disabled) {
    update.Bind(1, std::string_view(token_hash));
  } else {
    update.Bind(1, now);
    update.Bind(2, std::string_view(token_hash));
  }
  CUSTOS_RETURN_IF_ERROR(StepDone(db_.get(), update, "updating a session", path()));
  if (disabled) return absl::UnauthenticatedError(kSessionEnded);
  if (expired) {
    return absl::UnauthenticatedError("the session has expired; log in again");
  }
  return session;
}

absl::Status Authenticator::CheckCsrf(const Session& session, std::string_view presented) {
  if (presented.empty() || session.csrf_token.empty() ||
      !SecretEquals(session.csrf_token, presented)) {
    return absl::PermissionDeniedError(
        "the request's CSRF token is missing or does not match the session; reload the page "
        "and try again");
  }
  return absl::OkStatus();
}

absl::Status Authenticator::Logout(std::string_view session_token, std::string_view client) {
  if (session_token.empty() || session_token.size() > kMaxTokenLength) return absl::OkStatus();
  const std::string token_hash = Sha256Hex(session_token);
  std::string username;
  Role role = Role::kPublic;
  {
    absl::MutexLock lock(&mu_);
    CUSTOS_ASSIGN_OR_RETURN(
        Statement select,
        Statement::Prepare(db_.get(),
                           "SELECT u.username, u.role FROM sessions s JOIN users u "
                           "ON u.id = s.user_id WHERE s.token_hash = ?"));
    select.Bind(1, std::string_view(token_hash));
    const int rc = select.Step();
    if (rc == SQLITE_DONE) return absl::OkStatus();  // Already logged out.
    if (rc != SQLITE_ROW) return store::SqliteStatus(db_.get(), rc, "logging out", path());
    username = select.ColumnText(0);
    role = RoleFromName(select.ColumnText(1)).value_or(Role::kPublic);
    CUSTOS_ASSIGN_OR_RETURN(
        Statement del, Statement::Prepare(db_.get(), "DELETE FROM sessions WHERE token_hash = ?"));
    del.Bind(1, std::string_view(token_hash));
    CUSTOS_RETURN_IF_ERROR(StepDone(db_.get(), del, "logging out", path()));
  }
  Record(username, role, AccessAction::kLogout, "", AccessResult::kOk, client);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Authenticator::RevokeSessions(const Principal& by,
                                                      std::string_view username) {
  const bool self = by.kind == Principal::Kind::kUser && by.name == username;
  if (!self) CUSTOS_RETURN_IF_ERROR(Authorize(by, Permission::kManageUsers));
  absl::StatusOr<int64_t> revoked;
  {
    absl::MutexLock lock(&mu_);
    CUSTOS_ASSIGN_OR_RETURN(std::optional<StoredUser> user, FindUserLocked(username));
    if (!user) return absl::NotFoundError(absl::StrCat("no user named '", Sv(username), "'"));
    revoked = DeleteSessionsLocked(user->user.id);
  }
  Record(by.name, by.role, AccessAction::kSessionsRevoked, username,
         revoked.ok() ? AccessResult::kOk : AccessResult::kError, "");
  return revoked;
}

absl::Status Authenticator::ChangePassword(std::string_view username, std::string_view old_password,
                                           std::string_view new_password, std::string_view client) {
  const std::string key = UsernameKey(username);
  CUSTOS_RETURN_IF_ERROR(CheckPasswordPolicy(key, new_password));
  if (absl::Status limited = CheckRateLimit(key, client); !limited.ok()) {
    Record(key, Role::kPublic, AccessAction::kPasswordChanged, key, AccessResult::kRateLimited,
           client);
    return limited;
  }
  std::optional<StoredUser> user;
  {
    absl::MutexLock lock(&mu_);
    CUSTOS_ASSIGN_OR_RETURN(user, FindUserLocked(key));
  }
  const bool password_ok = VerifyUserPassword(user, old_password);
  if (!password_ok || user->user.disabled) {
    RecordFailure(key, client);
    Record(key, Role::kPublic, AccessAction::kPasswordChanged, key,
           password_ok ? AccessResult::kDisabled : AccessResult::kBadCredentials, client);
    return absl::UnauthenticatedError(kBadCredentials);
  }
  limiter_.RecordSuccess(absl::StrCat("user:", key));
  if (SecretEquals(old_password, new_password)) {
    return absl::InvalidArgumentError("the new password must differ from the old one");
  }
  CUSTOS_ASSIGN_OR_RETURN(const std::string hash,
                          HashPassword(new_password, options_.password_hash));
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
      CUSTOS_ASSIGN_OR_RETURN(
          Statement update,
          Statement::Prepare(db_.get(), "UPDATE users SET password_hash = ? WHERE id = ?"));
      update.Bind(1, std::string_view(hash));
      update.Bind(2, user->user.id);
      CUSTOS_RETURN_IF_ERROR(StepDone(db_.get(), update, "changing a password", path()));
      return DeleteSessionsLocked(user->user.id).status();
    });
  }
  Record(user->user.username, user->user.role, AccessAction::kPasswordChanged, user->user.username,
         status.ok() ? AccessResult::kOk : AccessResult::kError, client);
  return status;
}

absl::StatusOr<NewApiToken> Authenticator::CreateApiToken(const Principal& by,
                                                          const ApiTokenSpec& spec) {
  CUSTOS_RETURN_IF_ERROR(Authorize(by, Permission::kManageUsers));
  if (absl::Status name_ok = ValidateUsername(spec.name); !name_ok.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("API token name: ", name_ok.message()));
  }
  if (spec.role == Role::kPublic) {
    return absl::InvalidArgumentError(
        "an API token for the public role is pointless (public data needs no token); choose "
        "another role");
  }
  const int64_t now = clock_->WallMs();
  if (spec.expires_ms != 0 && spec.expires_ms <= now) {
    return absl::InvalidArgumentError(
        "the API token's expiry is in the past; give a future time or 0 for none");
  }
  NewApiToken created;
  created.token = absl::StrCat(kApiTokenPrefix, RandomToken(kTokenBytes));
  created.info.name = spec.name;
  created.info.role = spec.role;
  created.info.created_ms = now;
  created.info.created_by = by.name;
  created.info.expires_ms = spec.expires_ms;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
      CUSTOS_ASSIGN_OR_RETURN(
          Statement insert,
          Statement::Prepare(db_.get(),
                             "INSERT INTO api_tokens (name, role, token_hash, created_ms, "
                             "created_by, expires_ms) VALUES (?, ?, ?, ?, ?, ?)"));
      insert.Bind(1, std::string_view(spec.name));
      insert.Bind(2, RoleName(spec.role));
      insert.Bind(3, Sha256Hex(created.token));
      insert.Bind(4, now);
      insert.Bind(5, std::string_view(by.name));
      insert.Bind(6, spec.expires_ms);
      const int rc = insert.Step();
      if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        return absl::AlreadyExistsError(absl::StrCat(
            "an API token named '", spec.name,
            "' exists or existed (names are never reused, for the audit trail); choose another"));
      }
      if (rc != SQLITE_DONE) {
        return store::SqliteStatus(db_.get(), rc, "creating an API token", path());
      }
      created.info.id = sqlite3_last_insert_rowid(db_.get());
      return absl::OkStatus();
    }();
  }
  Record(by.name, by.role, AccessAction::kApiTokenCreated, spec.name,
         status.ok() ? AccessResult::kOk : AccessResult::kError, "");
  if (!status.ok()) return status;
  return created;
}

absl::StatusOr<Principal> Authenticator::AuthenticateApiToken(std::string_view token) {
  if (token.size() > kMaxTokenLength || token.substr(0, 4) != kApiTokenPrefix) {
    return absl::UnauthenticatedError("not a Custos API token (they start with 'cst_')");
  }
  const std::string token_hash = Sha256Hex(token);
  const int64_t now = clock_->WallMs();
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db_.get(),
                         "SELECT name, role, expires_ms, revoked_ms FROM api_tokens "
                         "WHERE token_hash = ?"));
  select.Bind(1, std::string_view(token_hash));
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return absl::UnauthenticatedError("unknown API token");
  if (rc != SQLITE_ROW) {
    return store::SqliteStatus(db_.get(), rc, "checking an API token", path());
  }
  const std::string name = select.ColumnText(0);
  CUSTOS_ASSIGN_OR_RETURN(const Role role, ParseStoredRole(select.ColumnText(1), path()));
  const int64_t expires_ms = select.ColumnInt(2);
  if (select.ColumnInt(3) != 0) {
    return absl::UnauthenticatedError(absl::StrCat(
        "API token '", name, "' has been revoked; ask an administrator for a new one"));
  }
  if (expires_ms != 0 && now >= expires_ms) {
    return absl::UnauthenticatedError(
        absl::StrCat("API token '", name, "' has expired; ask an administrator for a new one"));
  }
  return Principal{Principal::Kind::kApiToken, 0, absl::StrCat("token:", name), role};
}

absl::Status Authenticator::RevokeApiToken(const Principal& by, std::string_view name) {
  CUSTOS_RETURN_IF_ERROR(Authorize(by, Permission::kManageUsers));
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
      CUSTOS_ASSIGN_OR_RETURN(Statement update,
                              Statement::Prepare(db_.get(),
                                                 "UPDATE api_tokens SET revoked_ms = ? "
                                                 "WHERE name = ? AND revoked_ms = 0"));
      update.Bind(1, clock_->WallMs());
      update.Bind(2, name);
      CUSTOS_RETURN_IF_ERROR(StepDone(db_.get(), update, "revoking an API token", path()));
      if (sqlite3_changes(db_.get()) == 0) {
        return absl::NotFoundError(absl::StrCat("no unrevoked API token named '", Sv(name), "'"));
      }
      return absl::OkStatus();
    }();
  }
  Record(by.name, by.role, AccessAction::kApiTokenRevoked, name,
         status.ok() ? AccessResult::kOk : AccessResult::kError, "");
  return status;
}

absl::StatusOr<std::vector<ApiTokenInfo>> Authenticator::ListApiTokens(const Principal& by) {
  CUSTOS_RETURN_IF_ERROR(Authorize(by, Permission::kManageUsers));
  absl::MutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      Statement select,
      Statement::Prepare(db_.get(),
                         "SELECT id, name, role, created_ms, created_by, expires_ms, revoked_ms "
                         "FROM api_tokens ORDER BY name"));
  std::vector<ApiTokenInfo> tokens;
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    ApiTokenInfo info;
    info.id = select.ColumnInt(0);
    info.name = select.ColumnText(1);
    CUSTOS_ASSIGN_OR_RETURN(info.role, ParseStoredRole(select.ColumnText(2), path()));
    info.created_ms = select.ColumnInt(3);
    info.created_by = select.ColumnText(4);
    info.expires_ms = select.ColumnInt(5);
    info.revoked_ms = select.ColumnInt(6);
    tokens.push_back(std::move(info));
  }
  if (rc != SQLITE_DONE) return store::SqliteStatus(db_.get(), rc, "listing API tokens", path());
  return tokens;
}

}  // namespace custos::auth
