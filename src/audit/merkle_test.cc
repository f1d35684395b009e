#include "audit/merkle.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace custos::audit {
namespace {

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Hash H(std::string_view hex) {
  const std::string b = FromHex(hex);
  Hash h{};
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

// The standard test tree of RFC 6962 implementations (certificate-transparency-go,
// transparency-dev/merkle proof/verify_test.go).
const std::vector<std::string>& Leaves() {
  static const auto* leaves =
      new std::vector<std::string>{FromHex(""),
                                   FromHex("00"),
                                   FromHex("10"),
                                   FromHex("2021"),
                                   FromHex("3031"),
                                   FromHex("40414243"),
                                   FromHex("5051525354555657"),
                                   FromHex("606162636465666768696a6b6c6d6e6f")};
  return *leaves;
}

const std::vector<Hash>& Roots() {
  static const auto* roots =
      new std::vector<Hash>{H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                            H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
                            H("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
                            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                            H("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
                            H("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
                            H("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
                            H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")};
  return *roots;
}

MemoryTree StandardTree() {
  MemoryTree tree;
  for (const std::string& leaf : Leaves()) tree.AppendData(leaf);
  return tree;
}

TEST(Merkle, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(HashToHex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  MemoryTree tree;
  ProofBuilder builder(tree);
  EXPECT_EQ(*builder.Root(0), EmptyRoot());
  EXPECT_EQ(CompactTree().Root(), EmptyRoot());
}

TEST(Merkle, LeafHashesMatchKnownAnswers) {
  // A one-leaf tree's root is its leaf hash.
  EXPECT_EQ(LeafHash(Leaves()[0]), Roots()[0]);
  EXPECT_EQ(HashToHex(LeafHash(Leaves()[1])),
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
  EXPECT_EQ(HashToHex(LeafHash(Leaves()[4])),
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
}

TEST(Merkle, RootsOfTheStandardTreeMatchKnownAnswersForEverySize) {
  MemoryTree tree;
  for (size_t i = 0; i < Leaves().size(); ++i) {
    tree.AppendData(Leaves()[i]);
    ProofBuilder builder(tree);
    EXPECT_EQ(*builder.Root(i + 1), Roots()[i]) << "size " << i + 1;
    // The compact range computes the same root.
    CompactTree compact;
    for (size_t j = 0; j <= i; ++j) compact.Append(LeafHash(Leaves()[j]), nullptr);
    EXPECT_EQ(compact.Root(), Roots()[i]) << "size " << i + 1;
  }
  ASSERT_EQ(HashToHex(Roots()[7]),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

struct KnownProof {
  uint64_t a;  // Inclusion: leaf index; consistency: size1.
  uint64_t b;  // Tree size (size2).
  std::vector<Hash> proof;
};

TEST(Merkle, InclusionProofsMatchKnownAnswers) {
  const std::vector<KnownProof> known = {
      {0, 1, {}},
      {0,
       8,
       {H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}},
      {5,
       8,
       {H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
      {2, 3, {H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")}},
      {1,
       5,
       {H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}},
  };
  const MemoryTree tree = StandardTree();
  for (const KnownProof& k : known) {
    ProofBuilder builder(tree);
    EXPECT_EQ(*builder.Inclusion(k.a, k.b), k.proof) << k.a << "/" << k.b;
    EXPECT_TRUE(VerifyInclusion(k.a, k.b, LeafHash(Leaves()[k.a]), k.proof, Roots()[k.b - 1]).ok());
  }
}

TEST(Merkle, ConsistencyProofsMatchKnownAnswers) {
  const std::vector<KnownProof> known = {
      {1, 1, {}},
      {1,
       8,
       {H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}},
      {6,
       8,
       {H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
      {2,
       5,
       {H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}},
      {6,
       7,
       {H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
  };
  const MemoryTree tree = StandardTree();
  for (const KnownProof& k : known) {
    ProofBuilder builder(tree);
    EXPECT_EQ(*builder.Consistency(k.a, k.b), k.proof) << k.a << "/" << k.b;
    EXPECT_TRUE(VerifyConsistency(k.a, k.b, k.proof, Roots()[k.a - 1], Roots()[k.b - 1]).ok());
  }
}

TEST(Merkle, TrivialConsistencyCases) {
  const Hash r1 = Sha256("one");
  const Hash r2 = Sha256("two");
  EXPECT_TRUE(VerifyConsistency(0, 0, {}, r1, r1).ok());
  EXPECT_TRUE(VerifyConsistency(0, 5, {}, r1, r2).ok());
  EXPECT_TRUE(VerifyConsistency(3, 3, {}, r2, r2).ok());
  EXPECT_FALSE(VerifyConsistency(3, 3, {}, r1, r2).ok());
  EXPECT_FALSE(VerifyConsistency(1, 2, {}, r1, r2).ok());
  EXPECT_FALSE(VerifyConsistency(2, 1, {}, r1, r2).ok());
  const std::vector<Hash> one = {EmptyRoot()};
  EXPECT_FALSE(VerifyConsistency(0, 1, one, EmptyRoot(), EmptyRoot()).ok());
  EXPECT_FALSE(VerifyConsistency(1, 1, one, EmptyRoot(), EmptyRoot()).ok());
  EXPECT_FALSE(VerifyInclusion(0, 0, r1, {}, r1).ok());
  EXPECT_FALSE(VerifyInclusion(1, 1, r1, {}, r1).ok());
}

TEST(Merkle, StoredHashIndexIsTheAppendOrder) {
  MemoryTree tree;
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    tree.AppendData(std::to_string(rng()));
    ASSERT_EQ(tree.stored().size(), StoredHashCount(tree.size()));
  }
  // Every complete subtree recomputed from its leaves is where StoredHashIndex says.
  for (int level = 0; level < 9; ++level) {
    for (uint64_t k = 0; ((k + 1) << level) <= tree.size(); ++k) {
      ProofBuilder builder(tree);
      MemoryTree sub;
      for (uint64_t i = k << level; i < (k + 1) << level; ++i) {
        sub.AppendLeafHash(tree.stored()[StoredHashIndex(0, i)]);
      }
      ProofBuilder sub_builder(sub);
      EXPECT_EQ(tree.stored()[StoredHashIndex(level, k)], *sub_builder.Root(sub.size()));
    }
  }
}

// Every way of damaging a proof or its parameters must be rejected.
class ProofMutation : public ::testing::Test {
 protected:
  static constexpr uint64_t kMax = 70;
  void SetUp() override {
    for (uint64_t i = 0; i < 2 * kMax + 2; ++i) tree_.AppendData("leaf " + std::to_string(i));
    for (uint64_t s = 0; s <= tree_.size(); ++s) {
      ProofBuilder b(tree_);
      roots_.push_back(*b.Root(s));
    }
  }
  Hash Leaf(uint64_t i) const { return tree_.stored()[StoredHashIndex(0, i)]; }

  MemoryTree tree_;
  std::vector<Hash> roots_;
};

std::vector<std::vector<Hash>> MutatedProofs(const std::vector<Hash>& proof) {
  std::vector<std::vector<Hash>> out;
  for (size_t i = 0; i < proof.size(); ++i) {
    for (int bit = 0; bit < 256; bit += 37) {  // Seven bits spread over each element.
      auto p = proof;
      p[i][static_cast<size_t>(bit / 8)] ^= static_cast<uint8_t>(1 << (bit % 8));
      out.push_back(p);
    }
    auto removed = proof;
    removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(i));
    out.push_back(removed);
    auto duplicated = proof;
    duplicated.insert(duplicated.begin() + static_cast<std::ptrdiff_t>(i), proof[i]);
    out.push_back(duplicated);
  }
  for (size_t at = 0; at <= proof.size(); ++at) {
    auto added = proof;
    added.insert(added.begin() + static_cast<std::ptrdiff_t>(at), Sha256("extra"));
    out.push_back(added);
  }
  if (proof.size() > 1) {
    auto swapped = proof;
    std::swap(swapped[0], swapped[1]);
    out.push_back(swapped);
  }
  return out;
}

TEST_F(ProofMutation, EveryMutatedInclusionProofIsRejected) {
  int64_t rejected = 0;
  for (uint64_t size = 1; size <= kMax; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      ProofBuilder builder(tree_);
      const std::vector<Hash> proof = *builder.Inclusion(index, size);
      const Hash& root = roots_[size];
      ASSERT_TRUE(VerifyInclusion(index, size, Leaf(index), proof, root).ok());
      auto reject = [&](uint64_t i, uint64_t s, const Hash& leaf, const std::vector<Hash>& p,
                        const Hash& r, const char* what) {
        EXPECT_FALSE(VerifyInclusion(i, s, leaf, p, r).ok())
            << what << " index " << index << " size " << size;
        ++rejected;
      };
      if (index > 0) reject(index - 1, size, Leaf(index), proof, root, "index - 1");
      reject(index + 1, size, Leaf(index), proof, root, "index + 1");
      reject(index ^ 2, size, Leaf(index), proof, root, "index ^ 2");
      // Another size, with that size's real root (a proof for one checkpoint shown against
      // another), and with this root (the size field alone changed).
      reject(index, size + 1, Leaf(index), proof, roots_[size + 1], "size + 1, its root");
      if (size - 1 > index) {
        reject(index, size - 1, Leaf(index), proof, roots_[size - 1], "size - 1, its root");
      }
      reject(index, size * 2, Leaf(index), proof, root, "size * 2");
      reject(index, size / 2, Leaf(index), proof, root, "size / 2");
      reject(index, size, Sha256("wrong leaf"), proof, root, "wrong leaf");
      reject(index, size, Leaf(index), proof, EmptyRoot(), "empty root");
      for (int bit = 0; bit < 256; bit += 61) {
        Hash r = root;
        r[static_cast<size_t>(bit / 8)] ^= static_cast<uint8_t>(1 << (bit % 8));
        reject(index, size, Leaf(index), proof, r, "flipped root bit");
        Hash l = Leaf(index);
        l[static_cast<size_t>(bit / 8)] ^= static_cast<uint8_t>(1 << (bit % 8));
        reject(index, size, l, proof, root, "flipped leaf bit");
      }
      for (const auto& p : MutatedProofs(proof)) {
        reject(index, size, Leaf(index), p, root, "mutated proof");
      }
    }
  }
  EXPECT_GT(rejected, 50000);
}

TEST_F(ProofMutation, EveryMutatedConsistencyProofIsRejected) {
  int64_t rejected = 0;
  for (uint64_t size2 = 2; size2 <= kMax; ++size2) {
    for (uint64_t size1 = 1; size1 < size2; ++size1) {
      ProofBuilder builder(tree_);
      const std::vector<Hash> proof = *builder.Consistency(size1, size2);
      const Hash& r1 = roots_[size1];
      const Hash& r2 = roots_[size2];
      ASSERT_TRUE(VerifyConsistency(size1, size2, proof, r1, r2).ok()) << size1 << "/" << size2;
      auto reject = [&](uint64_t s1, uint64_t s2, const std::vector<Hash>& p, const Hash& a,
                        const Hash& b, const char* what) {
        EXPECT_FALSE(VerifyConsistency(s1, s2, p, a, b).ok())
            << what << " size1 " << size1 << " size2 " << size2;
        ++rejected;
      };
      reject(size1 - 1, size2, proof, roots_[size1 - 1], r2, "size1 - 1, its root");
      if (size1 + 1 < size2) reject(size1 + 1, size2, proof, roots_[size1 + 1], r2, "size1 + 1");
      reject(size1, size2 + 1, proof, r1, roots_[size2 + 1], "size2 + 1, its root");
      if (size2 - 1 > size1) reject(size1, size2 - 1, proof, r1, roots_[size2 - 1], "size2 - 1");
      reject(size1 - 1, size2, proof, r1, r2, "size1 - 1");
      reject(size1 + 1, size2, proof, r1, r2, "size1 + 1");
      reject(size1, size2 * 2, proof, r1, r2, "size2 * 2");
      reject(size1, size2 / 2, proof, r1, r2, "size2 / 2");
      reject(size1, size2, proof, r2, r1, "swapped roots");
      reject(size1, size2, {}, r1, r2, "empty proof");
      for (int bit = 0; bit < 256; bit += 61) {
        Hash a = r1;
        a[static_cast<size_t>(bit / 8)] ^= static_cast<uint8_t>(1 << (bit % 8));
        reject(size1, size2, proof, a, r2, "flipped root1 bit");
        Hash b = r2;
        b[static_cast<size_t>(bit / 8)] ^= static_cast<uint8_t>(1 << (bit % 8));
        reject(size1, size2, proof, r1, b, "flipped root2 bit");
      }
      for (const auto& p : MutatedProofs(proof)) {
        reject(size1, size2, p, r1, r2, "mutated proof");
      }
      auto preceded = proof;
      preceded.insert(preceded.begin(), r1);
      reject(size1, size2, preceded, r1, r2, "preceding root1");
    }
  }
  EXPECT_GT(rejected, 50000);
}

TEST(Merkle, ProofsReadLogarithmicallyManyHashes) {
  MemoryTree tree;
  for (int i = 0; i < 100'000; ++i) tree.AppendData(std::to_string(i));
  for (uint64_t index : {0ull, 12'345ull, 99'998ull}) {
    ProofBuilder builder(tree);
    ASSERT_TRUE(builder.Inclusion(index, 99'999).ok());
    EXPECT_LE(builder.reads(), 2 * 17 + 2) << index;
  }
  ProofBuilder builder(tree);
  ASSERT_TRUE(builder.Consistency(54'321, 99'999).ok());
  EXPECT_LE(builder.reads(), 3 * 17 + 2);
}

}  // namespace
}  // namespace custos::audit
