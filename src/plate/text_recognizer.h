// Text-line recognition with a CTC recogniser such as PP-OCR's, run through OpenVINO, decoded
// onto the plate alphabet (ctc_decoder.h) with the most probable alternatives.
#pragma once

#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <openvino/runtime/compiled_model.hpp>
#include <openvino/runtime/infer_request.hpp>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "plate/ctc_decoder.h"
#include "plate/ocr_model.h"

namespace custos::plate {

struct TextRecognizerOptions {
  int top_k = 5;        // Strings returned per line.
  int beam_width = 10;  // CTC prefix beam width (>= top_k).
  int threads = 0;      // CPU threads per inference; 0 lets OpenVINO decide.
  bool verify_checksums = true;
};

// Thread-safe (one inference at a time).
class TextRecognizer {
 public:
  // kNotFound / kDataLoss from checksum verification or a missing dictionary;
  // kInvalidArgument if the entry is not a `ctc` recogniser or its class count does not match
  // its dictionary; kInternal if OpenVINO fails.
  static absl::StatusOr<std::unique_ptr<TextRecognizer>> Create(
      const OcrModel& model, const TextRecognizerOptions& options);

  // For each line image (8-bit BGR, upright, any size), its most probable plate strings, best
  // first (possibly none). Lines wider than the model input (manifest width / height) are
  // squeezed. kInvalidArgument for an empty or non-BGR image; kInternal if inference fails.
  absl::StatusOr<std::vector<std::vector<CtcCandidate>>> Recognize(std::span<const cv::Mat> lines);

 private:
  TextRecognizer(OcrModel model, TextRecognizerOptions options, ov::CompiledModel compiled,
                 CtcDecoder decoder);

  const OcrModel model_;
  const TextRecognizerOptions options_;
  ov::CompiledModel compiled_;
  const CtcDecoder decoder_;
  std::mutex mu_;
  ov::InferRequest request_;  // Guarded by mu_.
};

}  // namespace custos::plate
