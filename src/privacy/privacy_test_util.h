// Helpers of the privacy tests: the shared detectors, labelled plate photos, a video made of
// one, and what an obscured picture still shows.
#pragma once

#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "face/face_detector.h"
#include "plate/text_detector.h"

namespace custos::privacy {

// The detectors of the default manifest and models folder, loaded once per process (never
// freed). The face detector returns scores from 0.2 up: low enough for the masker (0.3 by
// default) and for checks that report lower ones. kNotFound when the model is not
// provisioned (the message says how to), other codes when it does not load.
absl::StatusOr<face::FaceDetector*> TestFaceDetector();
absl::StatusOr<plate::TextDetector*> TestTextDetector();

// Declares `var` = the detector `expr` gives (TestFaceDetector(), TestTextDetector()); skips
// the test when the model is not provisioned, fails it when the model does not load.
#define CUSTOS_REQUIRE_DETECTOR(var, expr)                                              \
  auto var##_or = (expr);                                                               \
  if (absl::IsNotFound(var##_or.status())) GTEST_SKIP() << var##_or.status().message(); \
  ASSERT_TRUE(var##_or.ok()) << var##_or.status();                                      \
  auto* const var = *var##_or

// Removes the test folder `dir`, or with CUSTOS_KEEP_TEST_FILES=1 in the environment keeps it
// for a look and prints where it is.
void RemoveTestFiles(const std::string& dir);

// A labelled road photo of ../shared/data/plates/us: NAME.jpg with NAME.txt holding
// "file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE" (docs/plates.md).
struct PlatePhoto {
  std::string image;  // Path.
  cv::Rect plate;
};

// The labelled photos of `dir`, by name.
std::vector<PlatePhoto> LoadPlatePhotos(const std::string& dir);

// Detail left in `region` of `bgr`: the standard deviation of the Laplacian of its grey
// pixels (the face quality gate measures sharpness the same way). A face, hair, an ear line or
// a plate's characters have tens; an obscured region a few. 0 for regions under 3x3 px.
double Detail(const cv::Mat& bgr, const cv::Rect& region);

// Every frame of the video at `path`, decoded by OpenCV's FFmpeg backend, as BGR.
std::vector<cv::Mat> DecodeAll(const std::string& path);

// A video made of a real road photo moving across a larger grey canvas, and where its plate is
// in every frame.
struct MovingPlateVideo {
  static constexpr int kFrames = 75;  // 3 s at 25 fps.
  static constexpr double kFps = 25;
  static constexpr int kWidth = 1280, kHeight = 720;
  std::vector<cv::Rect> plates;  // The labelled plate's box in each frame.
};

// Writes `photo` (a labelled photo, PlatePhoto) moving left to right across the canvas (and
// 1 px per frame down) to `video_path` as Motion-JPEG at quality 95 (an .avi), so that the
// input's plate is sharp. For car1.jpg (600x600, plate 115x57) the plate moves 9 px a frame,
// 0.08 plate widths. kNotFound / kInvalidArgument when the photo or its label cannot be read,
// kInternal when the video cannot be written.
absl::StatusOr<MovingPlateVideo> WriteMovingPlateVideo(const std::string& photo,
                                                       const std::string& video_path);

}  // namespace custos::privacy
