// Temporal safety for face masking: which regions of a frame to obscure, given the faces
// detected in that frame and its neighbours. Detections flicker (a face turning away, motion
// blur, a hand in front), so a face's region stays obscured for some frames after it was last
// seen and, where the caller can look ahead (exports), for some frames before it was first
// seen. The further a frame is from the detection, the larger the region, as the face may
// have moved. Pure logic, no models: see mask_timeline_test.cc.
#pragma once

#include <cstdint>
#include <deque>
#include <opencv2/core/types.hpp>
#include <vector>

#include "absl/status/status.h"

namespace custos::privacy {

struct MaskTimelineOptions {
  // Frames after a detection in which its region is still obscured. At 10-25 fps, 10 frames
  // cover 0.4-1 s of a face the detector lost (measured on the person video: most gaps in
  // the detections of one head are 1-4 frames; docs/privacy.md).
  int hold_after_frames = 10;
  // Frames before a detection in which its region is already obscured. Needs look-ahead: an
  // export delays its output by this many frames; live view (no look-ahead) gets 0 in effect.
  int hold_before_frames = 5;
  // Margin added on every side of a detected box, as a fraction of the box's width and
  // height: the detector's box is tight around eyes, nose and mouth, leaving the forehead,
  // ears, chin and hair line visible without it.
  float padding = 0.35f;
  // Extra margin per frame of distance from the detection, as a fraction of the box's size,
  // for the face's movement in between.
  float growth_per_frame = 0.05f;
};

// Checks ranges: holds 0-250 frames, padding 0-4, growth 0-1. kInvalidArgument naming the
// field otherwise.
absl::Status ValidateMaskTimelineOptions(const MaskTimelineOptions& options);

// Collects the face boxes of consecutive frames and answers which regions to obscure in each.
// Frames are numbered by the caller, in increasing order (not necessarily contiguous).
// Thread-compatible (one per video stream).
class MaskTimeline {
 public:
  // REQUIRES: ValidateMaskTimelineOptions(options).ok().
  explicit MaskTimeline(const MaskTimelineOptions& options);

  // Records the detected face boxes (frame pixels, unpadded) of frame `frame`.
  // REQUIRES: `frame` greater than the frame of the previous call.
  void Add(int64_t frame, const std::vector<cv::Rect2f>& boxes);

  // Regions (padded, grown with the distance; possibly overlapping, and reaching out of
  // `frame_size` where the face is at the edge: ObscureRegion clips them, keeping the shape
  // centred on the face) to obscure in frame `frame`: those of every detection recorded in frames
  // [frame - hold_after_frames, frame + hold_before_frames]. Detections not yet recorded
  // (frames after the last Add) cannot count, so call it for frame N only after adding frame
  // N + hold_before_frames when look-ahead is wanted. Forgets detections older than
  // frame - hold_after_frames: call it with non-decreasing frames.
  std::vector<cv::Rect> Regions(int64_t frame, cv::Size frame_size);

  // Forgets everything (a new stream, or a seek).
  void Reset() { entries_.clear(); }

  const MaskTimelineOptions& options() const { return options_; }

 private:
  struct Entry {
    int64_t frame = 0;
    cv::Rect2f box;
  };
  const MaskTimelineOptions options_;
  std::deque<Entry> entries_;  // By frame.
};

// `box` with a margin of `padding` times its width and height on each side, rounded
// outwards to whole pixels; not clipped, but empty if it misses `frame_size` altogether.
cv::Rect PaddedRegion(const cv::Rect2f& box, float padding, cv::Size frame_size);

}  // namespace custos::privacy
