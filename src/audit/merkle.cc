#include "audit/merkle.h"

#include <sodium.h>

#include <bit>

#include "absl/strings/str_cat.h"

namespace custos::audit {
namespace {

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// The largest power of two strictly smaller than n. REQUIRES: n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

absl::Status Mismatch(std::string_view what) {
  return absl::DataLossError(std::string("proof does not verify: ").append(what));
}

}  // namespace

Hash Sha256(std::string_view data) {
  Hash out;
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

Hash LeafHash(std::string_view data) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  const unsigned char prefix = 0x00;
  crypto_hash_sha256_update(&state, &prefix, 1);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  Hash out;
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  unsigned char buf[65];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 33);
  Hash out;
  crypto_hash_sha256(out.data(), buf, sizeof(buf));
  return out;
}

Hash EmptyRoot() { return Sha256(""); }

std::string HashToHex(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : hash) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

uint64_t StoredHashIndex(int level, uint64_t index) {
  // The subtree is completed by its last leaf m; leaf m is stored at 2m - popcount(m), and
  // the subtrees it completes follow it, lowest level first.
  const uint64_t m = ((index + 1) << level) - 1;
  return 2 * m - static_cast<uint64_t>(std::popcount(m)) + static_cast<uint64_t>(level);
}

uint64_t StoredHashCount(uint64_t n) { return 2 * n - static_cast<uint64_t>(std::popcount(n)); }

absl::StatusOr<Hash> ProofBuilder::RangeHash(uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (IsPowerOfTwo(n) && begin % n == 0) {
    ++reads_;
    return source_.Subtree(std::countr_zero(n), begin / n);
  }
  const auto key = std::make_pair(begin, end);
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  const uint64_t k = SplitPoint(n);
  absl::StatusOr<Hash> left = RangeHash(begin, begin + k);
  if (!left.ok()) return left.status();
  absl::StatusOr<Hash> right = RangeHash(begin + k, end);
  if (!right.ok()) return right.status();
  const Hash h = NodeHash(*left, *right);
  memo_.emplace(key, h);
  return h;
}

absl::StatusOr<Hash> ProofBuilder::Root(uint64_t size) { return RangeHash(0, size); }

absl::Status ProofBuilder::Path(uint64_t index, uint64_t begin, uint64_t end,
                                std::vector<Hash>* out) {
  const uint64_t n = end - begin;
  if (n <= 1) return absl::OkStatus();
  const uint64_t k = SplitPoint(n);
  if (index < k) {
    if (absl::Status s = Path(index, begin, begin + k, out); !s.ok()) return s;
    absl::StatusOr<Hash> h = RangeHash(begin + k, end);
    if (!h.ok()) return h.status();
    out->push_back(*h);
  } else {
    if (absl::Status s = Path(index - k, begin + k, end, out); !s.ok()) return s;
    absl::StatusOr<Hash> h = RangeHash(begin, begin + k);
    if (!h.ok()) return h.status();
    out->push_back(*h);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hash>> ProofBuilder::Inclusion(uint64_t index, uint64_t size) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry ", index, " is not in a tree of size ", size));
  }
  std::vector<Hash> out;
  if (absl::Status s = Path(index, 0, size, &out); !s.ok()) return s;
  return out;
}

absl::Status ProofBuilder::SubProof(uint64_t m, uint64_t begin, uint64_t end, bool complete,
                                    std::vector<Hash>* out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (complete) return absl::OkStatus();
    absl::StatusOr<Hash> h = RangeHash(begin, end);
    if (!h.ok()) return h.status();
    out->push_back(*h);
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    if (absl::Status s = SubProof(m, begin, begin + k, complete, out); !s.ok()) return s;
    absl::StatusOr<Hash> h = RangeHash(begin + k, end);
    if (!h.ok()) return h.status();
    out->push_back(*h);
  } else {
    if (absl::Status s = SubProof(m - k, begin + k, end, false, out); !s.ok()) return s;
    absl::StatusOr<Hash> h = RangeHash(begin, begin + k);
    if (!h.ok()) return h.status();
    out->push_back(*h);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hash>> ProofBuilder::Consistency(uint64_t size1, uint64_t size2) {
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", size1, " is larger than tree size ", size2));
  }
  std::vector<Hash> out;
  if (size1 == 0 || size1 == size2) return out;
  if (absl::Status s = SubProof(size1, 0, size2, true, &out); !s.ok()) return s;
  return out;
}

absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                            std::span<const Hash> proof) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry ", index, " is not in a tree of size ", size));
  }
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return Mismatch("inclusion proof is too long");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Mismatch("inclusion proof is too short");
  return r;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                             std::span<const Hash> proof, const Hash& root) {
  absl::StatusOr<Hash> got = RootFromInclusionProof(index, size, leaf_hash, proof);
  if (!got.ok()) return got.status();
  if (*got != root) return Mismatch("the computed root differs from the checkpoint's root");
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                               const Hash& root1, const Hash& root2) {
  if (size2 < size1) return Mismatch("the second tree is smaller than the first");
  if (size1 == size2) {
    if (!proof.empty()) return Mismatch("proof between equal sizes must be empty");
    if (root1 != root2) return Mismatch("equal sizes with different roots");
    return absl::OkStatus();
  }
  if (size1 == 0) {
    if (!proof.empty()) return Mismatch("proof from the empty tree must be empty");
    return absl::OkStatus();
  }
  if (proof.empty()) return Mismatch("empty consistency proof");
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (IsPowerOfTwo(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return Mismatch("consistency proof is too long");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Mismatch("consistency proof is too short");
  if (fr != root1) return Mismatch("the first root differs");
  if (sr != root2) return Mismatch("the second root differs");
  return absl::OkStatus();
}

void CompactTree::Append(const Hash& leaf_hash, std::vector<Hash>* stored) {
  Hash h = leaf_hash;
  if (stored != nullptr) stored->push_back(h);
  for (uint64_t m = size_; (m & 1) != 0; m >>= 1) {
    h = NodeHash(peaks_.back(), h);
    peaks_.pop_back();
    if (stored != nullptr) stored->push_back(h);
  }
  peaks_.push_back(h);
  ++size_;
}

Hash CompactTree::Root() const {
  if (peaks_.empty()) return EmptyRoot();
  Hash r = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) r = NodeHash(peaks_[i], r);
  return r;
}

absl::StatusOr<CompactTree> LoadCompactTree(const SubtreeSource& source, uint64_t size) {
  std::vector<Hash> peaks;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    const uint64_t bit = uint64_t{1} << level;
    if ((size & bit) == 0) continue;
    absl::StatusOr<Hash> h = source.Subtree(level, begin >> level);
    if (!h.ok()) return h.status();
    peaks.push_back(*h);
    begin += bit;
  }
  return CompactTree(size, std::move(peaks));
}

void MemoryTree::AppendLeafHash(const Hash& leaf_hash) { tree_.Append(leaf_hash, &stored_); }

absl::StatusOr<Hash> MemoryTree::Subtree(int level, uint64_t index) const {
  if (level < 0 || level > 62 || ((index + 1) << level) > tree_.size()) {
    return absl::OutOfRangeError(absl::StrCat("subtree ", level, "/", index, " is not complete"));
  }
  return stored_[StoredHashIndex(level, index)];
}

}  // namespace custos::audit
