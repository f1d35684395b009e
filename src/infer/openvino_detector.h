// An object detector backed by an OpenVINO model (IR, ONNX or TFLite, read by OpenVINO's
// front ends) and one of the output decoders of decoders.h.
#pragma once

#include <memory>
#include <mutex>
#include <openvino/runtime/compiled_model.hpp>
#include <openvino/runtime/core.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/detector.h"
#include "infer/model_manifest.h"

namespace custos::infer {

struct DetectorOptions {
  // Lowest score returned. Low so the tracker can extend tracks with weak boxes (ByteTrack);
  // the pipeline applies the per-label thresholds of the config.
  float score_floor = 0.15f;
  // IoU above which same-class boxes are merged by non-maximum suppression.
  float nms_iou = 0.5f;
  // Threads the CPU plugin may use per inference; 0 lets OpenVINO decide.
  int threads = 0;
  // Largest batch one inference runs; 1 disables batching.
  int max_batch = 8;
  // Check the files' SHA-256 against the manifest before loading (refuse on mismatch).
  bool verify_checksums = true;
};

// Thread-safe: concurrent DetectBatch calls each take an inference request from a pool.
class OpenVinoDetector final : public Detector {
 public:
  // Loads and compiles the model. kNotFound / kDataLoss from checksum verification;
  // kInvalidArgument for an unsupported decoder or a model whose inputs/outputs do not fit it;
  // kInternal if OpenVINO fails to read or compile the model.
  static absl::StatusOr<std::unique_ptr<OpenVinoDetector>> Create(const ModelSpec& spec,
                                                                  const DetectorOptions& options);

  absl::StatusOr<std::vector<Detections>> DetectBatch(const std::vector<cv::Mat>& images) override;
  const std::vector<std::string>& labels() const override { return spec_.labels; }
  cv::Size input_size() const override { return {spec_.input.width, spec_.input.height}; }
  int max_batch() const { return max_batch_; }

 private:
  OpenVinoDetector(ModelSpec spec, DetectorOptions options, ov::CompiledModel compiled,
                   int max_batch);

  // Letterboxes `image` into `slot`, one image of the 8-bit BGR input tensor (see Letterbox);
  // returns the scale applied.
  float Preprocess(const cv::Mat& image, uint8_t* slot) const;
  absl::StatusOr<std::vector<Detections>> RunChunk(const std::vector<cv::Mat>& images, size_t begin,
                                                   size_t end);

  const ModelSpec spec_;
  const DetectorOptions options_;
  ov::CompiledModel compiled_;
  const int max_batch_;

  std::mutex pool_mu_;
  std::vector<ov::InferRequest> idle_requests_;  // Guarded by pool_mu_.
};

}  // namespace custos::infer
