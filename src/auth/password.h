// Password hashing (Argon2id through libsodium), the password and username policies, and the
// random tokens and digests the rest of the module uses. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace custos::auth {

// Argon2id cost. The defaults are libsodium's INTERACTIVE limits (2 passes, 64 MiB), about
// 0.1 s per hash on one core; hashes made with other limits are upgraded at the next login.
struct PasswordHashOptions {
  // Passes over memory; at least kMinOpsLimit.
  uint64_t opslimit = 2;
  // Memory in bytes; at least kMinMemLimit.
  size_t memlimit = size_t{64} << 20;

  static constexpr uint64_t kMinOpsLimit = 1;   // crypto_pwhash_OPSLIMIT_MIN
  static constexpr size_t kMinMemLimit = 8192;  // crypto_pwhash_MEMLIMIT_MIN
};

inline constexpr size_t kMinPasswordLength = 12;  // In Unicode code points.
inline constexpr size_t kMaxPasswordBytes = 1024;
inline constexpr size_t kMinUsernameLength = 3;
inline constexpr size_t kMaxUsernameLength = 64;

// Initialises libsodium once per process; every function below calls it.
// Errors: kInternal when libsodium cannot initialise (no usable random source).
absl::Status InitSodium();

// Errors: kInvalidArgument when the limits are below the minimum or above what libsodium
// accepts.
absl::Status ValidateHashOptions(const PasswordHashOptions& options);

// Usernames are 3 to 64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or
// digit. Errors: kInvalidArgument saying what to change.
absl::Status ValidateUsername(std::string_view username);

// At least 12 characters, at most 1024 bytes, valid UTF-8, not the username (ignoring ASCII
// case). Errors: kInvalidArgument saying what to change.
absl::Status CheckPasswordPolicy(std::string_view username, std::string_view password);

// "$argon2id$v=19$m=...,t=...,p=1$salt$hash" with a fresh random salt.
// Errors: kResourceExhausted when the memory limit cannot be allocated; kInvalidArgument for
// bad options.
absl::StatusOr<std::string> HashPassword(std::string_view password,
                                         const PasswordHashOptions& options);

// Whether `password` matches `hash` (constant time in the password). False for a malformed
// hash.
bool VerifyPassword(std::string_view hash, std::string_view password);

// Whether `hash` was made with other limits than `options` (or another algorithm).
bool NeedsRehash(std::string_view hash, const PasswordHashOptions& options);

// `bytes` random bytes from libsodium's CSPRNG, base64url without padding.
std::string RandomToken(size_t bytes);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Constant-time equality for secrets (sodium_memcmp); the length is not secret.
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace custos::auth
