#include "audit/note.h"

#include <sodium.h>

#include <charconv>

#include "absl/strings/str_cat.h"

namespace custos::audit {
namespace {

constexpr uint8_t kAlgEd25519 = 0x01;
constexpr char kEmDash[] = "\xE2\x80\x94";  // U+2014, which starts a signature line.

absl::Status Bad(std::string_view what, std::string_view detail) {
  return absl::DataLossError(std::string(what).append(": ").append(detail));
}

void EnsureSodium() {
  // sodium_init() is idempotent and thread-safe; it fails only when the OS has no entropy
  // source, which is an impossible state for a server that got this far.
  if (sodium_init() < 0) std::abort();
}

std::string Hex8(uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[v & 15];
    v >>= 4;
  }
  return out;
}

bool ParseHex8(std::string_view s, uint32_t* out) {
  if (s.size() != 8) return false;
  uint32_t v = 0;
  for (char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint32_t>(c - 'a' + 10);
    } else {
      return false;  // Lower case only, so each key has one spelling.
    }
  }
  *out = v;
  return true;
}

std::string KeyIdBytes(uint32_t id) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[static_cast<size_t>(i)] = static_cast<char>(id >> (24 - 8 * i));
  return out;
}

std::string AlgAndKey(const std::array<uint8_t, 32>& key) {
  std::string out(1, static_cast<char>(kAlgEd25519));
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  return out;
}

// Splits "a+b+c" into exactly `n` fields at the first n-1 '+' signs: names and key ids
// contain none, but the final base64 field may.
bool SplitPlus(std::string_view text, size_t n, std::vector<std::string_view>* out) {
  out->clear();
  while (out->size() + 1 < n) {
    const size_t plus = text.find('+');
    if (plus == std::string_view::npos) return false;
    out->push_back(text.substr(0, plus));
    text.remove_prefix(plus + 1);
  }
  out->push_back(text);
  return true;
}

// Decodes base64(0x01 || 32 bytes).
bool DecodeAlgKey(std::string_view b64, std::array<uint8_t, 32>* key) {
  absl::StatusOr<std::string> raw = Base64Decode(b64);
  if (!raw.ok() || raw->size() != 33 || static_cast<uint8_t>((*raw)[0]) != kAlgEd25519) {
    return false;
  }
  std::copy(raw->begin() + 1, raw->end(), key->begin());
  return true;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  const size_t len = sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(len - 1);  // The terminating NUL.
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return absl::DataLossError("not base64");
  }
  out.resize(len);
  // Canonical form only: unused bits must be zero, padding exact.
  if (Base64Encode(out) != text) return absl::DataLossError("not canonical base64");
  return out;
}

bool ValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7F || c == '+') return false;
  }
  return true;
}

uint32_t KeyId(std::string_view name, const std::array<uint8_t, 32>& public_key) {
  std::string buf(name);
  buf.push_back('\n');
  buf += AlgAndKey(public_key);
  const Hash h = Sha256(buf);
  return (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | uint32_t{h[3]};
}

absl::StatusOr<SignerKey> GenerateSignerKey(std::string_view name) {
  if (!ValidKeyName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key name '", std::string(name), "' must be printable ASCII without spaces or '+'"));
  }
  EnsureSodium();
  SignerKey key;
  randombytes_buf(key.seed.data(), key.seed.size());
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(key.verifier.public_key.data(), sk, key.seed.data());
  sodium_memzero(sk, sizeof(sk));
  key.verifier.name = std::string(name);
  key.verifier.key_id = KeyId(name, key.verifier.public_key);
  return key;
}

std::string FormatVerifierKey(const VerifierKey& key) {
  return absl::StrCat(key.name, "+", Hex8(key.key_id), "+",
                      Base64Encode(AlgAndKey(key.public_key)));
}

std::string FormatSignerKey(const SignerKey& key) {
  return absl::StrCat("PRIVATE+KEY+", key.verifier.name, "+", Hex8(key.verifier.key_id), "+",
                      Base64Encode(AlgAndKey(key.seed)));
}

absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text) {
  std::vector<std::string_view> f;
  if (!SplitPlus(text, 3, &f)) return Bad("not a verifier key", "want name+keyid+key");
  VerifierKey key;
  key.name = std::string(f[0]);
  if (!ValidKeyName(key.name)) return Bad("not a verifier key", "bad name");
  if (!ParseHex8(f[1], &key.key_id)) return Bad("not a verifier key", "bad key id");
  if (!DecodeAlgKey(f[2], &key.public_key)) {
    return Bad("not a verifier key", "want base64 of 0x01 and a 32-byte Ed25519 key");
  }
  if (KeyId(key.name, key.public_key) != key.key_id) {
    return Bad("not a verifier key", "key id does not match the name and key");
  }
  return key;
}

