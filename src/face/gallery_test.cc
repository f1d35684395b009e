#include "face/gallery.h"

#include <random>

#include "gtest/gtest.h"

namespace custos::face {
namespace {

Embedding RandomUnit(std::mt19937& rng, int dim) {
  std::normal_distribution<float> n;
  Embedding e(static_cast<size_t>(dim));
  for (float& x : e) x = n(rng);
  return e;
}

TEST(Gallery, ReturnsTheEnrolledEntryForANoisyProbeOfIt) {
  std::mt19937 rng(7);
  Gallery g(128);
  std::vector<Embedding> enrolled;
  for (uint64_t id = 0; id < 1000; ++id) {
    enrolled.push_back(RandomUnit(rng, 128));
    ASSERT_TRUE(g.Add(1000 + id, enrolled.back()).ok());
  }
  std::normal_distribution<float> noise(0, 0.05f);
  for (size_t i : {0u, 1u, 500u, 999u}) {
    Embedding probe = enrolled[i];
    for (float& x : probe) x += noise(rng);
    const auto hits = g.Search(probe, 3);
    ASSERT_EQ(hits.size(), 3u);
    EXPECT_EQ(hits[0].id, 1000 + i);
    EXPECT_GT(hits[0].score, 0.9f);
    EXPECT_GE(hits[0].score, hits[1].score);
    EXPECT_GE(hits[1].score, hits[2].score);
    EXPECT_EQ(g.SearchInt8(probe, 1)[0].id, 1000 + i);
  }
}

TEST(Gallery, Int8SearchKeepsTheFloatRankingOnRandomData) {
  std::mt19937 rng(11);
  for (int dim : {128, 100, 512}) {
    Gallery g(dim);
    for (uint64_t id = 0; id < 20000; ++id) ASSERT_TRUE(g.Add(id, RandomUnit(rng, dim)).ok());
    for (int p = 0; p < 50; ++p) {
      const Embedding probe = RandomUnit(rng, dim);
      const auto exact = g.Search(probe, 10);
      const auto approx = g.SearchInt8(probe, 10);
      ASSERT_EQ(exact.size(), approx.size());
      for (size_t i = 0; i < exact.size(); ++i) {
        EXPECT_EQ(exact[i].id, approx[i].id) << "dim " << dim << " probe " << p << " rank " << i;
        EXPECT_FLOAT_EQ(exact[i].score, approx[i].score);
      }
    }
  }
}

TEST(Gallery, ScoresAreCosineSimilarityOfNormalisedVectors) {
  Gallery g(3);
  ASSERT_TRUE(g.Add(1, {2, 0, 0}).ok());
  ASSERT_TRUE(g.Add(2, {0, 5, 0}).ok());
  ASSERT_TRUE(g.Add(3, {1, 1, 0}).ok());
  const auto hits = g.Search({3, 0, 0}, 5);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, 1u);
  EXPECT_NEAR(hits[0].score, 1.0f, 1e-6);
  EXPECT_EQ(hits[1].id, 3u);
  EXPECT_NEAR(hits[1].score, std::sqrt(0.5f), 1e-6);
  EXPECT_EQ(hits[2].id, 2u);
  EXPECT_NEAR(hits[2].score, 0.0f, 1e-6);
}

TEST(Gallery, RefusesZeroAndWrongSizedVectors) {
  Gallery g(4);
  EXPECT_FALSE(g.Add(1, {0, 0, 0, 0}).ok());
  EXPECT_FALSE(g.Add(1, {1, 2, 3}).ok());
  EXPECT_EQ(g.size(), 0u);
  EXPECT_TRUE(g.Search({1, 0, 0, 0}, 3).empty());
  ASSERT_TRUE(g.Add(1, {1, 0, 0, 0}).ok());
  EXPECT_TRUE(g.Search({1, 0, 0}, 3).empty());
  EXPECT_TRUE(g.Search({1, 0, 0, 0}, 0).empty());
}

}  // namespace
}  // namespace custos::face
