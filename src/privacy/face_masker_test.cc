// Obscuring and tiling, without models.
#include "privacy/face_masker.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/testing.h"
#include "gtest/gtest.h"

namespace custos::privacy {
namespace {

TEST(ObscureRegion, LeavesOnlyTheCellMeansAndTouchesNothingOutside) {
  cv::Mat image(200, 300, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  const cv::Mat before = image.clone();
  const cv::Rect region(50, 40, 100, 120);
  ObscureRegion(image, region, 5);
  // Outside: unchanged.
  cv::Mat mask(image.size(), CV_8U, cv::Scalar(255));
  mask(region).setTo(0);
  cv::Mat diff;
  cv::absdiff(image, before, diff);
  EXPECT_EQ(cv::norm(diff, cv::NORM_INF, mask), 0);
  // Inside the ellipse: smooth, the random texture is gone.
  const cv::Rect inner(region.x + region.width / 4, region.y + region.height / 4, region.width / 2,
                       region.height / 2);
  cv::Mat grey;
  cv::cvtColor(image(inner), grey, cv::COLOR_BGR2GRAY);
  cv::Mat lap;
  cv::Laplacian(grey, lap, CV_32F);
  cv::Scalar mean, sd;
  cv::meanStdDev(lap, mean, sd);
  EXPECT_LT(sd[0], 5);
}

TEST(ObscureRegion, OneCellFillsTheEllipseWithTheRegionsMeanColour) {
  cv::Mat image(100, 100, CV_8UC3, cv::Scalar(10, 20, 30));
  image(cv::Rect(25, 25, 10, 10)).setTo(cv::Scalar(200, 200, 200));
  ObscureRegion(image, cv::Rect(10, 10, 40, 40), 1);
  const cv::Vec3b v = image.at<cv::Vec3b>(30, 30);
  EXPECT_EQ(v, image.at<cv::Vec3b>(20, 40));
  EXPECT_NEAR(v[0], 10 + 190 / 16.0, 1);
  EXPECT_EQ(image.at<cv::Vec3b>(10, 10), cv::Vec3b(10, 20, 30));  // A corner: outside.
}

TEST(ObscureRegion, ClipsARegionReachingOutOfTheImage) {
  cv::Mat image(50, 50, CV_8UC3, cv::Scalar(1, 2, 3));
  ObscureRegion(image, cv::Rect(-20, 30, 100, 100), 4);
  ObscureRegion(image, cv::Rect(60, 60, 10, 10), 4);  // Wholly outside: nothing to do.
  EXPECT_EQ(image.at<cv::Vec3b>(0, 0), cv::Vec3b(1, 2, 3));
}

TEST(ObscureRegion, DefeatsTheFaceDetectorOnAPortrait) {
  // Not the detector itself (that is clip_export_test); here only that an obscured photo
  // keeps nothing of the face's structure: its edges are gone.
  CUSTOS_REQUIRE_DATA(path, testing::SharedData("faces/obama.jpg"));
  cv::Mat image = cv::imread(path);
  ASSERT_FALSE(image.empty());
  ObscureRegion(image, cv::Rect(0, 0, image.cols, image.rows), 5);
  cv::Mat grey, edges;
  cv::cvtColor(image(cv::Rect(image.cols / 4, image.rows / 4, image.cols / 2, image.rows / 2)),
               grey, cv::COLOR_BGR2GRAY);
  cv::Canny(grey, edges, 50, 150);
  EXPECT_EQ(cv::countNonZero(edges), 0);
}

TEST(ObscureRegion, CoversAFaceAtTheImageEdgeAsFullyAsOneInside) {
  // A padded face region reaching out of the top-left corner: the face box's corner pixel
  // (40, 40) is still fully replaced.
  cv::Mat image(200, 200, CV_8UC3, cv::Scalar(0, 0, 0));
  image(cv::Rect(0, 0, 30, 30)).setTo(cv::Scalar(255, 255, 255));
  const cv::Rect region(-41, -41, 102, 102);  // Face box [-20, -20, 60, 60], padding 0.35.
  ObscureRegion(image, region, 1);
  const cv::Vec3b corner = image.at<cv::Vec3b>(38, 38);  // Inside the face box.
  EXPECT_EQ(corner, image.at<cv::Vec3b>(0, 0));
  EXPECT_LT(corner[0], 255);
}

TEST(Tiles, CoverTheFrameWithOverlapAndStayInside) {
  const cv::Size frame(768, 432);
  const std::vector<cv::Rect> tiles = Tiles(frame, 256, 0.25f);
  ASSERT_FALSE(tiles.empty());
  cv::Mat covered(frame, CV_8U, cv::Scalar(0));
  for (const cv::Rect& t : tiles) {
    EXPECT_EQ(t & cv::Rect(cv::Point(), frame), t);
    EXPECT_EQ(t.size(), cv::Size(256, 256));
    covered(t) += 1;
  }
  EXPECT_EQ(cv::countNonZero(covered), frame.area());
  EXPECT_EQ(tiles.size(), 8u);  // 4 columns (0, 192, 384, 512) x 2 rows (0, 176).
}

TEST(Tiles, NoneForSmallFramesOrWhenDisabled) {
  EXPECT_TRUE(Tiles(cv::Size(320, 240), 256, 0.25f).empty());
  EXPECT_TRUE(Tiles(cv::Size(1920, 1080), 0, 0.25f).empty());
  EXPECT_EQ(Tiles(cv::Size(1920, 1080), 256, 0.25f).size(), 10u * 6u);
}

TEST(FaceMasker, RejectsANullDetectorAndBadOptions) {
  EXPECT_EQ(FaceMasker::Create(nullptr, {}).status().code(), absl::StatusCode::kInvalidArgument);
  FaceMaskerOptions o;
  o.score_threshold = 0;
  EXPECT_EQ(ValidateFaceMaskerOptions(o).code(), absl::StatusCode::kInvalidArgument);
  o = {};
  o.cells = 0;
  EXPECT_EQ(ValidateFaceMaskerOptions(o).code(), absl::StatusCode::kInvalidArgument);
  o = {};
  o.tile_size_px = 10;
  EXPECT_EQ(ValidateFaceMaskerOptions(o).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateFaceMaskerOptions({}).ok());
}

}  // namespace
}  // namespace custos::privacy