absl::StatusOr<SignerKey> ParseSignerKey(std::string_view text) {
  std::vector<std::string_view> f;
  if (!SplitPlus(text, 5, &f) || f[0] != "PRIVATE" || f[1] != "KEY") {
    return Bad("not a signer key", "want PRIVATE+KEY+name+keyid+key");
  }
  EnsureSodium();
  SignerKey key;
  key.verifier.name = std::string(f[2]);
  if (!ValidKeyName(key.verifier.name)) return Bad("not a signer key", "bad name");
  uint32_t id = 0;
  if (!ParseHex8(f[3], &id)) return Bad("not a signer key", "bad key id");
  if (!DecodeAlgKey(f[4], &key.seed)) return Bad("not a signer key", "bad key");
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(key.verifier.public_key.data(), sk, key.seed.data());
  sodium_memzero(sk, sizeof(sk));
  key.verifier.key_id = KeyId(key.verifier.name, key.verifier.public_key);
  if (key.verifier.key_id != id) return Bad("not a signer key", "key id does not match");
  return key;
}

std::string SignNote(std::string_view text, const SignerKey& key) {
  EnsureSodium();
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, key.seed.data());
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(text.data()),
                       text.size(), sk);
  sodium_memzero(sk, sizeof(sk));
  std::string blob = KeyIdBytes(key.verifier.key_id);
  blob.append(reinterpret_cast<const char*>(sig), sizeof(sig));
  return absl::StrCat(std::string(text), "\n", kEmDash, " ", key.verifier.name, " ",
                      Base64Encode(blob), "\n");
}

absl::StatusOr<std::string> OpenNote(std::string_view note, const VerifierKey& key) {
  constexpr std::string_view kWhat = "not a valid signed note";
  if (note.empty() || note.back() != '\n') return Bad(kWhat, "it does not end with a newline");
  for (char c : note) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u == 0x7F) return Bad(kWhat, "it has control characters");
  }
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return Bad(kWhat, "it has no signature block");
  const std::string_view text = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return Bad(kWhat, "it has no signatures");
  bool verified = false;
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    const std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    const std::string prefix = std::string(kEmDash) + " ";
    if (line.substr(0, prefix.size()) != prefix) {
      return Bad(kWhat, "a signature line does not start with '— '");
    }
    const std::string_view rest = line.substr(prefix.size());
    const size_t space = rest.find(' ');
    if (space == std::string_view::npos) return Bad(kWhat, "a signature line has no signature");
    const std::string_view name = rest.substr(0, space);
    const std::string_view b64 = rest.substr(space + 1);
    if (!ValidKeyName(name)) return Bad(kWhat, "a signature line has a bad key name");
    absl::StatusOr<std::string> blob = Base64Decode(b64);
    if (!blob.ok() || blob->size() < 5) return Bad(kWhat, "a signature is not valid base64");
    if (name != key.name || blob->substr(0, 4) != KeyIdBytes(key.key_id)) {
      continue;  // Another key's signature (a witness): not ours to check.
    }
    if (blob->size() != 4 + crypto_sign_BYTES ||
        crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(blob->data() + 4),
                                    reinterpret_cast<const unsigned char*>(text.data()),
                                    text.size(), key.public_key.data()) != 0) {
      return Bad(kWhat, absl::StrCat("the signature by ", key.name, " does not verify"));
    }
    verified = true;
  }
  if (!verified) return Bad(kWhat, absl::StrCat("it has no signature by ", key.name));
  return std::string(text);
}

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  return absl::StrCat(
      checkpoint.origin, "\n", checkpoint.size, "\n",
      Base64Encode(std::string_view(reinterpret_cast<const char*>(checkpoint.root.data()),
                                    checkpoint.root.size())),
      "\n");
}

absl::StatusOr<Checkpoint> ParseCheckpoint(std::string_view text) {
  constexpr std::string_view kWhat = "not a valid checkpoint";
  if (text.empty() || text.back() != '\n') return Bad(kWhat, "it does not end with a newline");
  std::vector<std::string_view> lines;
  for (std::string_view rest = text.substr(0, text.size() - 1);;) {
    const size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() != 3) return Bad(kWhat, "want exactly origin, size and root lines");
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (!ValidKeyName(c.origin)) return Bad(kWhat, "bad origin");
  const std::string_view size = lines[1];
  if (size.empty() || (size.size() > 1 && size[0] == '0')) return Bad(kWhat, "bad tree size");
  auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), c.size);
  if (ec != std::errc() || ptr != size.data() + size.size()) return Bad(kWhat, "bad tree size");
  absl::StatusOr<std::string> root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != c.root.size()) return Bad(kWhat, "bad root hash");
  std::copy(root->begin(), root->end(), c.root.begin());
  return c;
}

absl::StatusOr<SignedCheckpoint> OpenCheckpoint(std::string_view note, const VerifierKey& key) {
  absl::StatusOr<std::string> text = OpenNote(note, key);
  if (!text.ok()) return text.status();
  absl::StatusOr<Checkpoint> c = ParseCheckpoint(*text);
  if (!c.ok()) return c.status();
  if (c->origin != key.name) {
    return Bad("checkpoint refused",
               absl::StrCat("its origin '", c->origin, "' is not the key's name '", key.name, "'"));
  }
  return SignedCheckpoint{*std::move(c), std::string(note)};
}

}  // namespace custos::audit
