#include "track/linear_assignment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <opencv2/core.hpp>
#include <utility>
#include <vector>

namespace custos::track {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Pair = std::pair<int, int>;

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(SolveAssignment, FindsTheMinimumCostPairing) {
  // Greedy would take (0,0) = 1 and then pay 7 + 9; the optimum is 2 + 2 + 3.
  const std::vector<double> cost = {1, 2, 9,  //
                                    2, 7, 9,  //
                                    9, 9, 3};
  EXPECT_THAT(SolveAssignment(cost, 3, 3, 10), ElementsAre(Pair(0, 1), Pair(1, 0), Pair(2, 2)));
}

TEST(SolveAssignment, HandlesMoreColumnsThanRowsAndMoreRowsThanColumns) {
  const std::vector<double> wide = {0.9, 0.1, 0.8, 0.7,  //
                                    0.2, 0.6, 0.9, 0.1};
  EXPECT_THAT(SolveAssignment(wide, 2, 4, 1), ElementsAre(Pair(0, 1), Pair(1, 3)));
  const std::vector<double> tall = {0.9, 0.1,  //
                                    0.8, 0.7,  //
                                    0.2, 0.6};
  EXPECT_THAT(SolveAssignment(tall, 3, 2, 1), ElementsAre(Pair(0, 1), Pair(2, 0)));
}

TEST(SolveAssignment, NeverMakesPairsAboveTheLimitOrForbiddenPairs) {
  const std::vector<double> cost = {0.9, kInf,  //
                                    kInf, 0.3};
  EXPECT_THAT(SolveAssignment(cost, 2, 2, 0.8), ElementsAre(Pair(1, 1)));
  EXPECT_THAT(SolveAssignment(std::vector<double>{kInf}, 1, 1, 0.8), IsEmpty());
}

TEST(SolveAssignment, PrefersOneGoodPairToTwoPoorOnes) {
  // Track 0 fits detection 0 well and detection 1 poorly; track 1 fits detection 0 poorly.
  // Matching everything would cost 0.7 + 0.75; one good pair and two unmatched cost 0.9.
  const std::vector<double> cost = {0.1, 0.7,  //
                                    0.75, kInf};
  EXPECT_THAT(SolveAssignment(cost, 2, 2, 0.8), ElementsAre(Pair(0, 0)));
}

TEST(SolveAssignment, EmptyProblemsHaveNoPairs) {
  EXPECT_THAT(SolveAssignment({}, 0, 3, 1), IsEmpty());
  EXPECT_THAT(SolveAssignment({}, 3, 0, 1), IsEmpty());
}

// Brute force over every partial matching: the cost of a matching is the sum of its pairs
// plus limit/2 for every unmatched row and column.
double BestCost(const std::vector<double>& cost, int rows, int cols, double limit) {
  double best = kInf;
  std::vector<int> assignment(rows, -1);
  std::vector<char> taken(cols, 0);
  const auto recurse = [&](auto&& self, int row, double sum, int matched) -> void {
    if (row == rows) {
      best = std::min(best, sum + (rows + cols - 2 * matched) * limit / 2);
      return;
    }
    self(self, row + 1, sum, matched);
    for (int c = 0; c < cols; ++c) {
      const double v = cost[row * cols + c];
      if (taken[c] || v > limit) continue;
      taken[c] = 1;
      self(self, row + 1, sum + v, matched + 1);
      taken[c] = 0;
    }
  };
  recurse(recurse, 0, 0.0, 0);
  return best;
}

TEST(SolveAssignment, MatchesBruteForceOnRandomProblems) {
  cv::RNG rng(42);
  for (int trial = 0; trial < 300; ++trial) {
    const int rows = rng.uniform(1, 6);
    const int cols = rng.uniform(1, 6);
    const double limit = rng.uniform(0.3, 1.0);
    std::vector<double> cost(static_cast<size_t>(rows * cols));
    for (double& c : cost) c = rng.uniform(0, 8) == 0 ? kInf : rng.uniform(0.0, 1.0);
    const std::vector<Pair> pairs = SolveAssignment(cost, rows, cols, limit);
    double sum = 0;
    std::vector<char> row_used(rows, 0), col_used(cols, 0);
    for (const auto& [r, c] : pairs) {
      ASSERT_FALSE(row_used[r]);
      ASSERT_FALSE(col_used[c]);
      row_used[r] = col_used[c] = 1;
      ASSERT_LE(cost[r * cols + c], limit);
      sum += cost[r * cols + c];
    }
    sum += (rows + cols - 2 * static_cast<int>(pairs.size())) * limit / 2;
    EXPECT_NEAR(sum, BestCost(cost, rows, cols, limit), 1e-9) << "trial " << trial;
  }
}

}  // namespace
}  // namespace custos::track
