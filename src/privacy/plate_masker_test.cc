// The plate rule, the plate box and the sampled hold, without models.
#include "privacy/plate_masker.h"

#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "gtest/gtest.h"

namespace custos::privacy {
namespace {

const cv::Size kFrame(1280, 720);

// A text line of `length` x `height` centred at `centre`, turned by `degrees`.
plate::TextBox Line(cv::Point2f centre, float length, float height, float degrees = 0) {
  const cv::RotatedRect r(centre, cv::Size2f(length, height), degrees);
  std::array<cv::Point2f, 4> pts;
  r.points(pts.data());
  return {plate::OrderCorners(pts), 0.9f};
}

TEST(PlateMasker, TakesLinesOfTwoOrMoreCharactersUpToAQuarterOfTheFrameHigh) {
  const PlateMaskerOptions o;
  EXPECT_TRUE(IsPlateLike(Line({640, 400}, 100, 30), kFrame, o));      // A US plate's line.
  EXPECT_TRUE(IsPlateLike(Line({640, 400}, 100, 30, 30), kFrame, o));  // Turned 30 degrees.
  EXPECT_TRUE(IsPlateLike(Line({640, 400}, 24, 12), kFrame, o));       // Small and far.
  EXPECT_TRUE(IsPlateLike(Line({640, 400}, 540, 170), kFrame, o));     // Close-up.
  EXPECT_FALSE(IsPlateLike(Line({640, 400}, 30, 30), kFrame, o));      // One character.
  EXPECT_TRUE(IsPlateLike(Line({640, 400}, 30, 60), kFrame, o));       // Any orientation.
  EXPECT_FALSE(IsPlateLike(Line({640, 400}, 600, 20), kFrame, o));     // A date overlay.
  EXPECT_FALSE(IsPlateLike(Line({640, 400}, 900, 200), kFrame, o));    // A banner.
}

TEST(PlateMasker, GrowsTheLineToThePlateAroundIt) {
  PlateMaskerOptions o;
  o.plate_margin = 0.5f;
  const cv::Rect2f box = PlateBox(Line({200, 100}, 100, 30), o);
  EXPECT_NEAR(box.x, 150 - 15, 0.01);
  EXPECT_NEAR(box.y, 85 - 15, 0.01);
  EXPECT_NEAR(box.width, 130, 0.01);
  EXPECT_NEAR(box.height, 60, 0.01);
}

TEST(PlateMasker, SamplesByTimeWhateverTheFrameRate) {
  PlateMaskerOptions o;  // One sample per 200 ms.
  EXPECT_EQ(SampleEvery(o, 25), 5);
  EXPECT_EQ(SampleEvery(o, 30), 6);
  EXPECT_EQ(SampleEvery(o, 10), 2);
  EXPECT_EQ(SampleEvery(o, 5), 1);  // The live view's detect stream: every frame.
  EXPECT_EQ(SampleEvery(o, 2), 1);
  EXPECT_EQ(SampleEvery(o, 0), 1);  // Rate unknown: every frame.
  EXPECT_EQ(SampleEvery(o, -1), 1);
  o.sample_interval_ms = 0;
  EXPECT_EQ(SampleEvery(o, 25), 1);
  o.sample_interval_ms = 1000;
  EXPECT_EQ(SampleEvery(o, 240), 62);  // Holds stay within the timeline's 250 frames.
}

TEST(PlateMasker, HoldsAndGrowthFollowTheSampling) {
  PlateMaskerOptions o;
  o.hold_after_samples = 3;
  o.hold_before_samples = 2;
  o.growth_per_sample = 0.6f;
  const MaskTimelineOptions t = PlateTimelineOptions(o, 4);
  EXPECT_EQ(t.hold_after_frames, 12);
  EXPECT_EQ(t.hold_before_frames, 8);
  EXPECT_EQ(t.padding, o.padding);
  EXPECT_FLOAT_EQ(t.growth_per_frame, 0.15f);
  EXPECT_TRUE(ValidateMaskTimelineOptions(PlateTimelineOptions(PlateMaskerOptions{}, 62)).ok());
  o.hold_after_samples = 4;
  o.hold_before_samples = 4;
  EXPECT_TRUE(ValidateMaskTimelineOptions(PlateTimelineOptions(o, 62)).ok());
}

TEST(PlateMasker, RejectsANullDetectorAndBadOptions) {
  EXPECT_EQ(PlateMasker::Create(nullptr, {}, 25).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidatePlateMaskerOptions({}).ok());
  const auto bad = [](auto change) {
    PlateMaskerOptions o;
    change(o);
    return ValidatePlateMaskerOptions(o);
  };
  EXPECT_FALSE(bad([](PlateMaskerOptions& o) { o.sample_interval_ms = -1; }).ok());
  EXPECT_FALSE(bad([](PlateMaskerOptions& o) { o.sample_interval_ms = 1001; }).ok());
  EXPECT_FALSE(bad([](PlateMaskerOptions& o) { o.min_aspect = 0.5f; }).ok());
  EXPECT_FALSE(bad([](PlateMaskerOptions& o) { o.max_aspect = 1.1f; }).ok());
  EXPECT_FALSE(bad([](PlateMaskerOptions& o) { o.max_height = 0; }).ok());
  EXPECT_FALSE(bad([](PlateMaskerOptions& o) { o.cells = 0; }).ok());
  EXPECT_FALSE(bad([](PlateMaskerOptions& o) { o.hold_after_samples = 0; }).ok());
  EXPECT_FALSE(bad([](PlateMaskerOptions& o) { o.hold_before_samples = 5; }).ok());
  EXPECT_FALSE(bad([](PlateMaskerOptions& o) { o.padding = 5; }).ok());
  const absl::Status growth = bad([](PlateMaskerOptions& o) { o.growth_per_sample = -1; });
  EXPECT_EQ(growth.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(growth.message().find("growth_per_sample"), std::string::npos) << growth;
}

// Whether every point of `box` lies where ObscureRegion leaves nothing of the picture: inside
// the opaque part (0.85 of the radii) of the ellipse of one of `regions`.
bool Covered(const cv::Rect2f& box, const std::vector<cv::Rect>& regions) {
  constexpr int kSteps = 8;
  for (int i = 0; i <= kSteps; ++i) {
    for (int j = 0; j <= kSteps; ++j) {
      const float x = box.x + box.width * static_cast<float>(i) / kSteps;
      const float y = box.y + box.height * static_cast<float>(j) / kSteps;
      bool inside = false;
      for (const cv::Rect& r : regions) {
        const float rx = static_cast<float>(r.width) / 2, ry = static_cast<float>(r.height) / 2;
        const float dx = (x - static_cast<float>(r.x) - rx) / rx;
        const float dy = (y - static_cast<float>(r.y) - ry) / ry;
        if (std::sqrt(dx * dx + dy * dy) <= 0.85f) inside = true;
      }
      if (!inside) return false;
    }
  }
  return true;
}

// The fastest motion (plate-box widths per sample interval, along `direction`) for which a
// plate detected exactly on every sampled frame (every `every` frames) is covered in every
// frame, live (no look-ahead) or exported (the timeline queried hold_before frames behind the
// detections).
double FastestCovered(const PlateMaskerOptions& o, int every, cv::Point2f direction,
                      bool look_ahead) {
  const cv::Size2f plate(130, 60);  // PlateBox of a 100 x 30 line.
  const MaskTimelineOptions options = PlateTimelineOptions(o, every);
  double fastest = 0;
  for (int step = 1; step < 400; ++step) {
    const double speed = 0.01 * step;  // Per sample interval.
    MaskTimeline timeline(options);
    const int before = look_ahead ? options.hold_before_frames : 0;
    const auto at = [&](int64_t f) {
      const auto d = static_cast<float>(speed / every * static_cast<double>(f) * plate.width);
      return cv::Rect2f(cv::Point2f(100, 1000) + d * direction, plate);
    };
    bool all = true;
    for (int64_t f = 0; f < 12 * every + before; ++f) {
      timeline.Add(f, f % every == 0 ? std::vector<cv::Rect2f>{at(f)} : std::vector<cv::Rect2f>{});
      const int64_t shown = f - before;
      if (shown >= 0 && !Covered(at(shown), timeline.Regions(shown, cv::Size(100000, 100000)))) {
        all = false;
        break;
      }
    }
    if (!all) break;
    fastest = speed;
  }
  return fastest;
}

TEST(PlateMasker, TheDefaultHoldCoversAPlateMovingBetweenSamples) {
  const PlateMaskerOptions o;
  // Exports at 25 fps (a sample every 5 frames) and the live view at 5 fps (every frame).
  for (int every : {5, 1}) {
    const double live_x = FastestCovered(o, every, {1, 0}, false);
    const double live_y = FastestCovered(o, every, {0, 1}, false);
    const double export_x = FastestCovered(o, every, {1, 0}, true);
    const double export_y = FastestCovered(o, every, {0, 1}, true);
    const double export_diagonal = FastestCovered(o, every, {0.8f, 0.6f}, true);
    std::printf(
        "covered, in plate-box widths per sample, sampling every %d frames: live %.2f across, "
        "%.2f down; export %.2f across, %.2f down, %.2f diagonally\n",
        every, live_x, live_y, export_x, export_y, export_diagonal);
    // docs/privacy.md: the test video's plate (plate_export_test.cc) moves 45 px per 200 ms,
    // 0.47 widths of the largest plate box the detector gives on it (96 px).
    EXPECT_GE(live_x, 0.5);
    EXPECT_GE(export_x, 0.5);
    EXPECT_GE(export_diagonal, 0.5);
  }
}

}  // namespace
}  // namespace custos::privacy
