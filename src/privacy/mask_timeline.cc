#include "privacy/mask_timeline.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace custos::privacy {

absl::Status ValidateMaskTimelineOptions(const MaskTimelineOptions& options) {
  if (options.hold_after_frames < 0 || options.hold_after_frames > 250) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hold_after_frames must be between 0 and 250, not ", options.hold_after_frames));
  }
  if (options.hold_before_frames < 0 || options.hold_before_frames > 250) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hold_before_frames must be between 0 and 250, not ", options.hold_before_frames));
  }
  if (!(options.padding >= 0 && options.padding <= 4)) {
    return absl::InvalidArgumentError(
        absl::StrCat("padding must be between 0 and 4, not ", options.padding));
  }
  if (!(options.growth_per_frame >= 0 && options.growth_per_frame <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("growth_per_frame must be between 0 and 1, not ", options.growth_per_frame));
  }
  return absl::OkStatus();
}

cv::Rect PaddedRegion(const cv::Rect2f& box, float padding, cv::Size frame_size) {
  const float dx = box.width * padding, dy = box.height * padding;
  const int x0 = static_cast<int>(std::floor(box.x - dx));
  const int y0 = static_cast<int>(std::floor(box.y - dy));
  const int x1 = static_cast<int>(std::ceil(box.x + box.width + dx));
  const int y1 = static_cast<int>(std::ceil(box.y + box.height + dy));
  const cv::Rect region(x0, y0, x1 - x0, y1 - y0);
  if ((region & cv::Rect(0, 0, frame_size.width, frame_size.height)).empty()) return {};
  return region;
}

MaskTimeline::MaskTimeline(const MaskTimelineOptions& options) : options_(options) {}

void MaskTimeline::Add(int64_t frame, const std::vector<cv::Rect2f>& boxes) {
  for (const cv::Rect2f& box : boxes) {
    if (box.width > 0 && box.height > 0) entries_.push_back(Entry{frame, box});
  }
}

std::vector<cv::Rect> MaskTimeline::Regions(int64_t frame, cv::Size frame_size) {
  while (!entries_.empty() && entries_.front().frame < frame - options_.hold_after_frames) {
    entries_.pop_front();
  }
  std::vector<cv::Rect> regions;
  for (const Entry& entry : entries_) {
    if (entry.frame > frame + options_.hold_before_frames) break;
    const auto distance = static_cast<float>(std::llabs(entry.frame - frame));
    const cv::Rect region = PaddedRegion(
        entry.box, options_.padding + options_.growth_per_frame * distance, frame_size);
    if (!region.empty()) regions.push_back(region);
  }
  return regions;
}

}  // namespace custos::privacy
