// Face alignment and embedding. An embedder turns a detected face into an L2-normalised
// descriptor; two descriptors of the same person have a high cosine similarity (Similarity()).
// Descriptors are biometric data: callers keep them only in memory while the frame is processed
// unless they match an active watchlist entry (DESIGN.md §1.3).
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "face/face_models.h"
#include "face/face_types.h"

namespace custos::face {

// A face cut out of its image and aligned the way the embedder was trained.
struct AlignedFace {
  cv::Mat chip;                        // 8-bit BGR, the embedder's input size.
  std::vector<cv::Point2f> landmarks;  // Image pixels, as the landmark model found them.
};

// Thread-safe.
class FaceEmbedder {
 public:
  virtual ~FaceEmbedder() = default;

  // Fits landmarks inside the detected face and cuts out the aligned chip.
  // kInvalidArgument for an empty or non-BGR image.
  virtual absl::StatusOr<AlignedFace> Align(const cv::Mat& image, const FaceBox& face) = 0;

  // The normalised descriptor of an aligned chip. kInvalidArgument for a chip of the wrong size.
  virtual absl::StatusOr<Embedding> Embed(const AlignedFace& face) = 0;

  // Cosine similarity at or above which two faces are called the same person (from the
  // manifest; docs/face.md says how the default was chosen).
  virtual float match_threshold() const = 0;
};

// dlib's ResNet metric network (dlib_face_recognition_resnet_model_v1: 128-D, 99.38 % on LFW as
// published by its author) aligned by dlib's 5-point shape predictor, through dlib's C++ API.
// `embedder` is the manifest entry of format `dlib` (task face-embed); `landmarks` the entry its
// face.landmarks names. Checksums are verified before loading. kNotFound / kDataLoss from
// verification, kInvalidArgument for entries of another format, kDataLoss if dlib cannot read a
// file.
absl::StatusOr<std::unique_ptr<FaceEmbedder>> CreateDlibEmbedder(const FaceModel& embedder,
                                                                 const FaceModel& landmarks,
                                                                 bool verify_checksums = true);

}  // namespace custos::face
