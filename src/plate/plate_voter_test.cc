#include "plate/plate_voter.h"

#include <gtest/gtest.h>

namespace custos::plate {
namespace {

PlateRead Read(const std::string& text, float confidence,
               std::vector<PlateCandidate> alternatives = {}) {
  PlateRead r;
  r.text = text;
  r.confidence = confidence;
  r.candidates = {{text, confidence}};
  for (const PlateCandidate& c : alternatives) r.candidates.push_back(c);
  return r;
}

TEST(PlateVoter, NoResultBeforeAnyRead) {
  PlateVoter voter;
  EXPECT_FALSE(voter.Result().has_value());
}

TEST(PlateVoter, MajorityOfConfidentReadsWins) {
  PlateVoter voter;
  voter.Add(Read("ABC1234", 0.9f), 0);
  voter.Add(Read("A8C1234", 0.7f), 100);  // One blurred frame.
  voter.Add(Read("ABC1234", 0.85f), 200);
  const auto vote = voter.Result();
  ASSERT_TRUE(vote.has_value());
  EXPECT_EQ(vote->text, "ABC1234");
  EXPECT_EQ(vote->reads, 3);
  EXPECT_EQ(vote->agreeing, 2);
  EXPECT_NEAR(vote->confidence, 1.75f / 2.45f, 1e-4);
  EXPECT_FLOAT_EQ(vote->best_read_confidence, 0.9f);
  EXPECT_EQ(vote->best_read_timestamp_ms, 0);
}

TEST(PlateVoter, WeightsByConfidenceNotCount) {
  PlateVoter voter;
  voter.Add(Read("XYZ987", 0.35f), 0);
  voter.Add(Read("XYZ981", 0.36f), 1);
  voter.Add(Read("XYZ987", 0.36f), 2);
  voter.Add(Read("XYZ981", 0.95f), 3);  // One sharp frame outweighs two poor ones.
  EXPECT_EQ(voter.Result()->text, "XYZ981");
}

TEST(PlateVoter, AlternativesBreakTies) {
  PlateVoter voter;
  voter.Add(Read("KC4Z3X", 0.8f, {{"KC4Z3Y", 0.5f}}), 0);
  voter.Add(Read("KC4Z3Y", 0.8f, {{"KC4Z3X", 0.6f}}), 1);
  EXPECT_EQ(voter.Result()->text, "KC4Z3X");
}

TEST(PlateVoter, IgnoresReadsBelowTheFloor) {
  PlateVoterOptions options;
  options.min_confidence = 0.5f;
  options.min_reads = 2;
  PlateVoter voter(options);
  EXPECT_FALSE(voter.Add(Read("AAA111", 0.2f), 0));
  EXPECT_TRUE(voter.Add(Read("BBB222", 0.7f), 1));
  EXPECT_FALSE(voter.Result().has_value());  // One voting read, two needed.
  EXPECT_TRUE(voter.Add(Read("BBB222", 0.6f), 2));
  EXPECT_EQ(voter.Result()->text, "BBB222");
  EXPECT_FLOAT_EQ(voter.Result()->confidence, 1.0f);
}

TEST(PlateVoter, ReadWithoutCandidatesStillVotes) {
  PlateVoter voter;
  PlateRead r;
  r.text = "QWE123";
  r.confidence = 0.9f;
  EXPECT_TRUE(voter.Add(r, 5));
  EXPECT_EQ(voter.Result()->text, "QWE123");
}

}  // namespace
}  // namespace custos::plate
