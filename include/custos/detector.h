// The object-detector interface every camera pipeline calls. Implementations: an OpenVINO model
// (src/detect/openvino_detector.h) and the shared batching service in front of it
// (src/infer/inference_service.h), which merges the requests of all cameras of a process.
#pragma once

#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/detection.h"

namespace custos {

class Detector {
 public:
  virtual ~Detector() = default;

  // Detects objects in each image (any size: each is letterboxed to the model input). Element i
  // of the result holds the detections of images[i], in its pixel coordinates, with every score
  // at or above the detector's floor. Thread-safe.
  // Returns kInvalidArgument for an empty or non-BGR image; kInternal if inference fails.
  virtual absl::StatusOr<std::vector<Detections>> DetectBatch(
      const std::vector<cv::Mat>& images) = 0;

  // Class names, indexed by Detection::class_id.
  virtual const std::vector<std::string>& labels() const = 0;

  // The model's input size: the region planner cuts square regions of this size.
  virtual cv::Size input_size() const = 0;
};

}  // namespace custos
