#include "privacy/plate_masker.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "privacy/face_masker.h"

namespace custos::privacy {
namespace {

float Distance(const cv::Point2f& a, const cv::Point2f& b) {
  return static_cast<float>(cv::norm(a - b));
}

// Length (longer side) and height (shorter side) of a line's rotated box.
std::pair<float, float> LengthAndHeight(const plate::TextBox& line) {
  const auto& c = line.corners;
  const float across = std::max(Distance(c[0], c[1]), Distance(c[3], c[2]));
  const float down = std::max(Distance(c[0], c[3]), Distance(c[1], c[2]));
  return {std::max(across, down), std::min(across, down)};
}

absl::Status OutOfRange(const char* field, double low, double high, double value) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be between ", low, " and ", high, ", not ", value));
}

}  // namespace

absl::Status ValidatePlateMaskerOptions(const PlateMaskerOptions& o) {
  if (o.sample_interval_ms < 0 || o.sample_interval_ms > 1000) {
    return OutOfRange("sample_interval_ms", 0, 1000, o.sample_interval_ms);
  }
  if (!(o.min_aspect >= 1 && o.min_aspect <= 10)) {
    return OutOfRange("min_aspect", 1, 10, o.min_aspect);
  }
  if (!(o.max_aspect >= o.min_aspect && o.max_aspect <= 100)) {
    return OutOfRange("max_aspect", o.min_aspect, 100, o.max_aspect);
  }
  if (!(o.max_height > 0 && o.max_height <= 1)) {
    return OutOfRange("max_height", 0, 1, o.max_height);
  }
  if (!(o.plate_margin >= 0 && o.plate_margin <= 4)) {
    return OutOfRange("plate_margin", 0, 4, o.plate_margin);
  }
  if (o.cells < 1 || o.cells > 16) return OutOfRange("cells", 1, 16, o.cells);
  if (o.hold_after_samples < 1 || o.hold_after_samples > 4) {
    return OutOfRange("hold_after_samples", 1, 4, o.hold_after_samples);
  }
  if (o.hold_before_samples < 1 || o.hold_before_samples > 4) {
    return OutOfRange("hold_before_samples", 1, 4, o.hold_before_samples);
  }
  if (!(o.padding >= 0 && o.padding <= 4)) return OutOfRange("padding", 0, 4, o.padding);
  if (!(o.growth_per_sample >= 0 && o.growth_per_sample <= 4)) {
    return OutOfRange("growth_per_sample", 0, 4, o.growth_per_sample);
  }
  return absl::OkStatus();
}

int SampleEvery(const PlateMaskerOptions& options, double fps) {
  constexpr int kMost = 62;  // 4 samples of hold stay within MaskTimeline's 250 frames.
  if (!(fps > 0)) return 1;
  const double frames = std::round(static_cast<double>(options.sample_interval_ms) * fps / 1000);
  return static_cast<int>(std::clamp(frames, 1.0, static_cast<double>(kMost)));
}

MaskTimelineOptions PlateTimelineOptions(const PlateMaskerOptions& options, int sample_every) {
  MaskTimelineOptions t;
  t.hold_after_frames = options.hold_after_samples * sample_every;
  t.hold_before_frames = options.hold_before_samples * sample_every;
  t.padding = options.padding;
  t.growth_per_frame = options.growth_per_sample / static_cast<float>(sample_every);
  return t;
}

bool IsPlateLike(const plate::TextBox& line, cv::Size frame_size,
                 const PlateMaskerOptions& options) {
  const auto [length, height] = LengthAndHeight(line);
  if (height <= 0 || frame_size.height <= 0) return false;
  const float aspect = length / height;
  return aspect >= options.min_aspect && aspect <= options.max_aspect &&
         height <= options.max_height * static_cast<float>(frame_size.height);
}

cv::Rect2f PlateBox(const plate::TextBox& line, const PlateMaskerOptions& options) {
  const float margin = LengthAndHeight(line).second * options.plate_margin;
  const cv::Rect2f b = line.Bounds();
  return {b.x - margin, b.y - margin, b.width + 2 * margin, b.height + 2 * margin};
}

PlateMasker::PlateMasker(plate::TextDetector* detector, const PlateMaskerOptions& options,
                         int sample_every)
    : detector_(detector),
      options_(options),
      sample_every_(sample_every),
      timeline_(PlateTimelineOptions(options, sample_every)) {}

absl::StatusOr<std::unique_ptr<PlateMasker>> PlateMasker::Create(plate::TextDetector* detector,
                                                                 const PlateMaskerOptions& options,
                                                                 double fps) {
  if (detector == nullptr) {
    return absl::InvalidArgumentError("plate masking needs a text detector");
  }
  CUSTOS_RETURN_IF_ERROR(ValidatePlateMaskerOptions(options));
  return std::unique_ptr<PlateMasker>(
      new PlateMasker(detector, options, SampleEvery(options, fps)));
}

absl::StatusOr<std::vector<cv::Rect2f>> PlateMasker::Detect(const cv::Mat& bgr) const {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return absl::InvalidArgumentError("plate masking needs a non-empty 8-bit BGR image");
  }
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<plate::TextBox> lines, detector_->Detect(bgr));
  std::vector<cv::Rect2f> plates;
  for (const plate::TextBox& line : lines) {
    if (IsPlateLike(line, bgr.size(), options_)) plates.push_back(PlateBox(line, options_));
  }
  return plates;
}

absl::StatusOr<PlateMaskStats> PlateMasker::MaskInPlace(cv::Mat& bgr) {
  const int64_t frame = next_frame_++;
  PlateMaskStats stats;
  if (Sampled(frame)) {
    CUSTOS_ASSIGN_OR_RETURN(const std::vector<cv::Rect2f> plates, OrBlackOut(Detect(bgr), bgr));
    timeline_.Add(frame, plates);
    stats.sampled = true;
    stats.plates_detected = static_cast<int>(plates.size());
  }
  stats.regions_obscured = ObscureHeld(timeline_, frame, bgr, options_.cells);
  return stats;
}

absl::StatusOr<int> PlateMasker::MaskStill(cv::Mat& bgr) const {
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<cv::Rect2f> plates, OrBlackOut(Detect(bgr), bgr));
  return ObscureBoxes(bgr, plates, timeline_.options().padding, options_.cells);
}

void PlateMasker::Reset() {
  timeline_.Reset();
  next_frame_ = 0;
}

}  // namespace custos::privacy
