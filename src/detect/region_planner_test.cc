#include "detect/region_planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace custos::detect {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

template <typename F>
RegionPlannerOptions With(F&& set) {
  RegionPlannerOptions options;
  set(options);
  return options;
}

std::unique_ptr<RegionPlanner> MakePlanner(const RegionPlannerOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<RegionPlanner>> planner = RegionPlanner::Create(options);
  EXPECT_TRUE(planner.ok()) << planner.status();
  return *std::move(planner);
}

bool Covers(const cv::Rect& region, const BoxF& box) {
  return static_cast<float>(region.x) <= box.x && static_cast<float>(region.y) <= box.y &&
         static_cast<float>(region.br().x) >= box.Right() &&
         static_cast<float>(region.br().y) >= box.Bottom();
}

bool AnyCovers(const std::vector<cv::Rect>& regions, const BoxF& box) {
  for (const cv::Rect& r : regions) {
    if (Covers(r, box)) return true;
  }
  return false;
}

BoxF Clip(const BoxF& b, cv::Size frame) {
  const float x0 = std::max(0.0f, b.x);
  const float y0 = std::max(0.0f, b.y);
  const float x1 = std::min(static_cast<float>(frame.width), b.Right());
  const float y1 = std::min(static_cast<float>(frame.height), b.Bottom());
  return {x0, y0, x1 - x0, y1 - y0};
}

Detection Det(int class_id, float score, BoxF box) {
  Detection d;
  d.class_id = class_id;
  d.label = class_id == 0 ? "person" : "car";
  d.score = score;
  d.box = box;
  return d;
}

const cv::Size kHd(1280, 720);

