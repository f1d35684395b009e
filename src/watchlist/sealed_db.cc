#include "watchlist/sealed_db.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "custos/status.h"

namespace custos::watchlist {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSealPrefix = "v1";

absl::Status SodiumReady() {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  return absl::OkStatus();
}

std::string Errno(int error) { return std::strerror(error); }

}  // namespace

// ---- SecretKey ----

absl::StatusOr<SecretKey> SecretKey::LoadOrCreate(const std::string& path, bool create) {
  CUSTOS_RETURN_IF_ERROR(SodiumReady());
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "watchlist key path is empty; give one, such as DATA_DIR/keys/watchlist.key");
  }
  SecretKey key;
  key.path_ = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    if (error != ENOENT) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot read watchlist key file ", path, ": ", Errno(error)));
    }
    if (!create) {
      return absl::FailedPreconditionError(absl::StrCat(
          "watchlist key file ", path,
          " is missing but the database holds sealed records; restore the key file from your "
          "backup (without it the enrolment embeddings cannot be read: withdraw and re-enrol "
          "the entries instead)"));
    }
    std::error_code ec;
    const fs::path dir = fs::path(path).parent_path();
    if (!dir.empty() && !fs::exists(dir, ec)) {
      if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        const int e = errno;
        return absl::PermissionDeniedError(
            absl::StrCat("cannot create key folder ", dir.string(), ": ", Errno(e)));
      }
    }
    randombytes_buf(key.key_.data(), key.key_.size());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      const int e = errno;
      if (e == EEXIST) return LoadOrCreate(path, false);  // Another process made it first.
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create watchlist key file ", path, ": ", Errno(e)));
    }
    const ssize_t written = ::write(fd, key.key_.data(), key.key_.size());
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (written != static_cast<ssize_t>(key.key_.size()) || !synced) {
      ::unlink(path.c_str());
      return absl::UnavailableError(
          absl::StrCat("cannot write watchlist key file ", path, "; check the disk and retry"));
    }
    return key;
  }
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("watchlist key file ", path, " is readable by other users (mode ",
                     absl::StrCat(absl::Hex(st.st_mode & 0777)), " hex); run chmod 600 ", path));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const int e = errno;
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read watchlist key file ", path, ": ", Errno(e)));
  }
  unsigned char buffer[33];
  const ssize_t n = ::read(fd, buffer, sizeof(buffer));
  ::close(fd);
  if (n != 32) {
    sodium_memzero(buffer, sizeof(buffer));
    return absl::DataLossError(
        absl::StrCat("watchlist key file ", path, " holds ", n < 0 ? 0 : n,
                     " bytes, not a 32-byte key; restore it from your backup"));
  }
  std::memcpy(key.key_.data(), buffer, 32);
  sodium_memzero(buffer, sizeof(buffer));
  return key;
}

SecretKey::SecretKey(SecretKey&& other) noexcept : key_(other.key_), path_(std::move(other.path_)) {
  sodium_memzero(other.key_.data(), other.key_.size());
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    key_ = other.key_;
    path_ = std::move(other.path_);
    sodium_memzero(other.key_.data(), other.key_.size());
  }
  return *this;
}

SecretKey::~SecretKey() { sodium_memzero(key_.data(), key_.size()); }

std::string SecretKey::Seal(std::string_view plaintext, std::string_view associated_data) const {
  std::string out(kSealPrefix);
  const size_t header = out.size();
  out.resize(header + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
             crypto_aead_xchacha20poly1305_ietf_ABYTES);
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + header);
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &written,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(associated_data.data()), associated_data.size(),
      nullptr, nonce, key_.data());
  return absl::Base64Escape(out);
}

