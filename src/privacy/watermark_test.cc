#include "privacy/watermark.h"

#include <opencv2/core.hpp>

#include "gtest/gtest.h"

namespace custos::privacy {
namespace {

TEST(Watermark, FormatsUtcAndClipTimes) {
  EXPECT_EQ(FormatFrameTime(1'700'000'000'123, true), "2023-11-14 22:13:20.123 UTC");
  EXPECT_EQ(FormatFrameTime(3'723'400, false), "+01:02:03.400");
  EXPECT_EQ(FormatFrameTime(0, false), "+00:00:00.000");
}

TEST(Watermark, AcceptsUlidsAndRejectsIdsThatCannotBeDrawn) {
  EXPECT_TRUE(ValidateExportId("01HF3Z9Y5N0000000000000000").ok());
  EXPECT_TRUE(ValidateExportId("case-42_export.1").ok());
  EXPECT_EQ(ValidateExportId("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateExportId("a b").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateExportId("\xc3\xa9").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateExportId(std::string(65, 'a')).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Watermark, SaysWhetherFacesWereBlurred) {
  EXPECT_EQ(WatermarkLines("X1", "t", true),
            (std::vector<std::string>{"CUSTOS EXPORT X1", "t", "FACES BLURRED"}));
  EXPECT_EQ(WatermarkLines("X1", "t", false).back(), "UNBLURRED - APPROVED EXPORT");
  EXPECT_EQ(WatermarkLines("X1", "t", true, true).back(), "FACES AND PLATES BLURRED");
  EXPECT_EQ(WatermarkLines("X1", "t", false, true).back(), "UNBLURRED - APPROVED EXPORT");
}

TEST(Watermark, IsDrawnInTheTopLeftCornerOnlyAndChangesItVisibly) {
  for (const cv::Size size : {cv::Size(320, 240), cv::Size(768, 432), cv::Size(1920, 1080)}) {
    cv::Mat frame(size, CV_8UC3, cv::Scalar(128, 128, 128));
    const cv::Rect band = DrawWatermark(
        frame, WatermarkLines("01HF3Z9Y5N0000000000000000", "2023-11-14 22:13:20.123 UTC", true));
    ASSERT_FALSE(band.empty()) << size.width;
    EXPECT_LT(band.x + band.width, size.width) << size.width;  // The whole text fits.
    EXPECT_LT(band.height, size.height / 4) << size.width;
    cv::Mat outside = frame.clone();
    outside(band).setTo(cv::Scalar(128, 128, 128));
    const cv::Mat grey(size, CV_8UC3, cv::Scalar(128, 128, 128));
    EXPECT_EQ(cv::norm(outside, grey, cv::NORM_INF), 0) << size.width;
    // White text on a darkened band: both extremes present.
    double lo, hi;
    cv::minMaxLoc(frame(band).reshape(1), &lo, &hi);
    EXPECT_LT(lo, 60) << size.width;
    EXPECT_GT(hi, 200) << size.width;
  }
}

}  // namespace
}  // namespace custos::privacy
