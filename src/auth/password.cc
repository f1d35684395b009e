#include "auth/password.h"

#include <sodium.h>

#include <array>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "auth/strings.h"

namespace custos::auth {

static_assert(PasswordHashOptions::kMinOpsLimit == crypto_pwhash_OPSLIMIT_MIN);
static_assert(PasswordHashOptions::kMinMemLimit == crypto_pwhash_MEMLIMIT_MIN);
static_assert(PasswordHashOptions{}.opslimit == crypto_pwhash_OPSLIMIT_INTERACTIVE);
static_assert(PasswordHashOptions{}.memlimit == crypto_pwhash_MEMLIMIT_INTERACTIVE);

namespace {

// Number of code points in valid UTF-8, or -1 when `s` is not valid UTF-8.
int64_t Utf8Length(std::string_view s) {
  int64_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
      extra = 1;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
    } else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
      extra = 3;
    } else {
      return -1;
    }
    if (extra > 0 && i + extra >= s.size()) return -1;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return -1;
    }
    i += extra + 1;
    ++count;
  }
  return count;
}

}  // namespace

absl::Status InitSodium() {
  static const int rc = sodium_init();
  if (rc < 0) {
    return absl::InternalError(
        "libsodium failed to initialise (no usable random source?); cannot handle passwords");
  }
  return absl::OkStatus();
}

absl::Status ValidateHashOptions(const PasswordHashOptions& options) {
  if (options.opslimit < crypto_pwhash_OPSLIMIT_MIN ||
      options.opslimit > crypto_pwhash_OPSLIMIT_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("password hash opslimit must be between ", crypto_pwhash_OPSLIMIT_MIN, " and ",
                     crypto_pwhash_OPSLIMIT_MAX, ", got ", options.opslimit));
  }
  if (options.memlimit < crypto_pwhash_MEMLIMIT_MIN ||
      options.memlimit > crypto_pwhash_MEMLIMIT_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("password hash memlimit must be between ", crypto_pwhash_MEMLIMIT_MIN, " and ",
                     crypto_pwhash_MEMLIMIT_MAX, " bytes, got ", options.memlimit));
  }
  return absl::OkStatus();
}

absl::Status ValidateUsername(std::string_view username) {
  if (username.size() < kMinUsernameLength || username.size() > kMaxUsernameLength) {
    return absl::InvalidArgumentError(absl::StrCat("username must be ", kMinUsernameLength, " to ",
                                                   kMaxUsernameLength, " characters long, got ",
                                                   username.size()));
  }
  if (!absl::ascii_islower(username[0]) && !absl::ascii_isdigit(username[0])) {
    return absl::InvalidArgumentError(
        "username must start with a lowercase letter (a-z) or a digit");
  }
  for (char c : username) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          "username may contain only lowercase letters a-z, digits, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPasswordPolicy(std::string_view username, std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("password is too long: at most ", kMaxPasswordBytes, " bytes"));
  }
  const int64_t length = Utf8Length(password);
  if (length < 0) return absl::InvalidArgumentError("password is not valid UTF-8 text");
  if (length < static_cast<int64_t>(kMinPasswordLength)) {
    return absl::InvalidArgumentError(
        absl::StrCat("password is too short: use at least ", kMinPasswordLength,
                     " characters (a few unrelated words make a good one)"));
  }
  if (absl::EqualsIgnoreCase(Sv(password), Sv(username))) {
    return absl::InvalidArgumentError("password must not be the username");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HashPassword(std::string_view password,
                                         const PasswordHashOptions& options) {
  if (absl::Status s = InitSodium(); !s.ok()) return s;
  if (absl::Status s = ValidateHashOptions(options); !s.ok()) return s;
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), options.opslimit,
                            options.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot hash the password: out of memory for the Argon2id memory limit of ",
                     options.memlimit, " bytes"));
  }
  return std::string(out.data());
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (!InitSodium().ok()) return false;
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::array<char, crypto_pwhash_STRBYTES> str{};
  std::memcpy(str.data(), hash.data(), hash.size());
  return crypto_pwhash_str_verify(str.data(), password.data(), password.size()) == 0;
}

bool NeedsRehash(std::string_view hash, const PasswordHashOptions& options) {
  if (!InitSodium().ok()) return false;
  if (hash.size() >= crypto_pwhash_STRBYTES) return true;
  std::array<char, crypto_pwhash_STRBYTES> str{};
  std::memcpy(str.data(), hash.data(), hash.size());
  return crypto_pwhash_argon2id_str_needs_rehash(str.data(), options.opslimit, options.memlimit) !=
         0;
}

std::string RandomToken(size_t bytes) {
  InitSodium().IgnoreError();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw.data(), raw.size());
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string Sha256Hex(std::string_view data) {
  InitSodium().IgnoreError();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.pop_back();
  return hex;
}

bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace custos::auth
