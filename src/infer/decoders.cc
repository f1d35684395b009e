#include "infer/decoders.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace custos::infer {
namespace {

Detection MakeDetection(const ModelSpec& spec, int class_id, float score, float x0, float y0,
                        float x1, float y1) {
  Detection d;
  d.class_id = class_id;
  d.label = class_id >= 0 && class_id < static_cast<int>(spec.labels.size())
                ? spec.labels[class_id]
                : absl::StrCat("class_", class_id);
  d.score = score;
  d.box = {x0, y0, x1 - x0, y1 - y0};
  return d;
}

}  // namespace

absl::StatusOr<Detections> DecodeNanoDet(const ModelSpec& spec, std::span<const OutputView> outputs,
                                         float score_floor) {
  const size_t levels = spec.strides.size();
  const int bins = spec.reg_max + 1;
  if (levels == 0 || outputs.size() != 2 * levels || spec.reg_max <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", spec.name,
                     "': a nanodet decoder needs strides, reg_max and 2 outputs per "
                     "stride; got ",
                     outputs.size(), " outputs for ", levels, " strides"));
  }
  Detections out;
  std::vector<float> probs(static_cast<size_t>(bins));
  for (size_t level = 0; level < levels; ++level) {
    const int stride = spec.strides[level];
    const int grid_w = spec.input.width / stride;
    const OutputView& scores = outputs[level];
    const OutputView& boxes = outputs[levels + level];
    if (scores.rows != boxes.rows || boxes.cols != 4 * bins ||
        scores.rows != grid_w * (spec.input.height / stride)) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", spec.name, "': nanodet output shapes do not match stride ",
                       stride, " (scores ", scores.rows, "x", scores.cols, ", boxes ", boxes.rows,
                       "x", boxes.cols, ")"));
    }
    for (int cell = 0; cell < scores.rows; ++cell) {
      const float* s = scores.data + static_cast<size_t>(cell) * scores.cols;
      const float* best = std::max_element(s, s + scores.cols);
      if (*best < score_floor) continue;
      const float cx = static_cast<float>((cell % grid_w) * stride);
      const float cy = static_cast<float>((cell / grid_w) * stride);
      float dist[4];
      const float* b = boxes.data + static_cast<size_t>(cell) * boxes.cols;
      for (int side = 0; side < 4; ++side) {
        // Softmax over the side's distance bins, then its expectation, in stride units.
        const float* logits = b + side * bins;
        const float top = *std::max_element(logits, logits + bins);
        float sum = 0;
        for (int i = 0; i < bins; ++i) sum += probs[i] = std::exp(logits[i] - top);
        float expect = 0;
        for (int i = 0; i < bins; ++i) expect += probs[i] * static_cast<float>(i);
        dist[side] = expect / sum * static_cast<float>(stride);
      }
      out.push_back(MakeDetection(spec, static_cast<int>(best - s), *best, cx - dist[0],
                                  cy - dist[1], cx + dist[2], cy + dist[3]));
    }
  }
  return out;
}

absl::StatusOr<Detections> DecodeYoloV8(const ModelSpec& spec, const OutputView& output,
                                        float score_floor) {
  const int classes = static_cast<int>(spec.labels.size());
  if (classes == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", spec.name, "': yolov8 decoder needs the label list"));
  }
  // Channel-major [4 + classes, anchors] as exported, or anchor-major [anchors, 4 + classes].
  const bool channel_major = output.rows == 4 + classes;
  if (!channel_major && output.cols != 4 + classes) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", spec.name, "': yolov8 output is ", output.rows, "x", output.cols,
                     ", expected one side to be 4 + ", classes, " classes"));
  }
  const int anchors = channel_major ? output.cols : output.rows;
  auto at = [&](int anchor, int channel) {
    return channel_major ? output.data[static_cast<size_t>(channel) * anchors + anchor]
                         : output.data[static_cast<size_t>(anchor) * output.cols + channel];
  };
  Detections out;
  for (int a = 0; a < anchors; ++a) {
    int best = 0;
    float best_score = at(a, 4);
    for (int c = 1; c < classes; ++c) {
      const float v = at(a, 4 + c);
      if (v > best_score) best_score = v, best = c;
    }
    if (best_score < score_floor) continue;
    const float cx = at(a, 0), cy = at(a, 1), w = at(a, 2), h = at(a, 3);
    out.push_back(
        MakeDetection(spec, best, best_score, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2));
  }
  return out;
}

absl::StatusOr<Detections> DecodeSsd(const ModelSpec& spec, const OutputView& output,
                                     float score_floor) {
  if (output.cols != 7) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", spec.name, "': ssd output rows must have 7 values, got ", output.cols));
  }
  const auto w = static_cast<float>(spec.input.width);
  const auto h = static_cast<float>(spec.input.height);
  Detections out;
  for (int r = 0; r < output.rows; ++r) {
    const float* row = output.data + static_cast<size_t>(r) * 7;
    if (row[0] < 0) break;  // DetectionOutput ends its list with image id -1.
    if (row[2] < score_floor) continue;
    out.push_back(MakeDetection(spec, static_cast<int>(row[1]), row[2], row[3] * w, row[4] * h,
                                row[5] * w, row[6] * h));
  }
  return out;
}

Detections NonMaxSuppression(Detections detections, float iou_threshold) {
  std::sort(detections.begin(), detections.end(),
            [](const Detection& a, const Detection& b) { return a.score > b.score; });
  Detections kept;
  for (Detection& d : detections) {
    const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return k.class_id == d.class_id && IoU(k.box, d.box) > iou_threshold;
    });
    if (!suppressed) kept.push_back(std::move(d));
  }
  return kept;
}

}  // namespace custos::infer
