// Internal to the watchlist module: the secret key that seals enrolment embeddings and match
// crops at rest (libsodium XChaCha20-Poly1305, the record's id as associated data), opening
// the module's SQLite files (mode 0600, application id, WAL, secure_delete, migrations), and
// small input checks shared by the stores.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "face/face_types.h"
#include "policy/policy_auditor.h"
#include "policy/policy_types.h"
#include "store/sqlite_util.h"

namespace custos::watchlist {

// Debian's abseil has its own string_view type.
inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// A 32-byte key kept in a file of mode 0600 (its folder 0700). Thread-safe after creation
// (sealing and opening only read it). The key is wiped from memory on destruction.
class SecretKey {
 public:
  // Reads the key at `path`; when the file does not exist and `create` is true, makes a new
  // random key there (O_EXCL, mode 0600, fsynced; the folder is created with mode 0700).
  // Errors: kFailedPrecondition (missing and !create: the message says to restore it);
  // kPermissionDenied (unreadable, or readable by group or others: the message says to
  // chmod 600); kDataLoss (not 32 bytes); kInternal (libsodium cannot start).
  static absl::StatusOr<SecretKey> LoadOrCreate(const std::string& path, bool create);

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  // "v1" + 24-byte random nonce + ciphertext + 16-byte tag, base64 (SQLite TEXT).
  std::string Seal(std::string_view plaintext, std::string_view associated_data) const;
  // Errors: kDataLoss when `sealed` is not a sealed value, or does not open with this key and
  // this associated data (wrong key, tampered, moved to another record).
  absl::StatusOr<std::string> Open(std::string_view sealed, std::string_view associated_data) const;

  const std::string& path() const { return path_; }

 private:
  SecretKey() = default;
  std::array<unsigned char, 32> key_{};
  std::string path_;
};

// Embeddings as bytes (u32 count, u32 dimension, float32 little-endian values) and back.
// REQUIRES: every embedding has the same size.
std::string PackEmbeddings(const std::vector<face::Embedding>& embeddings);
// Errors: kDataLoss for bytes that are not packed embeddings.
absl::StatusOr<std::vector<face::Embedding>> UnpackEmbeddings(std::string_view bytes);

// Overwrites the memory of a string or embedding before it is freed.
void Wipe(std::string& bytes);
void Wipe(face::Embedding& embedding);

// The key of a module database that has a `meta (name, value)` table: when the table holds a
// key check, loads the key at `key_path` (never creating it) and verifies that it opens the
// check; otherwise loads or creates the key and writes the check.
// Errors: kFailedPrecondition (key file missing for a database with sealed records, or a key
// that does not open this database: the message says to restore the matching key file); as
// SecretKey::LoadOrCreate; store errors.
absl::StatusOr<SecretKey> KeyForDb(sqlite3* db, const std::string& db_path,
                                   const std::string& key_path);

// "2026-11-26 12:03 UTC".
std::string FormatTime(int64_t time_ms);

using policy::CheckText;
using policy::CommitAudited;
using store::OpenModuleDb;

}  // namespace custos::watchlist
