// Signed notes with Ed25519 keys (C2SP signed-note) carrying tlog checkpoints (C2SP
// tlog-checkpoint): the signed tree heads of the audit log. Format: docs/audit.md.
//
//   <origin>\n<tree size>\n<base64 root hash>\n      (the checkpoint: the note's text)
//   \n
//   — <key name> <base64(key id || Ed25519 signature of the text)>\n
//
// Key id: the first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || public key).
// Verifier key: "<name>+<8 hex key id>+<base64(0x01 || public key)>"; signer key:
// "PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>". Pure functions,
// thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/merkle.h"

namespace custos::audit {

struct VerifierKey {
  std::string name;
  uint32_t key_id = 0;
  std::array<uint8_t, 32> public_key{};
};

struct SignerKey {
  VerifierKey verifier;
  std::array<uint8_t, 32> seed{};
};

// Strict standard base64 with padding: decoding rejects anything Encode would not produce.
std::string Base64Encode(std::string_view bytes);
absl::StatusOr<std::string> Base64Decode(std::string_view text);

// Whether `name` may be a key name / origin: non-empty, printable ASCII or UTF-8, no space,
// no '+'.
bool ValidKeyName(std::string_view name);
uint32_t KeyId(std::string_view name, const std::array<uint8_t, 32>& public_key);

// A fresh key from the OS's random source. Errors: kInvalidArgument for a bad name.
absl::StatusOr<SignerKey> GenerateSignerKey(std::string_view name);
std::string FormatVerifierKey(const VerifierKey& key);
std::string FormatSignerKey(const SignerKey& key);
// Errors: kDataLoss ("not a verifier key: ...") for anything malformed, including a key id
// that does not match the name and key.
absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text);
absl::StatusOr<SignerKey> ParseSignerKey(std::string_view text);

// Signs `text` (REQUIRES: non-empty, ends with '\n', no blank line at its end) and returns
// the whole note.
std::string SignNote(std::string_view text, const SignerKey& key);
// Returns the note's text when it carries a valid signature by `key`. Signatures by other
// keys (witnesses) are allowed and not checked. Errors: kDataLoss naming what is wrong
// (malformed note, no signature by the key, a signature by the key that does not verify).
absl::StatusOr<std::string> OpenNote(std::string_view note, const VerifierKey& key);

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
};
// "<origin>\n<size>\n<base64 root>\n".
std::string FormatCheckpoint(const Checkpoint& checkpoint);
// Errors: kDataLoss for a malformed checkpoint (extension lines are refused too: this log
// writes none).
absl::StatusOr<Checkpoint> ParseCheckpoint(std::string_view text);

// A checkpoint and its signed note.
struct SignedCheckpoint {
  Checkpoint checkpoint;
  std::string note;
};
// OpenNote + ParseCheckpoint, and the origin must be the key's name.
absl::StatusOr<SignedCheckpoint> OpenCheckpoint(std::string_view note, const VerifierKey& key);

}  // namespace custos::audit
