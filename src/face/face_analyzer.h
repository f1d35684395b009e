// One image in, its faces out: detect, gate on quality, align and embed the faces worth it.
// What the CLI's `face detect` / `face compare` run, and what the pipeline's face stage will run
// on person regions. Results live in memory only; see face_types.h.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "face/face_detector.h"
#include "face/face_embedder.h"
#include "face/quality.h"

namespace custos::face {

struct AnalyzedFace {
  FaceBox detection;
  FaceQuality quality;
  std::vector<cv::Point2f> landmarks;  // From the embedder's landmark model, when aligned.
  Embedding embedding;                 // Empty unless the face passed the quality gate.
};

struct FaceAnalyzerOptions {
  FaceDetectorOptions detector;
  QualityOptions quality;
  // Embed faces that pass the gate (false: detection and quality only).
  bool embed = true;
};

// Thread-safe.
class FaceAnalyzer {
 public:
  // Loads the detector and the embedder (and its landmark model) named in the manifest.
  // Errors of FaceDetector::Create / CreateDlibEmbedder, kNotFound for unknown names.
  static absl::StatusOr<std::unique_ptr<FaceAnalyzer>> Create(const std::string& manifest_path,
                                                              const std::string& models_dir,
                                                              const std::string& detector_name,
                                                              const std::string& embedder_name,
                                                              const FaceAnalyzerOptions& options);

  // All faces of the image, best detection score first. kInvalidArgument for a bad image.
  absl::StatusOr<std::vector<AnalyzedFace>> Analyze(const cv::Mat& image);

  // The largest face of the image (by box area), embedded if it passes the gate; nullopt when
  // no face is found.
  absl::StatusOr<std::optional<AnalyzedFace>> AnalyzeLargest(const cv::Mat& image);

  FaceDetector& detector() { return *detector_; }
  FaceEmbedder& embedder() { return *embedder_; }
  float match_threshold() const { return embedder_->match_threshold(); }

 private:
  FaceAnalyzer(std::unique_ptr<FaceDetector> detector, std::unique_ptr<FaceEmbedder> embedder,
               FaceAnalyzerOptions options)
      : detector_(std::move(detector)), embedder_(std::move(embedder)), options_(options) {}
  absl::Status Complete(const cv::Mat& image, AnalyzedFace& face);

  std::unique_ptr<FaceDetector> detector_;
  std::unique_ptr<FaceEmbedder> embedder_;
  const FaceAnalyzerOptions options_;
};

}  // namespace custos::face