TEST(RegionPlanner, CreateRejectsOutOfRangeOptionsNamingTheOption) {
  struct Case {
    RegionPlannerOptions options;
    std::string name;
  };
  const std::vector<Case> cases = {
      {With([](auto& o) { o.model_size_px = 16; }), "model_size_px"},
      {With([](auto& o) { o.max_regions = 0; }), "max_regions"},
      {With([](auto& o) { o.track_margin = -0.1f; }), "track_margin"},
      {With([](auto& o) { o.full_frame_fraction = 0; }), "full_frame_fraction"},
      {With([](auto& o) { o.merge_iou = 0; }), "merge_iou"},
      {With([](auto& o) { o.cut_border_px = -1; }), "cut_border_px"},
      {With([](auto& o) { o.cut_containment = 1.5f; }), "cut_containment"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::unique_ptr<RegionPlanner>> planner = RegionPlanner::Create(c.options);
    ASSERT_FALSE(planner.ok()) << c.name;
    EXPECT_EQ(planner.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(planner.status().message(), HasSubstr(c.name));
  }
}

TEST(RegionPlanner, NoBoxesMeansNoRegions) {
  auto planner = MakePlanner();
  EXPECT_THAT(planner->Plan(kHd, {}, {}), IsEmpty());
  const std::vector<TrackedBox> stationary = {{BoxF{100, 100, 50, 100}, /*include=*/false}};
  EXPECT_THAT(planner->Plan(kHd, {}, stationary), IsEmpty());
}

TEST(RegionPlanner, SmallBoxGetsOneModelSizedSquareCentredOnIt) {
  auto planner = MakePlanner();
  const std::vector<BoxF> motion = {{600, 300, 50, 100}};
  const std::vector<cv::Rect> regions = planner->Plan(kHd, motion, {});
  ASSERT_THAT(regions, SizeIs(1));
  EXPECT_EQ(regions[0].size(), cv::Size(416, 416));
  EXPECT_NEAR(regions[0].x + 208, 625, 1);
  EXPECT_NEAR(regions[0].y + 208, 350, 1);
}

TEST(RegionPlanner, RegionNearTheFrameEdgeIsShiftedInside) {
  auto planner = MakePlanner();
  const std::vector<BoxF> top_left = {{5, 5, 20, 20}};
  EXPECT_THAT(planner->Plan(kHd, top_left, {}), ElementsAre(cv::Rect(0, 0, 416, 416)));
  const std::vector<BoxF> bottom_right = {{1250, 700, 30, 20}};
  EXPECT_THAT(planner->Plan(kHd, bottom_right, {}), ElementsAre(cv::Rect(864, 304, 416, 416)));
}

TEST(RegionPlanner, BoxBiggerThanTheModelGetsASquareRegionContainingIt) {
  auto planner = MakePlanner();
  const std::vector<BoxF> motion = {{300.5f, 100.2f, 600, 450}};
  const std::vector<cv::Rect> regions = planner->Plan(kHd, motion, {});
  ASSERT_THAT(regions, SizeIs(1));
  EXPECT_EQ(regions[0].width, regions[0].height);
  EXPECT_GE(regions[0].width, 600);
  EXPECT_LE(regions[0].width, 602);
  EXPECT_TRUE(Covers(regions[0], motion[0]));
}

TEST(RegionPlanner, FrameSmallerThanTheModelIsSearchedWhole) {
  auto planner = MakePlanner();
  const std::vector<BoxF> motion = {{10, 10, 20, 20}, {250, 180, 30, 40}};
  EXPECT_THAT(planner->Plan(cv::Size(320, 240), motion, {}), ElementsAre(cv::Rect(0, 0, 320, 240)));
}

TEST(RegionPlanner, FrameLowerThanTheModelGivesAFullHeightRegion) {
  auto planner = MakePlanner();
  const std::vector<BoxF> motion = {{100, 100, 40, 80}};
  EXPECT_THAT(planner->Plan(cv::Size(640, 360), motion, {}), ElementsAre(cv::Rect(0, 0, 416, 360)));
}

TEST(RegionPlanner, NearbyBoxesShareOneRegion) {
  auto planner = MakePlanner();
  const std::vector<BoxF> motion = {{400, 200, 40, 80}, {650, 350, 60, 120}};
  const std::vector<cv::Rect> regions = planner->Plan(kHd, motion, {});
  ASSERT_THAT(regions, SizeIs(1));
  EXPECT_EQ(regions[0].size(), cv::Size(416, 416));
  EXPECT_TRUE(Covers(regions[0], motion[0]));
  EXPECT_TRUE(Covers(regions[0], motion[1]));
}

TEST(RegionPlanner, DistantBoxesGetSeparateRegions) {
  auto planner = MakePlanner();
  const std::vector<BoxF> motion = {{20, 20, 40, 80}, {1200, 600, 60, 100}};
  const std::vector<cv::Rect> regions = planner->Plan(kHd, motion, {});
  ASSERT_THAT(regions, SizeIs(2));
  for (const cv::Rect& r : regions) EXPECT_EQ(r.size(), cv::Size(416, 416));
  EXPECT_TRUE(AnyCovers(regions, motion[0]));
  EXPECT_TRUE(AnyCovers(regions, motion[1]));
}

TEST(RegionPlanner, SmallBoxInsideABigBoxesRegionJoinsIt) {
  auto planner = MakePlanner();
  const std::vector<BoxF> motion = {{100, 100, 500, 500}, {560, 560, 30, 30}};
  const std::vector<cv::Rect> regions = planner->Plan(kHd, motion, {});
  ASSERT_THAT(regions, SizeIs(1));
  EXPECT_EQ(regions[0], cv::Rect(100, 100, 500, 500));
}

TEST(RegionPlanner, TooManyClustersAreMergedIntoAtMostMaxRegions) {
  auto planner = MakePlanner(With([](auto& o) { o.max_regions = 4; }));
  const cv::Size frame(3840, 2160);
  // Six far-apart people: six clusters.
  const std::vector<BoxF> motion = {{100, 100, 40, 80},   {1800, 100, 40, 80},
                                    {3600, 100, 40, 80},  {100, 2000, 40, 80},
                                    {1800, 2000, 40, 80}, {3600, 2000, 40, 80}};
  const std::vector<cv::Rect> regions = planner->Plan(frame, motion, {});
  EXPECT_EQ(regions.size(), 4u);
  for (const BoxF& box : motion) EXPECT_TRUE(AnyCovers(regions, box));
  for (const cv::Rect& r : regions) {
    EXPECT_EQ(r & cv::Rect(0, 0, frame.width, frame.height), r);
  }
}

TEST(RegionPlanner, OneRegionAllowedAndBoxesSpreadOutGivesTheFullFrame) {
  auto planner = MakePlanner(With([](auto& o) { o.max_regions = 1; }));
  const std::vector<BoxF> motion = {{5, 5, 40, 80}, {1200, 600, 60, 100}};
  EXPECT_THAT(planner->Plan(kHd, motion, {}), ElementsAre(cv::Rect(0, 0, 1280, 720)));
}

TEST(RegionPlanner, RegionsCoveringTheWholeFrameAreReplacedByTheFullFrame) {
  auto planner = MakePlanner(With([](auto& o) { o.full_frame_fraction = 0.5f; }));
  // Two 416x416 regions are 38% of a 1280x720 frame, four would be 75%.
  const std::vector<BoxF> two = {{20, 20, 40, 80}, {1200, 600, 60, 100}};
  EXPECT_THAT(planner->Plan(kHd, two, {}), SizeIs(2));
  const std::vector<BoxF> four = {
      {20, 20, 40, 80}, {1200, 600, 60, 100}, {1200, 20, 40, 80}, {20, 600, 60, 100}};
  EXPECT_THAT(planner->Plan(kHd, four, {}), ElementsAre(cv::Rect(0, 0, 1280, 720)));
}

TEST(RegionPlanner, TrackedBoxesAreCoveredWithTheirMargin) {
  auto planner = MakePlanner(With([](auto& o) { o.track_margin = 0.25f; }));
  const std::vector<TrackedBox> tracked = {{BoxF{600, 200, 400, 400}, true}};
  const std::vector<cv::Rect> regions = planner->Plan(kHd, {}, tracked);
  ASSERT_THAT(regions, SizeIs(1));
  // 400 + 2 * 100 margin = 600 px, clipped to the frame's 720 px height.
  EXPECT_EQ(regions[0].width, 600);
  EXPECT_TRUE(Covers(regions[0], BoxF{500, 100, 600, 600}));
}

TEST(RegionPlanner, StationaryTrackedBoxesAreIncludedOnlyWhenDue) {
  auto planner = MakePlanner();
  const std::vector<BoxF> motion = {{20, 20, 40, 80}};
  std::vector<TrackedBox> tracked = {{BoxF{1100, 500, 60, 120}, /*include=*/false}};
  std::vector<cv::Rect> regions = planner->Plan(kHd, motion, tracked);
  ASSERT_THAT(regions, SizeIs(1));
  EXPECT_FALSE(AnyCovers(regions, tracked[0].box));
  tracked[0].include = true;
  regions = planner->Plan(kHd, motion, tracked);
  EXPECT_THAT(regions, SizeIs(2));
  EXPECT_TRUE(AnyCovers(regions, tracked[0].box));
}

TEST(RegionPlanner, IgnoresEmptyAndNonFiniteBoxesAndClipsBoxesToTheFrame) {
  auto planner = MakePlanner();
  const std::vector<BoxF> motion = {{100, 100, 0, 50},
                                    {100, 100, std::numeric_limits<float>::quiet_NaN(), 50},
                                    {5000, 5000, 10, 10},
                                    {-50, -50, 100, 100}};
  EXPECT_THAT(planner->Plan(kHd, motion, {}), ElementsAre(cv::Rect(0, 0, 416, 416)));
  EXPECT_THAT(planner->Plan(cv::Size(0, 0), motion, {}), IsEmpty());
}

// Invariants over many random scenes: regions lie in the frame, are square unless the frame
// is smaller than their side, are at least model-sized (or the frame), at most max_regions,
// and every box lies whole in some region.
TEST(RegionPlanner, RandomScenesKeepEveryInvariant) {
  cv::RNG rng(2024);
  const std::vector<cv::Size> frames = {{1280, 720},  {640, 360}, {1920, 1080}, {704, 576},
                                        {3840, 2160}, {300, 200}, {416, 416},   {1080, 1920}};
  for (int max_regions : {1, 2, 4, 8}) {
    auto planner = MakePlanner(With([&](auto& o) { o.max_regions = max_regions; }));
    for (int scene = 0; scene < 300; ++scene) {
      const cv::Size frame = frames[static_cast<size_t>(scene) % frames.size()];
      std::vector<BoxF> motion;
      std::vector<TrackedBox> tracked;
      const int n = rng.uniform(1, 15);
      for (int i = 0; i < n; ++i) {
        const float w = rng.uniform(2.0f, static_cast<float>(frame.width) * 0.6f);
        const float h = rng.uniform(2.0f, static_cast<float>(frame.height) * 0.6f);
        const BoxF box{rng.uniform(-20.0f, static_cast<float>(frame.width) - w + 20),
                       rng.uniform(-20.0f, static_cast<float>(frame.height) - h + 20), w, h};
        if (rng.uniform(0, 2) == 0) {
          motion.push_back(box);
        } else {
          tracked.push_back({box, rng.uniform(0, 4) != 0});
        }
      }
      const std::vector<cv::Rect> regions = planner->Plan(frame, motion, tracked);
      SCOPED_TRACE(::testing::Message()
                   << "scene " << scene << " frame " << frame << " max_regions " << max_regions);
      bool any_box_in_frame = false;
      for (const BoxF& box : motion) {
        const BoxF clipped = Clip(box, frame);
        any_box_in_frame |= clipped.w > 0 && clipped.h > 0;
      }
      for (const TrackedBox& t : tracked) {
        const BoxF& b = t.box;
        const BoxF clipped =
            Clip(BoxF{b.x - 0.2f * b.w, b.y - 0.2f * b.h, 1.4f * b.w, 1.4f * b.h}, frame);
        any_box_in_frame |= t.include && clipped.w > 0 && clipped.h > 0;
      }
      ASSERT_EQ(regions.empty(), !any_box_in_frame);
      EXPECT_LE(regions.size(), static_cast<size_t>(max_regions));
      for (const cv::Rect& r : regions) {
        EXPECT_EQ(r & cv::Rect(0, 0, frame.width, frame.height), r) << r;
        const int side = std::max(r.width, r.height);
        EXPECT_TRUE(r.width == side || r.width == frame.width) << r;
        EXPECT_TRUE(r.height == side || r.height == frame.height) << r;
        EXPECT_GE(r.width, std::min(416, frame.width)) << r;
        EXPECT_GE(r.height, std::min(416, frame.height)) << r;
      }
      for (const BoxF& box : motion) {
        const BoxF clipped = Clip(box, frame);
        if (clipped.w <= 0 || clipped.h <= 0) continue;  // Wholly outside: ignored.
        EXPECT_TRUE(AnyCovers(regions, clipped));
      }
      for (const TrackedBox& t : tracked) {
        if (!t.include) continue;
        const BoxF& b = t.box;
        const BoxF with_margin{b.x - 0.2f * b.w, b.y - 0.2f * b.h, 1.4f * b.w, 1.4f * b.h};
        // A hair inside: the margin is computed in float.
        BoxF inner = Clip(with_margin, frame);
        if (inner.w <= 0.02f || inner.h <= 0.02f) continue;
        inner = {inner.x + 0.01f, inner.y + 0.01f, inner.w - 0.02f, inner.h - 0.02f};
        EXPECT_TRUE(AnyCovers(regions, inner));
      }
    }
  }
}

TEST(MergeRegionDetections, MapsRegionPixelsToFramePixels) {
  auto planner = MakePlanner();
  const std::vector<RegionDetections> regions = {
      {cv::Rect(400, 200, 416, 416), {Det(0, 0.9f, BoxF{100, 50, 40, 80})}}};
  const Detections merged = planner->MergeRegionDetections(kHd, regions);
  ASSERT_THAT(merged, SizeIs(1));
  EXPECT_FLOAT_EQ(merged[0].box.x, 500);
  EXPECT_FLOAT_EQ(merged[0].box.y, 250);
  EXPECT_FLOAT_EQ(merged[0].box.w, 40);
  EXPECT_FLOAT_EQ(merged[0].box.h, 80);
  EXPECT_EQ(merged[0].label, "person");
  EXPECT_FLOAT_EQ(merged[0].score, 0.9f);
}

TEST(MergeRegionDetections, DuplicateSeenWholeByTwoOverlappingRegionsIsKeptOnceWithBestScore) {
  auto planner = MakePlanner();
  // Regions [300, 716) and [500, 916) both hold the person at x 560-600 whole.
  const std::vector<RegionDetections> regions = {
      {cv::Rect(300, 100, 416, 416), {Det(0, 0.7f, BoxF{260, 100, 40, 80})}},
      {cv::Rect(500, 100, 416, 416), {Det(0, 0.8f, BoxF{61, 101, 40, 80})}}};
  const Detections merged = planner->MergeRegionDetections(kHd, regions);
  ASSERT_THAT(merged, SizeIs(1));
  EXPECT_FLOAT_EQ(merged[0].score, 0.8f);
  EXPECT_FLOAT_EQ(merged[0].box.x, 561);
}

TEST(MergeRegionDetections, OverlappingBoxesOfDifferentClassesAreBothKept) {
  auto planner = MakePlanner();
  const std::vector<RegionDetections> regions = {
      {cv::Rect(0, 0, 416, 416),
       {Det(0, 0.9f, BoxF{100, 100, 60, 120}), Det(2, 0.6f, BoxF{102, 100, 60, 120})}}};
  EXPECT_THAT(planner->MergeRegionDetections(kHd, regions), SizeIs(2));
}

TEST(MergeRegionDetections, SeparateObjectsAreAllKeptBestScoreFirst) {
  auto planner = MakePlanner();
  const std::vector<RegionDetections> regions = {
      {cv::Rect(0, 0, 416, 416), {Det(0, 0.5f, BoxF{10, 10, 40, 80})}},
      {cv::Rect(800, 300, 416, 416), {Det(0, 0.9f, BoxF{100, 100, 40, 80})}}};
  const Detections merged = planner->MergeRegionDetections(kHd, regions);
  ASSERT_THAT(merged, SizeIs(2));
  EXPECT_FLOAT_EQ(merged[0].score, 0.9f);
  EXPECT_FLOAT_EQ(merged[1].score, 0.5f);
}

TEST(MergeRegionDetections, BoxCutByARegionEdgeLosesToTheWholeViewFromAnotherRegion) {
  auto planner = MakePlanner();
  // A car at frame x 380-520. Region A [0, 416) cuts it at x 416; region B [300, 716) sees it
  // whole. The cut piece scores higher and overlaps the whole box with IoU 0.26 only.
  const std::vector<RegionDetections> regions = {
      {cv::Rect(0, 100, 416, 416), {Det(2, 0.95f, BoxF{380, 100, 36, 80})}},
      {cv::Rect(300, 100, 416, 416), {Det(2, 0.6f, BoxF{80, 100, 140, 80})}}};
  const Detections merged = planner->MergeRegionDetections(kHd, regions);
  ASSERT_THAT(merged, SizeIs(1));
  EXPECT_FLOAT_EQ(merged[0].box.x, 380);
  EXPECT_FLOAT_EQ(merged[0].box.w, 140);
  EXPECT_FLOAT_EQ(merged[0].score, 0.6f);
}

TEST(MergeRegionDetections, BoxCutByARegionEdgeIsKeptWhenNoRegionSeesTheObjectWhole) {
  auto planner = MakePlanner();
  const std::vector<RegionDetections> regions = {
      {cv::Rect(0, 100, 416, 416), {Det(2, 0.95f, BoxF{380, 100, 36, 80})}}};
  EXPECT_THAT(planner->MergeRegionDetections(kHd, regions), SizeIs(1));
}

TEST(MergeRegionDetections, BoxAtARegionEdgeThatIsTheFrameEdgeIsNotCut) {
  auto planner = MakePlanner();
  // Region A ends at the frame's right edge, so its box touching that edge is whole and beats
  // the lower-scored box of region B, which B's left edge cuts.
  const std::vector<RegionDetections> regions = {
      {cv::Rect(864, 0, 416, 416), {Det(0, 0.6f, BoxF{300, 10, 116, 100})}},
      {cv::Rect(1200, 0, 80, 80), {Det(0, 0.9f, BoxF{0, 10, 80, 70})}}};
  const Detections merged = planner->MergeRegionDetections(kHd, regions);
  ASSERT_THAT(merged, SizeIs(1));
  EXPECT_FLOAT_EQ(merged[0].score, 0.6f);
  EXPECT_FLOAT_EQ(merged[0].box.x, 1164);
}

TEST(MergeRegionDetections, BoxesReachingPastTheirRegionAreClippedToIt) {
  auto planner = MakePlanner();
  const std::vector<RegionDetections> regions = {
      {cv::Rect(100, 100, 416, 416),
       {Det(0, 0.9f, BoxF{-10, 380, 50, 80}), Det(0, 0.9f, BoxF{500, 500, 10, 10})}}};
  const Detections merged = planner->MergeRegionDetections(kHd, regions);
  ASSERT_THAT(merged, SizeIs(1));
  EXPECT_FLOAT_EQ(merged[0].box.x, 100);
  EXPECT_FLOAT_EQ(merged[0].box.w, 40);
  EXPECT_FLOAT_EQ(merged[0].box.Bottom(), 516);
}

}  // namespace
}  // namespace custos::detect
