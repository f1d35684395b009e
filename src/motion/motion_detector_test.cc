#include "motion/motion_detector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

#include "core/testing.h"

namespace custos::motion {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int kWidth = 640;
constexpr int kHeight = 360;

template <typename F>
MotionOptions With(F&& set) {
  MotionOptions options;
  set(options);
  return options;
}

std::unique_ptr<MotionDetector> MakeDetector(const MotionOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<MotionDetector>> detector = MotionDetector::Create(options);
  EXPECT_TRUE(detector.ok()) << detector.status();
  return *std::move(detector);
}

// A static scene (walls, a table) with sensor noise that differs from frame to frame.
class Scene {
 public:
  explicit Scene(cv::Size size = {kWidth, kHeight}, int brightness = 90)
      : background_(size, CV_8UC3, cv::Scalar(brightness, brightness, brightness)) {
    cv::rectangle(background_, cv::Rect(20, 30, 150, 100), cv::Scalar(40, 60, 80), cv::FILLED);
    cv::circle(background_, cv::Point(size.width - 120, size.height - 90), 50,
               cv::Scalar(140, 120, 100), cv::FILLED);
  }

  // The scene with the given filled rectangles painted in white.
  cv::Mat Frame(const std::vector<cv::Rect>& objects = {}) {
    cv::Mat frame = background_.clone();
    for (const cv::Rect& r : objects)
      cv::rectangle(frame, r, cv::Scalar(230, 230, 230), cv::FILLED);
    cv::Mat noise(frame.size(), CV_16SC3);
    rng_.fill(noise, cv::RNG::NORMAL, 0, 4);
    cv::Mat noisy;
    frame.convertTo(noisy, CV_16SC3);
    noisy += noise;
    noisy.convertTo(frame, CV_8UC3);  // Saturates.
    return frame;
  }

  void SetBrightness(int brightness) {
    background_ += cv::Scalar::all(brightness) - cv::Scalar::all(current_brightness_);
    current_brightness_ = brightness;
  }

