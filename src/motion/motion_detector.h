// Motion detection by differencing each frame against a running-average background on a
// small blurred grey copy of the frame, after Frigate's "improved" motion detector. Motion
// gates detection: the detector runs only on regions around motion (src/detect), so this is
// the one stage that sees every decoded frame and must stay cheap (well under 1 ms at
// 640x360). See docs/motion.md for what each option does and why the defaults are what they
// are.
#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/geometry.h"

namespace custos::motion {

struct MotionOptions {
  // Height in pixels of the grey image motion is computed on; its width follows the frame's
  // aspect ratio (320x180 for a 16:9 frame). Smaller is faster and less sensitive to noise;
  // 180 px still shows a person 1/20 of the frame tall as a 9 px blob. Frames lower than this
  // are used at their own size. Range [16, 1080].
  int frame_height_px = 180;
  // Side of the Gaussian blur kernel in small-image pixels (odd; 1 disables the blur). Blurring
  // removes sensor noise and compression blocks before differencing.
  int blur_kernel_px = 5;
  // Grey-level difference (0-255) from the background above which a pixel counts as changed.
  // 30 ignores noise and soft shadows, but not a person on a similar-coloured background.
  int diff_threshold = 30;
  // Weight of each new frame in the running-average background (cv::accumulateWeighted).
  // 0.02 absorbs a change (a parked car, a moved chair) in about 1/0.02 = 50 frames, 10 s at
  // 5 fps, while a walking person leaves only a faint trace. Range (0, 1].
  double learning_rate = 0.02;
  // Dilation passes (3x3) over the changed pixels, joining the pieces of one moving object
  // (head, torso, legs) into one contour. Range [0, 10].
  int dilate_iterations = 2;
  // Contours smaller than this area, in small-image pixels, are ignored (insects, rain,
  // flicker). 30 px at 180 px height is about 0.05% of the frame. >= 0.
  double min_contour_area_px = 30;
  // When more than this fraction of the (unmasked) image changes at once, the change is taken
  // as a lighting change (lights switched, IR mode, auto exposure, a PTZ move) and not as
  // motion: no boxes are reported and the background is recalibrated. Range (0, 1].
  double light_change_fraction = 0.6;
  // Recalibration after a lighting change ends on the first frame whose changed fraction,
  // measured against the previous frame, is below this. Range [0, light_change_fraction).
  double settled_fraction = 0.05;
  // Report a changed area only if some of it (at least min_live_change_px small-image pixels)
  // also changed since the previous frame. This drops "ghosts" (after a long-stationary object
  // leaves, the background still holds it for a while) and objects that have stopped, which
  // the tracker re-checks on its own schedule. false gives Frigate's behaviour.
  bool require_live_change = true;
  // See require_live_change. >= 1.
  int min_live_change_px = 4;
  // Areas where motion is ignored (trees, a clock, a busy road outside the area of
  // interest): polygons of at least 3 points in normalised coordinates, (0,0) the frame's
  // top-left and (1,1) its bottom-right.
  std::vector<Polygon> masks;
};

struct MotionResult {
  // Bounding boxes of the moving areas, in pixels of the frame passed to Process.
  std::vector<BoxF> boxes;
  // The changed pixels after dilation and motion masks, 8-bit single channel, 255 where
  // there is motion, at the small size (e.g. 320x180). Empty for an unusable frame.
  cv::Mat mask;
  // Fraction of the unmasked small image that differs from the background, in [0, 1].
  double changed_fraction = 0;
  // True while the detector treats a global change as lighting and recalibrates; boxes are
  // empty then.
  bool light_change = false;
};

// Detects motion in a stream of frames of one camera. Keeps the background between calls, so
// one instance serves one stream, frames in order. Thread-compatible: a const instance may be
// shared, Process() needs external synchronisation.
class MotionDetector {
 public:
  // Returns kInvalidArgument naming the offending option when `options` is out of range.
  static absl::StatusOr<std::unique_ptr<MotionDetector>> Create(const MotionOptions& options);

  // Compares `frame` with the background, then blends it into the background. The first
  // frame (and the first after a change of frame size) only initialises the background and
  // reports no motion. An empty frame or one that is not 8-bit grey, BGR or BGRA yields an
  // empty result and leaves the background untouched.
  MotionResult Process(const cv::Mat& frame);

  // Forgets the background: the next frame starts afresh (after a seek or stream restart).
  void Reset();

  const MotionOptions& Options() const { return options_; }

 private:
  explicit MotionDetector(MotionOptions options) : options_(std::move(options)) {}
  void Resize(cv::Size small_size);
  bool HasLiveChange(const std::vector<cv::Point>& contour, const cv::Rect& rect);

  MotionOptions options_;
  cv::Size small_size_;
  cv::Mat background_;   // CV_32F running average, small_size_.
  cv::Mat ignore_mask_;  // CV_8U, 255 where motion is masked out; empty without masks.
  int unmasked_px_ = 0;
  bool calibrating_ = false;
  cv::Mat previous_;  // The previous small blurred frame, for require_live_change.
  // Reused per-frame buffers.
  cv::Mat grey_, small_, background8_, diff_, changed_, live_, contour_mask_;
};

}  // namespace custos::motion
