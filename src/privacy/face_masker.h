// Face masking for exported video and live view (DESIGN.md §1.5): finds faces with the shared
// face detector (face::FaceDetector) and obscures them irreversibly. See docs/privacy.md.
#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "absl/status/statusor.h"
#include "face/face_detector.h"
#include "face/face_types.h"
#include "privacy/mask_timeline.h"

namespace custos::privacy {

struct FaceMaskerOptions {
  // Lowest detector score that is obscured. Below the detector's own default (0.5): an
  // obscured back of a head costs nothing, a missed face is a privacy breach. The detector
  // passed to Create must return scores at least this low (its score_threshold <= this).
  float score_threshold = 0.3f;
  // A box that fills more than large_box of the detector's input side (the 192 px the
  // frame or tile is letterboxed into) needs large_box_score instead: the detector sees such
  // a face clearly, so a low score there is floor texture or furniture, not a face. On the
  // person video this removes 30-300 px false boxes at 0.3-0.48 on the floor and table while
  // every head (28-50 px, 21-37 px in the detector's input) stays (docs/privacy.md).
  float large_box = 0.25f;
  float large_box_score = 0.5f;
  // Besides the whole frame (letterboxed into the detector's 192 px input, where faces
  // narrower than ~1/30 of the frame are lost), the detector runs on square tiles of this
  // side, overlapping by tile_overlap of a side, so small CCTV faces reach it ~3x larger.
  // 0 disables tiling. Frames whose sides are all <= 1.5 tiles are not tiled.
  int tile_size_px = 256;
  float tile_overlap = 0.25f;
  // Obscuring (ObscureRegion): the region is reduced to at most this many cells along its
  // longer side (each the mean colour of its pixels) and smoothly scaled back. The padded
  // region is ~1.7 face widths, so the face itself spans ~3 cells: nothing of it beyond skin
  // and hair tone survives, at any face size. 1 fills it with its mean colour.
  int cells = 5;
  // Padding and temporal hold (mask_timeline.h).
  MaskTimelineOptions timeline;
};

// kInvalidArgument naming the field when an option is out of range.
absl::Status ValidateFaceMaskerOptions(const FaceMaskerOptions& options);

// What MaskInPlace did to one frame.
struct MaskStats {
  int faces_detected = 0;    // Boxes at or above score_threshold in this frame.
  int regions_obscured = 0;  // Regions obscured (detections of this and nearby frames).
};

// Replaces the ellipse inscribed in `region` (clipped to the image) with a smooth
// interpolation of at most `cells` x `cells` mean colours, opaque out to 0.85 of its radii and
// fading into the surroundings at its rim. Irreversible: inside, only those means are left.
// REQUIRES: cells >= 1. Does nothing to images that are not 8-bit BGR.
void ObscureRegion(cv::Mat& image, const cv::Rect& region, int cells);

// Obscures in `image` (frame `frame` of its stream) every region `timeline` holds for it
// (MaskTimeline::Regions, ObscureRegion with `cells`). Returns how many.
int ObscureHeld(MaskTimeline& timeline, int64_t frame, cv::Mat& image, int cells);

// `detected` when it holds a value; otherwise blacks `image` out, so that a picture whose
// faces or plates could not be looked for is never shown or stored, and returns the error.
template <typename T>
absl::StatusOr<T> OrBlackOut(absl::StatusOr<T> detected, cv::Mat& image) {
  if (!detected.ok() && !image.empty()) image.setTo(cv::Scalar::all(0));
  return detected;
}

// Obscures each of `boxes` in a single picture, padded by `padding` of its size on each side
// (PaddedRegion, ObscureRegion with `cells`). Returns how many regions touched the picture.
int ObscureBoxes(cv::Mat& image, const std::vector<cv::Rect2f>& boxes, float padding, int cells);

// One video stream's face masking.
//
// Thread safety: Detect() is thread-safe (the detector is); MaskInPlace() and Reset() keep
// the stream's timeline and are thread-compatible: one FaceMasker per stream, while many
// maskers may share one detector.
class FaceMasker {
 public:
  // `detector` is not owned and must outlive the masker. kInvalidArgument for bad options
  // or a null detector.
  static absl::StatusOr<std::unique_ptr<FaceMasker>> Create(face::FaceDetector* detector,
                                                            const FaceMaskerOptions& options);

  // Faces in `bgr` (whole frame and tiles, merged), score >= score_threshold, best first.
  // kInvalidArgument for an empty or non-BGR image; kInternal if inference fails.
  absl::StatusOr<std::vector<face::FaceBox>> Detect(const cv::Mat& bgr) const;

  // Live view: detects faces in `bgr`, the stream's next frame, and obscures them together
  // with the regions held from the previous hold_after_frames frames (no look-ahead).
  // Codes as Detect(); on error the frame is blacked out rather than shown unmasked.
  absl::StatusOr<MaskStats> MaskInPlace(cv::Mat& bgr);

  // A single picture (an event snapshot): detects faces as Detect() and obscures each, padded
  // as the timeline pads; nothing held from or for other pictures. Returns how many were
  // obscured. Codes as Detect(); on error the picture is blacked out.
  absl::StatusOr<int> MaskStill(cv::Mat& bgr) const;

  // Forgets the held regions (a new stream or a seek).
  void Reset();

  const FaceMaskerOptions& options() const { return options_; }

  // Detector calls Detect() makes for a frame of `size` (1 + tiles).
  int CallsPerFrame(cv::Size size) const;

 private:
  FaceMasker(face::FaceDetector* detector, const FaceMaskerOptions& options);

  // Detect()'s boxes; on error `bgr` is blacked out (never shown or stored unmasked).
  absl::StatusOr<std::vector<cv::Rect2f>> FaceBoxesOrBlackOut(cv::Mat& bgr) const;

  face::FaceDetector* const detector_;
  const FaceMaskerOptions options_;
  MaskTimeline timeline_;
  int64_t next_frame_ = 0;
};

// Tiles of side `tile` overlapping by `overlap` that cover `size` (none when tile <= 0 or
// every side of `size` is <= 1.5 tiles). The last row and column are shifted inside.
std::vector<cv::Rect> Tiles(cv::Size size, int tile, float overlap);

}  // namespace custos::privacy
