#include "motion/motion_detector.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace custos::motion {
namespace {

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("motion options: ", message));
}

absl::Status Validate(const MotionOptions& o) {
  if (o.frame_height_px < 16 || o.frame_height_px > 1080) {
    return Invalid(absl::StrCat("frame_height_px must be in [16, 1080], got ", o.frame_height_px));
  }
  if (o.blur_kernel_px < 1 || o.blur_kernel_px > 31 || o.blur_kernel_px % 2 == 0) {
    return Invalid(
        absl::StrCat("blur_kernel_px must be odd and in [1, 31], got ", o.blur_kernel_px));
  }
  if (o.diff_threshold < 1 || o.diff_threshold > 254) {
    return Invalid(absl::StrCat("diff_threshold must be in [1, 254], got ", o.diff_threshold));
  }
  if (!(o.learning_rate > 0 && o.learning_rate <= 1)) {
    return Invalid(absl::StrCat("learning_rate must be in (0, 1], got ", o.learning_rate));
  }
  if (o.dilate_iterations < 0 || o.dilate_iterations > 10) {
    return Invalid(absl::StrCat("dilate_iterations must be in [0, 10], got ", o.dilate_iterations));
  }
  if (!(o.min_contour_area_px >= 0) || !std::isfinite(o.min_contour_area_px)) {
    return Invalid(absl::StrCat("min_contour_area_px must be >= 0, got ", o.min_contour_area_px));
  }
  if (o.min_live_change_px < 1) {
    return Invalid(absl::StrCat("min_live_change_px must be >= 1, got ", o.min_live_change_px));
  }
  if (!(o.light_change_fraction > 0 && o.light_change_fraction <= 1)) {
    return Invalid(
        absl::StrCat("light_change_fraction must be in (0, 1], got ", o.light_change_fraction));
  }
  if (!(o.settled_fraction >= 0 && o.settled_fraction < o.light_change_fraction)) {
    return Invalid(absl::StrCat("settled_fraction must be in [0, light_change_fraction), got ",
                                o.settled_fraction));
  }
  for (size_t i = 0; i < o.masks.size(); ++i) {
    const Polygon& polygon = o.masks[i];
    if (polygon.size() < 3) {
      return Invalid(absl::StrCat("masks[", i, "] needs at least 3 points, has ", polygon.size()));
    }
    for (const PointF& p : polygon) {
      if (!(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1)) {
        return Invalid(absl::StrCat("masks[", i, "] has point (", p.x, ", ", p.y,
                                    ") outside [0, 1]: mask points are fractions of the frame "
                                    "size"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MotionDetector>> MotionDetector::Create(
    const MotionOptions& options) {
  if (absl::Status status = Validate(options); !status.ok()) return status;
  return std::unique_ptr<MotionDetector>(new MotionDetector(options));
}

void MotionDetector::Reset() {
  background_.release();
  previous_.release();
  small_size_ = cv::Size();
  calibrating_ = false;
}

void MotionDetector::Resize(cv::Size small_size) {
  small_size_ = small_size;
  background_.release();
  previous_.release();
  calibrating_ = false;
  ignore_mask_.release();
  unmasked_px_ = small_size.area();
  if (options_.masks.empty()) return;
  ignore_mask_ = cv::Mat::zeros(small_size, CV_8UC1);
  std::vector<std::vector<cv::Point>> polygons;
  for (const Polygon& polygon : options_.masks) {
    std::vector<cv::Point>& points = polygons.emplace_back();
    for (const PointF& p : polygon) {
      points.emplace_back(
          static_cast<int>(std::lround(p.x * static_cast<float>(small_size.width))),
          static_cast<int>(std::lround(p.y * static_cast<float>(small_size.height))));
    }
  }
  cv::fillPoly(ignore_mask_, polygons, cv::Scalar(255));
  unmasked_px_ = small_size.area() - cv::countNonZero(ignore_mask_);
}

bool MotionDetector::HasLiveChange(const std::vector<cv::Point>& contour, const cv::Rect& rect) {
  const cv::Mat live = live_(rect);
  if (cv::countNonZero(live) < options_.min_live_change_px) return false;
  // The bounding rectangle may hold another object's change: count inside the contour only.
  contour_mask_.create(rect.size(), CV_8UC1);
  contour_mask_.setTo(0);
  cv::drawContours(contour_mask_, std::vector<std::vector<cv::Point>>{contour}, 0, cv::Scalar(255),
                   cv::FILLED, cv::LINE_8, cv::noArray(), INT_MAX, -rect.tl());
  cv::bitwise_and(contour_mask_, live, contour_mask_);
  return cv::countNonZero(contour_mask_) >= options_.min_live_change_px;
}

MotionResult MotionDetector::Process(const cv::Mat& frame) {
  MotionResult result;
  if (frame.empty() || frame.depth() != CV_8U ||
      (frame.channels() != 1 && frame.channels() != 3 && frame.channels() != 4)) {
    return result;
  }
  const int small_h = std::min(options_.frame_height_px, frame.rows);
  const int small_w = std::max(
      1, static_cast<int>(std::lround(static_cast<double>(frame.cols) * small_h / frame.rows)));
  if (cv::Size(small_w, small_h) != small_size_) Resize(cv::Size(small_w, small_h));

  // Grey first, then shrink: one channel to resample instead of three. INTER_AREA averages,
  // which is itself a noise filter.
  if (frame.channels() == 1) {
    grey_ = frame;
  } else {
    cv::cvtColor(frame, grey_, frame.channels() == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
  }
  if (grey_.size() == small_size_) {
    grey_.copyTo(small_);
  } else {
    cv::resize(grey_, small_, small_size_, 0, 0, cv::INTER_AREA);
  }
  if (options_.blur_kernel_px > 1) {
    cv::GaussianBlur(small_, small_, cv::Size(options_.blur_kernel_px, options_.blur_kernel_px), 0);
  }

  if (background_.empty()) {
    small_.convertTo(background_, CV_32F);
    small_.copyTo(previous_);
    result.mask = cv::Mat::zeros(small_size_, CV_8UC1);
    return result;
  }
  // Whatever the outcome below, this frame is the next one's "previous".
  struct SavePrevious {
    cv::Mat& from;
    cv::Mat& to;
    ~SavePrevious() { from.copyTo(to); }
  } save_previous{small_, previous_};

  background_.convertTo(background8_, CV_8U);
  cv::absdiff(small_, background8_, diff_);
  cv::threshold(diff_, changed_, options_.diff_threshold, 255, cv::THRESH_BINARY);
  if (!ignore_mask_.empty()) changed_.setTo(0, ignore_mask_);
  result.changed_fraction =
      unmasked_px_ > 0 ? static_cast<double>(cv::countNonZero(changed_)) / unmasked_px_ : 0.0;

  // While recalibrating the background is the previous frame, so the changed fraction is the
  // frame-to-frame change: once that is small the scene has settled.
  if (calibrating_ && result.changed_fraction < options_.settled_fraction) calibrating_ = false;
  if (result.changed_fraction > options_.light_change_fraction) calibrating_ = true;
  if (calibrating_) {
    result.light_change = true;
    result.mask = cv::Mat::zeros(small_size_, CV_8UC1);
    small_.convertTo(background_, CV_32F);
    return result;
  }

  cv::Mat dilated;
  if (options_.dilate_iterations > 0) {
    cv::dilate(changed_, dilated, cv::Mat(), cv::Point(-1, -1), options_.dilate_iterations);
    if (!ignore_mask_.empty()) dilated.setTo(0, ignore_mask_);
  } else {
    dilated = changed_.clone();
  }

  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(dilated, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  const auto frame_w = static_cast<float>(frame.cols);
  const auto frame_h = static_cast<float>(frame.rows);
  const float sx = frame_w / static_cast<float>(small_size_.width);
  const float sy = frame_h / static_cast<float>(small_size_.height);
  if (options_.require_live_change) {
    cv::absdiff(small_, previous_, live_);
    cv::threshold(live_, live_, options_.diff_threshold, 255, cv::THRESH_BINARY);
  }
  for (const std::vector<cv::Point>& contour : contours) {
    const cv::Rect r = cv::boundingRect(contour);
    const bool keep = cv::contourArea(contour) >= options_.min_contour_area_px &&
                      (!options_.require_live_change || HasLiveChange(contour, r));
    if (!keep) {
      cv::drawContours(dilated, std::vector<std::vector<cv::Point>>{contour}, 0, cv::Scalar(0),
                       cv::FILLED);
      continue;
    }
    // Scaled edges, clamped: float rounding must not put a box outside the frame.
    const float x0 = static_cast<float>(r.x) * sx;
    const float y0 = static_cast<float>(r.y) * sy;
    const float x1 = std::min(static_cast<float>(r.x + r.width) * sx, frame_w);
    const float y1 = std::min(static_cast<float>(r.y + r.height) * sy, frame_h);
    result.boxes.push_back(BoxF{x0, y0, x1 - x0, y1 - y0});
  }
  result.mask = std::move(dilated);

  cv::accumulateWeighted(small_, background_, options_.learning_rate);
  return result;
}

}  // namespace custos::motion