absl::StatusOr<std::string> SecretKey::Open(std::string_view sealed,
                                            std::string_view associated_data) const {
  std::string raw;
  const size_t overhead = kSealPrefix.size() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                          crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (!absl::Base64Unescape(Sv(sealed), &raw) || raw.size() < overhead ||
      std::string_view(raw).substr(0, kSealPrefix.size()) != kSealPrefix) {
    return absl::DataLossError("a sealed record is malformed; restore the database from a backup");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(raw.data() + kSealPrefix.size());
  const auto* cipher = nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  const size_t cipher_len =
      raw.size() - kSealPrefix.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string plain(cipher_len - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr, cipher, cipher_len,
          reinterpret_cast<const unsigned char*>(associated_data.data()), associated_data.size(),
          nonce, key_.data()) != 0) {
    return absl::DataLossError(absl::StrCat(
        "a sealed record does not open with the key in ", path_,
        ": the key file is not the one this database was written with, or the record was "
        "altered; restore the matching key file"));
  }
  plain.resize(plain_len);
  return plain;
}

// ---- Embeddings ----

std::string PackEmbeddings(const std::vector<face::Embedding>& embeddings) {
  const uint32_t count = static_cast<uint32_t>(embeddings.size());
  const uint32_t dim = embeddings.empty() ? 0 : static_cast<uint32_t>(embeddings[0].size());
  std::string out(8 + static_cast<size_t>(count) * dim * 4, '\0');
  std::memcpy(out.data(), &count, 4);
  std::memcpy(out.data() + 4, &dim, 4);
  size_t at = 8;
  for (const face::Embedding& e : embeddings) {
    std::memcpy(out.data() + at, e.data(), static_cast<size_t>(dim) * 4);
    at += static_cast<size_t>(dim) * 4;
  }
  return out;
}

absl::StatusOr<std::vector<face::Embedding>> UnpackEmbeddings(std::string_view bytes) {
  uint32_t count = 0, dim = 0;
  if (bytes.size() < 8) return absl::DataLossError("sealed embeddings are truncated");
  std::memcpy(&count, bytes.data(), 4);
  std::memcpy(&dim, bytes.data() + 4, 4);
  if (dim > 4096 || count > 1000 || bytes.size() != 8 + static_cast<size_t>(count) * dim * 4) {
    return absl::DataLossError("sealed embeddings have an impossible size");
  }
  std::vector<face::Embedding> out(count, face::Embedding(dim));
  for (uint32_t i = 0; i < count; ++i) {
    std::memcpy(out[i].data(), bytes.data() + 8 + static_cast<size_t>(i) * dim * 4,
                static_cast<size_t>(dim) * 4);
  }
  return out;
}

void Wipe(std::string& bytes) {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
  bytes.clear();
}

void Wipe(face::Embedding& embedding) {
  if (!embedding.empty()) sodium_memzero(embedding.data(), embedding.size() * sizeof(float));
  embedding.clear();
}

// ---- SQLite ----

absl::StatusOr<SecretKey> KeyForDb(sqlite3* db, const std::string& db_path,
                                   const std::string& key_path) {
  constexpr std::string_view kContext = "custos.key_check";
  constexpr std::string_view kText = "custos watchlist key check v1";
  std::string check;
  {
    CUSTOS_ASSIGN_OR_RETURN(
        store::Statement stmt,
        store::Statement::Prepare(db, "SELECT value FROM meta WHERE name = 'key_check'"));
    const int rc = stmt.Step();
    if (rc == SQLITE_ROW) {
      check = stmt.ColumnText(0);
    } else if (rc != SQLITE_DONE) {
      return store::SqliteStatus(db, rc, "reading the key check", db_path);
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(SecretKey key, SecretKey::LoadOrCreate(key_path, check.empty()));
  if (!check.empty()) {
    absl::StatusOr<std::string> opened = key.Open(check, kContext);
    if (!opened.ok() || *opened != kText) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the key ", key_path, " does not open the database ", db_path,
          ": the database was written with another key. Restore the key file that belongs to "
          "this database from your backup (the database was not changed)"));
    }
    return key;
  }
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement insert,
      store::Statement::Prepare(db, "INSERT INTO meta (name, value) VALUES ('key_check', ?1)"));
  insert.Bind(1, key.Seal(kText, kContext));
  const int rc = insert.Step();
  if (rc != SQLITE_DONE) return store::SqliteStatus(db, rc, "writing the key check", db_path);
  return key;
}

std::string FormatTime(int64_t time_ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixMillis(time_ms), absl::UTCTimeZone());
}

}  // namespace custos::watchlist
