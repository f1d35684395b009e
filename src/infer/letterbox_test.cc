#include "infer/letterbox.h"

#include <opencv2/core.hpp>
#include <vector>

#include "gtest/gtest.h"

namespace custos::infer {
namespace {

TEST(Letterbox, WideImagesFillTheWidthAndPadBelow) {
  cv::Mat image(100, 200, CV_8UC3, cv::Scalar(10, 20, 30));
  cv::Mat canvas(64, 64, CV_8UC3, cv::Scalar(255, 255, 255));
  const float scale = Letterbox(image, cv::Scalar(1, 2, 3), canvas);
  EXPECT_FLOAT_EQ(scale, 0.32f);
  EXPECT_EQ(canvas.at<cv::Vec3b>(0, 63), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(canvas.at<cv::Vec3b>(31, 0), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(canvas.at<cv::Vec3b>(32, 0), cv::Vec3b(1, 2, 3));
  EXPECT_EQ(canvas.at<cv::Vec3b>(63, 63), cv::Vec3b(1, 2, 3));
}

TEST(Letterbox, TallImagesFillTheHeightAndPadRight) {
  cv::Mat image(300, 100, CV_8UC3, cv::Scalar(50, 60, 70));
  cv::Mat canvas(30, 30, CV_8UC3, cv::Scalar(255, 255, 255));
  const float scale = Letterbox(image, cv::Scalar(0, 0, 0), canvas);
  EXPECT_FLOAT_EQ(scale, 0.1f);
  EXPECT_EQ(canvas.at<cv::Vec3b>(29, 9), cv::Vec3b(50, 60, 70));
  EXPECT_EQ(canvas.at<cv::Vec3b>(0, 10), cv::Vec3b(0, 0, 0));
}

TEST(Letterbox, AnImageOfTheCanvasSizeIsCopiedUnchanged) {
  cv::Mat image(16, 16, CV_8UC3);
  cv::randu(image, 0, 255);
  cv::Mat canvas(16, 16, CV_8UC3, cv::Scalar(0, 0, 0));
  EXPECT_FLOAT_EQ(Letterbox(image, cv::Scalar(9, 9, 9), canvas), 1.0f);
  EXPECT_EQ(cv::norm(image, canvas, cv::NORM_INF), 0);
}

TEST(Letterbox, WritesIntoBorrowedMemory) {
  std::vector<uint8_t> tensor(8 * 8 * 3, 0);
  cv::Mat canvas(8, 8, CV_8UC3, tensor.data());
  cv::Mat image(4, 8, CV_8UC3, cv::Scalar(7, 7, 7));
  Letterbox(image, cv::Scalar(1, 1, 1), canvas);
  EXPECT_EQ(tensor[0], 7);
  EXPECT_EQ(tensor.back(), 1);
}

}  // namespace
}  // namespace custos::infer
