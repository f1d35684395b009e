#include "infer/letterbox.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace custos::infer {

float Letterbox(const cv::Mat& image, const cv::Scalar& pad, cv::Mat& canvas) {
  const int w = canvas.cols, h = canvas.rows;
  const float scale = std::min(static_cast<float>(w) / static_cast<float>(image.cols),
                               static_cast<float>(h) / static_cast<float>(image.rows));
  const cv::Rect inside(
      0, 0, std::clamp(static_cast<int>(std::lround(static_cast<float>(image.cols) * scale)), 1, w),
      std::clamp(static_cast<int>(std::lround(static_cast<float>(image.rows) * scale)), 1, h));
  // Only the padding is filled: the image part is written once, by the resize.
  if (inside.width < w) canvas(cv::Rect(inside.width, 0, w - inside.width, h)).setTo(pad);
  if (inside.height < h) {
    canvas(cv::Rect(0, inside.height, inside.width, h - inside.height)).setTo(pad);
  }
  cv::Mat roi = canvas(inside);
  if (inside.size() == image.size()) {
    image.copyTo(roi);
  } else {
    cv::resize(image, roi, roi.size(), 0, 0, cv::INTER_LINEAR);
  }
  return scale;
}

}  // namespace custos::infer
