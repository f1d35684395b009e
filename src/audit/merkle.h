// Merkle tree hashing, proofs and their verification as in RFC 6962 / RFC 9162 §2.1: SHA-256,
// leaves hashed as SHA-256(0x00 || data), interior nodes as SHA-256(0x01 || left || right).
// The log's tree hashes are stored in the append-only order of Go's sumdb "tlog" (after leaf
// i come the hashes of the subtrees it completes), so proofs read O(log n) stored hashes.
// Format: docs/audit.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace custos::audit {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(std::string_view data);
// SHA-256(0x00 || data).
Hash LeafHash(std::string_view data);
// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of "".
Hash EmptyRoot();

std::string HashToHex(const Hash& hash);

// Where in the stored hash sequence the hash of the complete subtree of 2^level leaves
// starting at leaf index << level lives; and how many hashes a tree of n leaves stores
// (2n - popcount(n)).
uint64_t StoredHashIndex(int level, uint64_t index);
uint64_t StoredHashCount(uint64_t n);

// The hashes of complete subtrees, by (level, index): the subtree of leaves
// [index << level, (index + 1) << level).
class SubtreeSource {
 public:
  virtual ~SubtreeSource() = default;
  // Errors: kOutOfRange if the subtree is not complete yet; the source's I/O errors.
  virtual absl::StatusOr<Hash> Subtree(int level, uint64_t index) const = 0;
};

// Builds roots and proofs from a SubtreeSource, remembering the hashes of incomplete ranges
// it computed so one proof reads O(log n) stored hashes. Not thread-safe; use one per call.
class ProofBuilder {
 public:
  explicit ProofBuilder(const SubtreeSource& source) : source_(source) {}

  // MTH(D[0:size]). Errors: those of the source.
  absl::StatusOr<Hash> Root(uint64_t size);
  // RFC 6962 PATH(index, D[0:size]). Errors: kInvalidArgument if index >= size.
  absl::StatusOr<std::vector<Hash>> Inclusion(uint64_t index, uint64_t size);
  // RFC 6962 PROOF(size1, D[0:size2]); empty when size1 is 0 or equals size2.
  // Errors: kInvalidArgument if size1 > size2.
  absl::StatusOr<std::vector<Hash>> Consistency(uint64_t size1, uint64_t size2);

  // How many hashes were read from the source so far (for tests and benchmarks).
  int64_t reads() const { return reads_; }

 private:
  absl::StatusOr<Hash> RangeHash(uint64_t begin, uint64_t end);
  absl::Status Path(uint64_t index, uint64_t begin, uint64_t end, std::vector<Hash>* out);
  absl::Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool complete,
                        std::vector<Hash>* out);

  const SubtreeSource& source_;
  std::map<std::pair<uint64_t, uint64_t>, Hash> memo_;
  int64_t reads_ = 0;
};

// RFC 9162 §2.1.3.2. Errors: kDataLoss ("proof does not verify: ...") on any mismatch,
// kInvalidArgument for index >= size.
absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                            std::span<const Hash> proof);
absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                             std::span<const Hash> proof, const Hash& root);
// RFC 9162 §2.1.4.2. A tree of size 0 is consistent with every tree; equal sizes need equal
// roots and an empty proof. Errors: kDataLoss on any mismatch.
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                               const Hash& root1, const Hash& root2);

// The right edge of a tree: the roots of its maximal complete subtrees, largest first. Appending
// a leaf yields the hashes to store, in stored order. Thread-compatible.
class CompactTree {
 public:
  CompactTree() = default;
  // REQUIRES: peaks are those of a tree of `size` leaves (one per set bit, largest first).
  CompactTree(uint64_t size, std::vector<Hash> peaks) : size_(size), peaks_(std::move(peaks)) {}

  // Appends a leaf hash; `stored` (if not null) receives the leaf hash and the hashes of the
  // subtrees it completes, lowest first — exactly what the stored sequence gains.
  void Append(const Hash& leaf_hash, std::vector<Hash>* stored);
  Hash Root() const;
  uint64_t size() const { return size_; }
  const std::vector<Hash>& peaks() const { return peaks_; }

 private:
  uint64_t size_ = 0;
  std::vector<Hash> peaks_;
};

// Reads the peaks of a tree of `size` leaves from a source (O(log n) reads).
absl::StatusOr<CompactTree> LoadCompactTree(const SubtreeSource& source, uint64_t size);

// A whole tree in memory, for tests and small logs. Thread-compatible.
class MemoryTree final : public SubtreeSource {
 public:
  void AppendLeafHash(const Hash& leaf_hash);
  void AppendData(std::string_view data) { AppendLeafHash(LeafHash(data)); }
  uint64_t size() const { return tree_.size(); }
  // The stored sequence, in order.
  const std::vector<Hash>& stored() const { return stored_; }
  absl::StatusOr<Hash> Subtree(int level, uint64_t index) const override;

 private:
  CompactTree tree_;
  std::vector<Hash> stored_;
};

}  // namespace custos::audit
