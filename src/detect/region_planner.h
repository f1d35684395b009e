// Chooses where the detector looks. Detection runs only on square crops ("regions") around
// motion and around tracked objects, as Frigate does: a crop about the size of the model's
// input keeps small, distant objects at full resolution instead of shrinking the whole frame,
// and skips the static parts of the scene. MergeRegionDetections maps the detections of all
// regions of a frame back to frame pixels and removes the duplicates that overlapping regions
// produce.
#pragma once

#include <memory>
#include <opencv2/core/types.hpp>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/detection.h"
#include "custos/geometry.h"

namespace custos::detect {

struct RegionPlannerOptions {
  // Side of the detector's (square) input in pixels. Regions are at least this big so the
  // detector never upscales; smaller frames are searched whole. Range [32, 4096].
  int model_size_px = 416;
  // Most regions per frame (each one is a detector run). When the boxes need more, the
  // nearest clusters are merged into larger regions, down to one. Range [1, 64].
  int max_regions = 4;
  // Margin added on each side of a tracked box, as a fraction of its width and height, so an
  // object that moved since its box was predicted is still inside the region. Range [0, 2].
  float track_margin = 0.2f;
  // When the regions' areas add up to at least this fraction of the frame's area, one
  // full-frame region replaces them: one detector run instead of several, and nothing left
  // unsearched for little loss of resolution. Range (0, inf); above max_regions it never
  // triggers.
  float full_frame_fraction = 0.8f;

  // MergeRegionDetections: same-class boxes overlapping more than this IoU are duplicates and
  // only the best is kept (non-maximum suppression). Range (0, 1].
  float merge_iou = 0.5f;
  // A detection within this many pixels of a region edge that is not a frame edge is "cut":
  // the region saw only part of the object. Cut boxes lose to whole ones. >= 0.
  float cut_border_px = 4.0f;
  // A cut box is also dropped when at least this fraction of it lies inside a whole box of the
  // same class from another region: the piece of an object that another region saw whole
  // (their IoU is low, so IoU alone would keep both). Range (0, 1].
  float cut_containment = 0.6f;
};

// A tracked object's box for planning, usually the tracker's prediction for this frame.
struct TrackedBox {
  BoxF box;
  // False for a stationary object that is not due for its periodic re-check this frame.
  bool include = true;
};

// The detections a detector found in one region, in region pixels: (0, 0) is the region's
// top-left corner and one unit is one frame pixel (the detector has already undone its own
// resize of the crop to the model input).
struct RegionDetections {
  cv::Rect region;
  Detections detections;
};

// Plans detection regions and merges their results. Stateless after Create: thread-safe.
class RegionPlanner {
 public:
  // Returns kInvalidArgument naming the offending option when `options` is out of range.
  static absl::StatusOr<std::unique_ptr<RegionPlanner>> Create(const RegionPlannerOptions& options);

  // Regions to run the detector on for one frame of `frame_size`: each square of side
  // max(model_size_px, the extent of its boxes), shifted to lie inside the frame (clipped,
  // so no longer square, only when the frame itself is smaller than that side), and together
  // containing every motion box and every included tracked box with its margin. At most
  // max_regions. No boxes: no regions. Boxes are clipped to the frame; empty or non-finite
  // ones are ignored.
  std::vector<cv::Rect> Plan(cv::Size frame_size, std::span<const BoxF> motion_boxes,
                             std::span<const TrackedBox> tracked_boxes) const;

  // Maps each region's detections to frame pixels (clipped to their region) and removes
  // duplicates between overlapping regions: class-aware non-maximum suppression in which a
  // box cut by a region edge ranks below every whole box, and a cut box mostly inside a
  // whole box of its class is dropped. Returns the kept detections, best score first.
  Detections MergeRegionDetections(cv::Size frame_size,
                                   std::span<const RegionDetections> regions) const;

  const RegionPlannerOptions& Options() const { return options_; }

 private:
  explicit RegionPlanner(const RegionPlannerOptions& options) : options_(options) {}

  RegionPlannerOptions options_;
};

}  // namespace custos::detect
