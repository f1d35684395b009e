// Turning raw model outputs into detections. One function per output convention ("decoder" in
// the model manifest); all return boxes in model-input pixels, before letterbox undo and NMS.
#pragma once

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/detection.h"
#include "infer/model_manifest.h"

namespace custos::infer {

// A dense float output tensor of one image: `rows` x `cols`, row-major.
struct OutputView {
  const float* data = nullptr;
  int rows = 0;
  int cols = 0;
};

// NanoDet / GFL heads: for each stride s, a scores tensor [cells, classes] (sigmoid applied) and
// a box tensor [cells, 4 * (reg_max + 1)] of distance distributions (left, top, right, bottom).
// `outputs` holds all score tensors (in stride order) followed by all box tensors.
// kInvalidArgument if the shapes do not match the spec.
absl::StatusOr<Detections> DecodeNanoDet(const ModelSpec& spec, std::span<const OutputView> outputs,
                                         float score_floor);

// Ultralytics YOLOv8/v11 export: one tensor [4 + classes, anchors] (cx, cy, w, h, class scores),
// or its transpose [anchors, 4 + classes].
absl::StatusOr<Detections> DecodeYoloV8(const ModelSpec& spec, const OutputView& output,
                                        float score_floor);

// SSD / OpenVINO DetectionOutput: [N, 7] rows of (image, label, score, x0, y0, x1, y1) with
// coordinates normalised to [0, 1].
absl::StatusOr<Detections> DecodeSsd(const ModelSpec& spec, const OutputView& output,
                                     float score_floor);

// Greedy non-maximum suppression per class: keeps the best-scoring box of each group whose IoU
// exceeds `iou_threshold`. Returns the kept detections sorted by descending score.
Detections NonMaxSuppression(Detections detections, float iou_threshold);

}  // namespace custos::infer
