// Face detection with a BlazeFace-style single-shot model (MediaPipe face detection and its
// relatives) run through OpenVINO: anchors on a grid per stride, one output tensor of
// [anchors, 1 + 4 + 2·keypoints] rows (score logit, box centre offset and size, keypoint offsets,
// all in model-input pixels). Which model, its strides, anchors and output come from the
// manifest (face_models.h), so another model of this family drops in by adding an entry.
#pragma once

#include <memory>
#include <mutex>
#include <openvino/runtime/compiled_model.hpp>
#include <vector>

#include "absl/status/statusor.h"
#include "face/face_models.h"
#include "face/face_types.h"

namespace custos::face {

struct FaceDetectorOptions {
  // Lowest score returned. MediaPipe uses 0.5; real frontal faces score 0.75-0.95 on the
  // project's photos, backs of heads in CCTV frames up to about 0.65 (docs/face.md), which the
  // quality gate then rejects on pose.
  float score_threshold = 0.5f;
  // Boxes overlapping a better one by more than this IoU are dropped.
  float nms_iou = 0.3f;
  // CPU threads per inference; 0 lets OpenVINO decide.
  int threads = 0;
  bool verify_checksums = true;
};

// Thread-safe (one inference at a time; the detector is small, a few ms per image).
class FaceDetector {
 public:
  // kNotFound / kDataLoss from checksum verification; kInvalidArgument when the entry is not a
  // `blazeface` detector or its outputs do not match its anchors; kInternal if OpenVINO fails.
  static absl::StatusOr<std::unique_ptr<FaceDetector>> Create(const FaceModel& model,
                                                              const FaceDetectorOptions& options);

  // Faces in `image` (8-bit BGR, any size), best first. The image is letterboxed into the
  // model input, so faces smaller than about 1/30 of the image's longer side are missed: for
  // CCTV frames run it on person regions (the pipeline does) rather than on whole frames.
  // kInvalidArgument for an empty or non-BGR image.
  absl::StatusOr<std::vector<FaceBox>> Detect(const cv::Mat& image);

  const FaceModel& model() const { return model_; }

 private:
  FaceDetector(FaceModel model, FaceDetectorOptions options, ov::CompiledModel compiled,
               std::vector<cv::Point2f> anchors, size_t output_index);

  const FaceModel model_;
  const FaceDetectorOptions options_;
  ov::CompiledModel compiled_;
  const std::vector<cv::Point2f> anchors_;  // Centres in model-input pixels.
  const size_t output_index_;

  std::mutex mu_;
  ov::InferRequest request_;  // Guarded by mu_.
};

}  // namespace custos::face
