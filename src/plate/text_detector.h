// Text-line localisation with a DB (differentiable binarisation) detector such as PP-OCR's, run
// through OpenVINO: the model maps an image to a per-pixel text probability; thresholded blobs
// become rotated boxes, grown by the margin DB's training shrank them by ("unclip").
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <openvino/runtime/compiled_model.hpp>
#include <openvino/runtime/infer_request.hpp>
#include <vector>

#include "absl/status/statusor.h"
#include "plate/ocr_model.h"

namespace custos::plate {

struct TextDetectorOptions {
  // The image's longer side is scaled down to at most this (0: the manifest's input width);
  // both sides are then rounded to multiples of 32. Plate characters need about 10 px of
  // height in the scaled image to be found.
  int max_side_px = 0;
  // Pixels whose text probability exceeds this form blobs (PaddleOCR: 0.3).
  float binary_threshold = 0.3f;
  // Blobs whose mean probability is below this are dropped (PaddleOCR: 0.6).
  float box_threshold = 0.5f;
  // Boxes grow by area * unclip_ratio / perimeter on each side (PaddleOCR: 1.5).
  float unclip_ratio = 1.5f;
  // Blobs with a shorter side below this (in scaled pixels) are dropped.
  float min_side_px = 3;
  int max_boxes = 200;
  int threads = 0;  // CPU threads per inference; 0 lets OpenVINO decide.
  bool verify_checksums = true;
};

// A text line: corners clockwise from the top-left in image pixels, and the detector's score.
struct TextBox {
  std::array<cv::Point2f, 4> corners;
  float score = 0;
  cv::Rect2f Bounds() const;
};

// Thread-safe (one inference at a time).
class TextDetector {
 public:
  // kNotFound / kDataLoss from checksum verification; kInvalidArgument if the entry is not a
  // `db` detector or the model's input/output do not look like one; kInternal if OpenVINO fails.
  static absl::StatusOr<std::unique_ptr<TextDetector>> Create(const OcrModel& model,
                                                              const TextDetectorOptions& options);

  // Text lines of `image` (8-bit BGR, any size), best score first. kInvalidArgument for an
  // empty or non-BGR image; kInternal if inference fails.
  absl::StatusOr<std::vector<TextBox>> Detect(const cv::Mat& image);

 private:
  TextDetector(OcrModel model, TextDetectorOptions options, ov::CompiledModel compiled);

  const OcrModel model_;
  const TextDetectorOptions options_;
  ov::CompiledModel compiled_;
  std::mutex mu_;
  ov::InferRequest request_;  // Guarded by mu_.
};

// Orders four points clockwise from the top-left (smallest x+y first, as PaddleOCR does).
std::array<cv::Point2f, 4> OrderCorners(const std::array<cv::Point2f, 4>& points);

// Cuts the quadrilateral `corners` out of `image` and warps it to an upright rectangle as wide
// and tall as the quadrilateral's longer edges (a perspective rectification).
cv::Mat RectifyCrop(const cv::Mat& image, const std::array<cv::Point2f, 4>& corners);

}  // namespace custos::plate
