#include "privacy/mask_timeline.h"

#include "gtest/gtest.h"

namespace custos::privacy {
namespace {

const cv::Size kFrame(768, 432);

MaskTimelineOptions Options(int before, int after) {
  MaskTimelineOptions o;
  o.hold_before_frames = before;
  o.hold_after_frames = after;
  o.padding = 0.5f;
  o.growth_per_frame = 0.1f;
  return o;
}

TEST(MaskTimeline, PadsTheDetectedBoxOnEverySide) {
  MaskTimeline t(Options(0, 0));
  t.Add(0, {cv::Rect2f(100, 100, 20, 40)});
  const std::vector<cv::Rect> r = t.Regions(0, kFrame);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], cv::Rect(90, 80, 40, 80));
}

TEST(MaskTimeline, KeepsARegionForHoldAfterFramesAndThenDropsIt) {
  MaskTimeline t(Options(0, 3));
  t.Add(10, {cv::Rect2f(100, 100, 20, 20)});
  for (int64_t f = 10; f <= 13; ++f) {
    t.Add(f + 1, {});  // The face is lost from frame 11 on.
    EXPECT_EQ(t.Regions(f, kFrame).size(), 1u) << "frame " << f;
  }
  EXPECT_TRUE(t.Regions(14, kFrame).empty());
}

TEST(MaskTimeline, CoversFramesBeforeTheFirstDetectionWithLookAhead) {
  MaskTimeline t(Options(2, 0));
  t.Add(0, {});
  t.Add(1, {});
  t.Add(2, {});
  t.Add(3, {cv::Rect2f(100, 100, 20, 20)});
  EXPECT_TRUE(t.Regions(0, kFrame).empty());
  EXPECT_EQ(t.Regions(1, kFrame).size(), 1u);
  EXPECT_EQ(t.Regions(2, kFrame).size(), 1u);
  EXPECT_EQ(t.Regions(3, kFrame).size(), 1u);
  EXPECT_TRUE(t.Regions(4, kFrame).empty());
}

TEST(MaskTimeline, GrowsTheRegionWithTheDistanceFromTheDetection) {
  MaskTimeline t(Options(0, 5));
  t.Add(0, {cv::Rect2f(200, 200, 20, 20)});
  const cv::Rect at0 = t.Regions(0, kFrame).at(0);
  const cv::Rect at2 = t.Regions(2, kFrame).at(0);
  const cv::Rect at4 = t.Regions(4, kFrame).at(0);
  EXPECT_EQ(at0.width, 40);  // 0.5 padding on each side.
  EXPECT_EQ(at2.width, 48);  // + 2 frames x 0.1 x 20 px on each side.
  EXPECT_EQ(at4.width, 56);
  EXPECT_EQ((at0 & at2), at0);
  EXPECT_EQ((at2 & at4), at2);
}

TEST(MaskTimeline, BridgesAFlickeringDetection) {
  // Seen, lost for 3 frames, seen again: every frame in between stays covered.
  MaskTimeline t(Options(0, 4));
  const cv::Rect2f face(300, 100, 24, 24);
  std::vector<bool> seen = {true, false, false, false, true, true, false, true};
  for (size_t f = 0; f < seen.size(); ++f) {
    t.Add(static_cast<int64_t>(f),
          seen[f] ? std::vector<cv::Rect2f>{face} : std::vector<cv::Rect2f>{});
    EXPECT_FALSE(t.Regions(static_cast<int64_t>(f), kFrame).empty()) << "frame " << f;
  }
}

TEST(MaskTimeline, KeepsRegionsAtTheEdgeWholeAndDropsThoseOutside) {
  MaskTimeline t(Options(0, 0));
  t.Add(0, {cv::Rect2f(-10, -10, 20, 20), cv::Rect2f(900, 900, 10, 10)});
  const std::vector<cv::Rect> r = t.Regions(0, kFrame);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], cv::Rect(-20, -20, 40, 40));
}

TEST(MaskTimeline, ResetForgetsHeldRegions) {
  MaskTimeline t(Options(0, 10));
  t.Add(0, {cv::Rect2f(100, 100, 20, 20)});
  t.Reset();
  t.Add(1, {});
  EXPECT_TRUE(t.Regions(1, kFrame).empty());
}

TEST(MaskTimeline, RejectsOutOfRangeOptions) {
  MaskTimelineOptions o;
  EXPECT_TRUE(ValidateMaskTimelineOptions(o).ok());
  o.hold_after_frames = -1;
  EXPECT_EQ(ValidateMaskTimelineOptions(o).code(), absl::StatusCode::kInvalidArgument);
  o = {};
  o.padding = -0.1f;
  EXPECT_EQ(ValidateMaskTimelineOptions(o).code(), absl::StatusCode::kInvalidArgument);
  o = {};
  o.growth_per_frame = 2;
  EXPECT_EQ(ValidateMaskTimelineOptions(o).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::privacy
