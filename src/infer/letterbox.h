// Fitting an image of any size into a detector's fixed input without distorting it.
#pragma once

#include <opencv2/core/mat.hpp>

namespace custos::infer {

// Scales `image` (8-bit BGR) by the largest factor that fits `canvas` (8-bit BGR, the model's
// input size, possibly wrapping a tensor's memory), places it at the top-left and fills the
// rest with `pad`. Returns the scale factor: model pixels = image pixels * scale.
// REQUIRES: neither image is empty; both are CV_8UC3.
float Letterbox(const cv::Mat& image, const cv::Scalar& pad, cv::Mat& canvas);

}  // namespace custos::infer