 private:
  cv::Mat background_;
  cv::RNG rng_{12345};
  int current_brightness_ = 0;
};

void Warm(MotionDetector& detector, Scene& scene, int frames = 5) {
  for (int i = 0; i < frames; ++i) detector.Process(scene.Frame());
}

BoxF ToBox(const cv::Rect& r) {
  return BoxF{static_cast<float>(r.x), static_cast<float>(r.y), static_cast<float>(r.width),
              static_cast<float>(r.height)};
}

bool Contains(const BoxF& outer, const BoxF& inner) {
  return outer.x <= inner.x && outer.y <= inner.y && outer.Right() >= inner.Right() &&
         outer.Bottom() >= inner.Bottom();
}

TEST(MotionDetector, CreateRejectsOutOfRangeOptionsNamingTheOption) {
  struct Case {
    MotionOptions options;
    std::string name;
  };
  std::vector<Case> cases;
  cases.push_back({With([](MotionOptions& o) { o.frame_height_px = 8; }), "frame_height_px"});
  cases.push_back({With([](MotionOptions& o) { o.blur_kernel_px = 4; }), "blur_kernel_px"});
  cases.push_back({With([](MotionOptions& o) { o.diff_threshold = 0; }), "diff_threshold"});
  cases.push_back({With([](MotionOptions& o) { o.learning_rate = 0; }), "learning_rate"});
  cases.push_back({With([](MotionOptions& o) { o.dilate_iterations = -1; }), "dilate_iterations"});
  cases.push_back(
      {With([](MotionOptions& o) { o.min_contour_area_px = -1; }), "min_contour_area_px"});
  cases.push_back({With([](MotionOptions& o) { o.min_live_change_px = 0; }), "min_live_change_px"});
  cases.push_back(
      {With([](MotionOptions& o) { o.light_change_fraction = 1.5; }), "light_change_fraction"});
  cases.push_back({With([](MotionOptions& o) { o.settled_fraction = 0.7; }), "settled_fraction"});
  cases.push_back({MotionOptions{.masks = {{{0, 0}, {1, 0}}}}, "masks[0]"});
  cases.push_back({MotionOptions{.masks = {{{0, 0}, {1, 0}, {1, 640}}}}, "masks[0]"});
  for (const Case& c : cases) {
    absl::StatusOr<std::unique_ptr<MotionDetector>> detector = MotionDetector::Create(c.options);
    ASSERT_FALSE(detector.ok()) << c.name;
    EXPECT_EQ(detector.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(detector.status().message(), HasSubstr(c.name));
  }
}

TEST(MotionDetector, DefaultOptionsAreValid) { EXPECT_TRUE(MotionDetector::Create({}).ok()); }

TEST(MotionDetector, FirstFrameOnlyInitialisesTheBackground) {
  auto detector = MakeDetector();
  Scene scene;
  const MotionResult result = detector->Process(scene.Frame({cv::Rect(300, 100, 60, 120)}));
  EXPECT_THAT(result.boxes, IsEmpty());
  EXPECT_FALSE(result.light_change);
  EXPECT_EQ(result.mask.size(), cv::Size(320, 180));
}

TEST(MotionDetector, StaticNoisySceneHasNoMotion) {
  auto detector = MakeDetector();
  Scene scene;
  for (int i = 0; i < 30; ++i) {
    const MotionResult result = detector->Process(scene.Frame());
    EXPECT_THAT(result.boxes, IsEmpty()) << "frame " << i;
    EXPECT_LT(result.changed_fraction, 0.001) << "frame " << i;
  }
}

TEST(MotionDetector, MovingRectangleYieldsOneBoxWhereItIs) {
  auto detector = MakeDetector();
  Scene scene;
  Warm(*detector, scene);
  for (int i = 0; i < 12; ++i) {
    const cv::Rect object(80 + 40 * i, 150, 60, 120);
    const MotionResult result = detector->Process(scene.Frame({object}));
    ASSERT_THAT(result.boxes, SizeIs(1)) << "frame " << i;
    const BoxF& box = result.boxes[0];
    EXPECT_TRUE(Contains(box, ToBox(object)))
        << "frame " << i << ": box " << box.x << "," << box.y << " " << box.w << "x" << box.h;
    EXPECT_GT(IoU(box, ToBox(object)), 0.5f) << "frame " << i;
    EXPECT_GT(result.changed_fraction, 0.01);
    EXPECT_LT(result.changed_fraction, 0.1);
    EXPECT_FALSE(result.light_change);
    EXPECT_GT(cv::countNonZero(result.mask), 0);
  }
}

TEST(MotionDetector, BoxesAreInFullFrameCoordinatesForAnyFrameSize) {
  auto detector = MakeDetector();
  Scene scene(cv::Size(1280, 720));
  Warm(*detector, scene);
  const cv::Rect object(900, 400, 100, 200);
  const MotionResult result = detector->Process(scene.Frame({object}));
  ASSERT_THAT(result.boxes, SizeIs(1));
  EXPECT_TRUE(Contains(result.boxes[0], ToBox(object)));
  EXPECT_GT(IoU(result.boxes[0], ToBox(object)), 0.5f);
  EXPECT_EQ(result.mask.size(), cv::Size(320, 180));
}

TEST(MotionDetector, GreyInputWorksLikeBgr) {
  auto detector = MakeDetector();
  Scene scene;
  cv::Mat grey;
  for (int i = 0; i < 5; ++i) {
    cv::cvtColor(scene.Frame(), grey, cv::COLOR_BGR2GRAY);
    detector->Process(grey);
  }
  cv::cvtColor(scene.Frame({cv::Rect(300, 100, 60, 120)}), grey, cv::COLOR_BGR2GRAY);
  EXPECT_THAT(detector->Process(grey).boxes, SizeIs(1));
}

TEST(MotionDetector, GlobalBrightnessJumpIsALightChangeWithoutBoxes) {
  auto detector = MakeDetector();
  Scene scene;
  Warm(*detector, scene);
  scene.SetBrightness(80);  // Lights on: every pixel is 80 levels brighter.
  const cv::Rect still_object(300, 100, 60, 120);
  const MotionResult jump = detector->Process(scene.Frame({still_object}));
  EXPECT_TRUE(jump.light_change);
  EXPECT_THAT(jump.boxes, IsEmpty());
  EXPECT_GT(jump.changed_fraction, 0.6);

  // The background was recalibrated at once: the next frame is quiet again.
  const MotionResult after = detector->Process(scene.Frame({still_object}));
  EXPECT_FALSE(after.light_change);
  EXPECT_THAT(after.boxes, IsEmpty());

  // And motion is detected as before.
  const cv::Rect object(100, 150, 60, 120);
  const MotionResult moving = detector->Process(scene.Frame({still_object, object}));
  EXPECT_FALSE(moving.light_change);
  ASSERT_THAT(moving.boxes, SizeIs(1));
  EXPECT_TRUE(Contains(moving.boxes[0], ToBox(object)));
}

TEST(MotionDetector, LightChangeLastsWhileTheSceneKeepsChanging) {
  auto detector = MakeDetector();
  Scene scene;
  Warm(*detector, scene);
  // Auto exposure ramping over three frames, each step changing every pixel.
  for (int brightness : {40, 80, 120}) {
    scene.SetBrightness(brightness);
    const MotionResult result = detector->Process(scene.Frame({cv::Rect(300, 100, 60, 120)}));
    EXPECT_TRUE(result.light_change) << brightness;
    EXPECT_THAT(result.boxes, IsEmpty()) << brightness;
  }
  EXPECT_FALSE(detector->Process(scene.Frame()).light_change);
}

TEST(MotionDetector, MotionInAMaskedAreaIsIgnored) {
  // Mask the left half of the frame.
  auto detector = MakeDetector(MotionOptions{.masks = {{{0, 0}, {0.5f, 0}, {0.5f, 1}, {0, 1}}}});
  Scene scene;
  Warm(*detector, scene);
  for (int i = 0; i < 5; ++i) {
    const MotionResult result =
        detector->Process(scene.Frame({cv::Rect(40 + 40 * i, 150, 60, 120)}));
    EXPECT_THAT(result.boxes, IsEmpty()) << "frame " << i;
    EXPECT_EQ(result.changed_fraction, 0.0);
    EXPECT_EQ(cv::countNonZero(result.mask), 0);
  }
  const cv::Rect right(450, 150, 60, 120);
  const MotionResult result = detector->Process(scene.Frame({right}));
  ASSERT_THAT(result.boxes, SizeIs(1));
  EXPECT_TRUE(Contains(result.boxes[0], ToBox(right)));
}

TEST(MotionDetector, ChangesSmallerThanMinContourAreaAreIgnored) {
  auto detector = MakeDetector();
  Scene scene;
  Warm(*detector, scene);
  // 4x4 px in the 640x360 frame is 2x2 px in the motion image.
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(detector->Process(scene.Frame({cv::Rect(300 + 10 * i, 200, 4, 4)})).boxes,
                IsEmpty());
  }
}

TEST(MotionDetector, ObjectThatStopsIsNoLongerReported) {
  auto detector = MakeDetector();
  Scene scene;
  Warm(*detector, scene);
  const cv::Rect parked(300, 150, 60, 120);
  EXPECT_THAT(detector->Process(scene.Frame({parked - cv::Point(20, 0)})).boxes, SizeIs(1));
  EXPECT_THAT(detector->Process(scene.Frame({parked})).boxes, SizeIs(1));
  // Still different from the background, but nothing changes from frame to frame.
  for (int i = 0; i < 5; ++i) {
    const MotionResult result = detector->Process(scene.Frame({parked}));
    EXPECT_THAT(result.boxes, IsEmpty()) << "frame " << i;
    EXPECT_GT(result.changed_fraction, 0.01);
  }
}

TEST(MotionDetector, WithoutRequireLiveChangeAStoppedObjectIsReportedUntilAbsorbed) {
  auto detector = MakeDetector(With([](MotionOptions& o) {
    o.learning_rate = 0.1;
    o.require_live_change = false;
  }));
  Scene scene;
  Warm(*detector, scene);
  const cv::Rect parked(300, 150, 60, 120);
  int frames_with_motion = 0;
  for (int i = 0; i < 60; ++i) {
    if (!detector->Process(scene.Frame({parked})).boxes.empty()) ++frames_with_motion;
  }
  // Difference 140 decays by 0.9 a frame: below the threshold of 30 after ~15 frames.
  EXPECT_GE(frames_with_motion, 10);
  EXPECT_LE(frames_with_motion, 25);
}

TEST(MotionDetector, UnusableFramesYieldAnEmptyResult) {
  auto detector = MakeDetector();
  EXPECT_TRUE(detector->Process(cv::Mat()).mask.empty());
  EXPECT_TRUE(detector->Process(cv::Mat(100, 100, CV_16UC1, cv::Scalar(0))).mask.empty());
  EXPECT_TRUE(detector->Process(cv::Mat(100, 100, CV_8UC2, cv::Scalar(0))).mask.empty());
}

TEST(MotionDetector, FrameSizeChangeRestartsTheBackground) {
  auto detector = MakeDetector();
  Scene small_scene;
  Warm(*detector, small_scene);
  Scene big_scene(cv::Size(1280, 720), 150);
  EXPECT_THAT(detector->Process(big_scene.Frame()).boxes, IsEmpty());
  EXPECT_FALSE(detector->Process(big_scene.Frame()).light_change);
}

TEST(MotionDetector, ResetForgetsTheBackground) {
  auto detector = MakeDetector();
  Scene scene;
  Warm(*detector, scene);
  detector->Reset();
  // Would be motion (or a light change) against the old background; after Reset it is the
  // new background.
  scene.SetBrightness(60);
  const MotionResult result = detector->Process(scene.Frame({cv::Rect(300, 100, 60, 120)}));
  EXPECT_THAT(result.boxes, IsEmpty());
  EXPECT_FALSE(result.light_change);
}

TEST(MotionDetectorOnRealVideo, ReportsPeopleWalkingAndNoMotionInTheStaticScene) {
  CUSTOS_REQUIRE_DATA(path, testing::SharedData("video/one-by-one-person-detection.mp4"));
  cv::VideoCapture capture(path);
  ASSERT_TRUE(capture.isOpened()) << path;
  auto detector = MakeDetector();
  cv::Mat frame;
  int frames = 0;
  int frames_with_motion = 0;
  int motion_in_empty_start = 0;
  int motion_first_walk_in = 0;
  int motion_first_walk_out = 0;
  int light_changes = 0;
  while (capture.read(frame)) {
    const MotionResult result = detector->Process(frame);
    const bool motion = !result.boxes.empty();
    for (const BoxF& box : result.boxes) {
      EXPECT_GE(box.x, 0);
      EXPECT_GE(box.y, 0);
      EXPECT_LE(box.Right(), static_cast<float>(frame.cols));
      EXPECT_LE(box.Bottom(), static_cast<float>(frame.rows));
    }
    frames_with_motion += motion;
    light_changes += result.light_change;
    // Frames 0-49: the room is empty. The first person walks in during 50-99 and out during
    // 175-224 (checked by eye on a contact sheet of every 25th frame).
    if (frames < 50) motion_in_empty_start += motion;
    if (frames >= 50 && frames < 100) motion_first_walk_in += motion;
    if (frames >= 175 && frames < 225) motion_first_walk_out += motion;
    ++frames;
  }
  ASSERT_GT(frames, 1000) << "the clip has 1394 frames";
  EXPECT_EQ(motion_in_empty_start, 0);
  EXPECT_GE(motion_first_walk_in, 15);
  EXPECT_GE(motion_first_walk_out, 15);
  EXPECT_EQ(light_changes, 0);
  // Six people each walk in, stand at the table for a while and walk out: motion in roughly a
  // third of the frames, neither never nor always.
  const double fraction = static_cast<double>(frames_with_motion) / frames;
  EXPECT_GT(fraction, 0.15);
  EXPECT_LT(fraction, 0.6);
}

}  // namespace
}  // namespace custos::motion
