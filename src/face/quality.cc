#include "face/quality.h"

#include <cmath>
#include <opencv2/imgproc.hpp>

namespace custos::face {

FaceQuality AssessGeometry(const FaceBox& face, const QualityOptions& options) {
  FaceQuality q;
  q.size_px = face.box.width;
  const cv::Point2f re = face.keypoints[kRightEye], le = face.keypoints[kLeftEye];
  const cv::Point2f mid = (re + le) * 0.5f;
  const cv::Point2f axis = le - re;
  const float eye_dist = std::hypot(axis.x, axis.y);
  if (eye_dist <= 0 || face.box.width <= 0) {
    q.reason = "turned away";
    return q;
  }
  const cv::Point2f ux = axis / eye_dist, uy(-ux.y, ux.x);
  const cv::Point2f nose = face.keypoints[kNoseTip] - mid;
  const cv::Point2f mouth = face.keypoints[kMouth] - mid;
  q.yaw = nose.dot(ux) / eye_dist;
  const float mouth_down = mouth.dot(uy);
  q.pitch = mouth_down > 0 ? nose.dot(uy) / mouth_down : 9.0f;
  const float eye_ratio = eye_dist / face.box.width;
  if (q.size_px < options.min_face_px) {
    q.reason = "too small";
  } else if (face.score < options.min_detector_score) {
    q.reason = "not clearly a face";
  } else if (std::abs(q.yaw) > options.max_yaw || q.pitch < options.min_pitch ||
             q.pitch > options.max_pitch || eye_ratio < options.min_eye_ratio) {
    q.reason = "turned away";
  } else {
    q.passed = true;
  }
  return q;
}

void AssessSharpness(const cv::Mat& chip, const QualityOptions& options, FaceQuality& quality) {
  cv::Mat grey, lap;
  cv::cvtColor(chip, grey, cv::COLOR_BGR2GRAY);
  cv::Laplacian(grey, lap, CV_32F);
  cv::Scalar mean, sd;
  cv::meanStdDev(lap, mean, sd);
  quality.sharpness = static_cast<float>(sd[0] * sd[0]);
  if (quality.passed && quality.sharpness < options.min_sharpness) {
    quality.passed = false;
    quality.reason = "blurred";
  }
}

}  // namespace custos::face
