// Licence-plate masking for exported video and live view (DESIGN.md §1.5, "plates,
// configurable"): text lines found by the shared PP-OCR DB text detector (plate::TextDetector,
// docs/plates.md) that have a plate's geometry are obscured like faces, through the same
// MaskTimeline and ObscureRegion. The detector costs ~100 ms per 1280 px frame, so it runs on
// sampled frames only, one per sample_interval_ms of video; the timeline holds each plate for
// the frames in between and grows its region for the plate's movement. See docs/privacy.md.
#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "plate/text_detector.h"
#include "privacy/mask_timeline.h"

namespace custos::privacy {

struct PlateMaskerOptions {
  // The text detector runs on the first frame of a stream and then on one frame per this
  // much video (every SampleEvery(fps)-th frame: 5 at 25 fps, 2 at 10 fps, every frame of the
  // live view's 5 fps detect stream); the frames in between are covered by the hold below.
  // 0: every frame. 0-1000. Default measured (docs/privacy.md).
  int sample_interval_ms = 200;

  // Which text lines are plates (IsPlateLike). Lengths are those of the line's rotated box:
  // its longer side is the line's length, its shorter side its height. Over-masking a sign
  // is acceptable, missing a plate is not, so the limits are wide (measured on the 222 US road
  // photos, docs/privacy.md).
  // Length / height at least this: a line of two or more characters. Single characters and
  // square blobs (logos, wheels) are not masked.
  float min_aspect = 1.3f;
  // Length / height at most this: longer lines are a camera's date overlay or a sign's
  // sentence, which exports keep (the overlay is evidence).
  float max_aspect = 12;
  // Height at most this fraction of the frame's height: taller text is a sign or a poster.
  float max_height = 0.25f;

  // A line box covers the characters; a plate is about twice as tall and a little wider, with
  // a frame, a state name or a country code around them. The line's box is grown by this many
  // line heights on every side before padding (PlateBox).
  float plate_margin = 0.5f;

  // Obscuring (ObscureRegion), as for faces: at most this many cells along the region's longer
  // side. A plate spans about 3 of the 5 cells: no character survives.
  int cells = 5;

  // Temporal hold, counted in samples so that it follows the frame rate: a plate's region is
  // obscured for hold_after_samples sample intervals after it was detected and (exports, with
  // look-ahead) hold_before_samples before. 2 and 1 bridge one sample in which the detector
  // missed the plate. 1-4 each.
  int hold_after_samples = 2;
  int hold_before_samples = 1;
  // Margin around the plate box, as a fraction of its width and height. The obscured ellipse
  // covers the box's corners from 0.33 on.
  float padding = 0.35f;
  // Extra margin per sample interval of distance from the detection (spread evenly over its
  // frames), as a fraction of the plate box's width and height, for the plate's movement in
  // between. 0-4. At 0.5 it covers a plate moving 0.54 plate boxes per interval across
  // without look-ahead (live view), 1.6 with it (exports): plate_masker_test.cc.
  float growth_per_sample = 0.5f;
};

// kInvalidArgument naming the field when an option is out of range.
absl::Status ValidatePlateMaskerOptions(const PlateMaskerOptions& options);

// Frames from one sample to the next in a stream of `fps` frames per second:
// sample_interval_ms of it, rounded, at least 1 (every frame when fps is unknown, <= 0) and at
// most 62, so that the holds stay within MaskTimeline's 250 frames.
int SampleEvery(const PlateMaskerOptions& options, double fps);

// The MaskTimeline options for sampling every `sample_every` frames: holds in frames (samples
// times sample_every), padding, growth per frame (growth_per_sample / sample_every).
// REQUIRES: ValidatePlateMaskerOptions(options).ok(), sample_every in [1, 62].
MaskTimelineOptions PlateTimelineOptions(const PlateMaskerOptions& options, int sample_every);

// Whether text line `line` of a `frame_size` image has a plate's geometry (the rule above).
bool IsPlateLike(const plate::TextBox& line, cv::Size frame_size,
                 const PlateMaskerOptions& options);

// The plate around text line `line`: the line's upright bounds grown by plate_margin times
// the line's height on every side (not clipped).
cv::Rect2f PlateBox(const plate::TextBox& line, const PlateMaskerOptions& options);

// What PlateMasker::MaskInPlace did to one frame.
struct PlateMaskStats {
  bool sampled = false;      // The detector ran on this frame.
  int plates_detected = 0;   // Plate-like lines found in this frame (0 when not sampled).
  int regions_obscured = 0;  // Regions obscured (detections of this and earlier samples).
};

// One video stream's plate masking.
//
// Thread safety: Detect() is thread-safe (the detector is: one inference at a time);
// MaskInPlace() and Reset() keep the stream's timeline and are thread-compatible: one
// PlateMasker per stream, while many maskers share one detector.
class PlateMasker {
 public:
  // `detector` is not owned and must outlive the masker; `fps` is the stream's frame rate
  // (<= 0 if unknown: every frame is sampled). kInvalidArgument for bad options or a null
  // detector.
  static absl::StatusOr<std::unique_ptr<PlateMasker>> Create(plate::TextDetector* detector,
                                                             const PlateMaskerOptions& options,
                                                             double fps);

  // Plate boxes (PlateBox of every plate-like line) of `bgr`: one detector call.
  // kInvalidArgument for an empty or non-BGR image; kInternal if inference fails.
  absl::StatusOr<std::vector<cv::Rect2f>> Detect(const cv::Mat& bgr) const;

  // Whether frame `index` of a stream (0 = its first) is one the detector runs on.
  bool Sampled(int64_t index) const { return index % sample_every_ == 0; }
  int sample_every() const { return sample_every_; }
  // The timeline's options: the holds and growth in frames of this stream.
  const MaskTimelineOptions& timeline_options() const { return timeline_.options(); }

  // Live view: on a sampled frame detects plates in `bgr`, the stream's next frame; on every
  // frame obscures the regions held from the detections of the last hold_after frames (no
  // look-ahead). Codes as Detect(); on error the frame is blacked out rather than shown.
  absl::StatusOr<PlateMaskStats> MaskInPlace(cv::Mat& bgr);

  // A single picture (an event snapshot): detects plates as Detect() and obscures each, padded
  // as the timeline pads. Returns how many. Codes as Detect(); on error the picture is
  // blacked out.
  absl::StatusOr<int> MaskStill(cv::Mat& bgr) const;

  // Forgets the held regions and starts sampling again with the next frame (a new stream, a
  // seek, or a live view resumed after a pause).
  void Reset();

  const PlateMaskerOptions& options() const { return options_; }

 private:
  PlateMasker(plate::TextDetector* detector, const PlateMaskerOptions& options, int sample_every);

  plate::TextDetector* const detector_;
  const PlateMaskerOptions options_;
  const int sample_every_;
  MaskTimeline timeline_;
  int64_t next_frame_ = 0;
};

}  // namespace custos::privacy
