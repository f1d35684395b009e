// The model-free parts of the plate reader: joining split lines, averaging crops, fitting
// candidates to a format.
#include <gtest/gtest.h>

#include "plate/plate_reader.h"

namespace custos::plate {
namespace {

TextBox Box(float x, float y, float w, float h) {
  return {
      {cv::Point2f(x, y), cv::Point2f(x + w, y), cv::Point2f(x + w, y + h), cv::Point2f(x, y + h)},
      0.9f};
}

TEST(AddJoinedLines, JoinsLinesOnOneBaselineSeparatedByAnEmblem) {
  // "627" and "WWI" either side of a 20 px emblem, 28 px high.
  const std::vector<TextBox> out = AddJoinedLines({Box(100, 50, 40, 28), Box(160, 51, 42, 27)});
  ASSERT_EQ(out.size(), 3u);
  const cv::Rect2f joined = out[2].Bounds();
  EXPECT_NEAR(joined.x, 100, 1);
  EXPECT_NEAR(joined.x + joined.width, 202, 1);
}

TEST(AddJoinedLines, LeavesDistantOrMisalignedLinesAlone) {
  EXPECT_EQ(AddJoinedLines({Box(100, 50, 40, 28), Box(300, 50, 40, 28)}).size(), 2u);  // Far.
  EXPECT_EQ(AddJoinedLines({Box(100, 50, 40, 28), Box(150, 70, 40, 28)}).size(), 2u);  // Lower.
  EXPECT_EQ(AddJoinedLines({Box(100, 50, 40, 28), Box(150, 55, 40, 10)}).size(), 2u);  // Small.
}

TEST(AverageReads, AveragesConfidenceOverCrops) {
  const std::vector<CtcCandidate> out =
      AverageReads({{{"ABC123", 0.8f}, {"A8C123", 0.2f}}, {{"A8C123", 0.9f}}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].text, "A8C123");
  EXPECT_FLOAT_EQ(out[0].confidence, 0.55f);
  EXPECT_FLOAT_EQ(out[1].confidence, 0.4f);
}

TEST(FitCandidates, AppliesTheFormatAndMergesDuplicates) {
  const PlateFormat us = *BuiltinFormat("US");
  PlateRead read;
  ASSERT_TRUE(FitCandidates(us, {{"MLOC2S", 0.9f}, {"ML0C2S", 0.5f}, {"TOYOTA", 0.95f}}, 5, read));
  EXPECT_EQ(read.text, "ML0C2S");  // O is 0 on US plates; the word ranks below.
  EXPECT_FLOAT_EQ(read.confidence, 0.9f);
  ASSERT_EQ(read.candidates.size(), 2u);
  EXPECT_EQ(read.candidates[1].text, "T0Y0TA");  // The US alias applies to every read.
  EXPECT_EQ(read.raw, "MLOC2S");
  PlateRead none;
  EXPECT_FALSE(FitCandidates(us, {{"CALIFORNIA", 0.99f}}, 5, none));
  EXPECT_TRUE(none.text.empty());
}

}  // namespace
}  // namespace custos::plate
