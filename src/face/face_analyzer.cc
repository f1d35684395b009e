#include "face/face_analyzer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "custos/status.h"

namespace custos::face {

float Similarity(const Embedding& a, const Embedding& b) {
  float s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

absl::StatusOr<std::unique_ptr<FaceAnalyzer>> FaceAnalyzer::Create(
    const std::string& manifest_path, const std::string& models_dir,
    const std::string& detector_name, const std::string& embedder_name,
    const FaceAnalyzerOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(FaceModel det, LoadFaceModel(manifest_path, models_dir, detector_name));
  CUSTOS_ASSIGN_OR_RETURN(FaceModel emb, LoadFaceModel(manifest_path, models_dir, embedder_name));
  if (emb.config.landmarks.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", embedder_name, "' names no face.landmarks model"));
  }
  CUSTOS_ASSIGN_OR_RETURN(FaceModel lm,
                          LoadFaceModel(manifest_path, models_dir, emb.config.landmarks));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<FaceDetector> detector,
                          FaceDetector::Create(det, options.detector));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<FaceEmbedder> embedder,
                          CreateDlibEmbedder(emb, lm, options.detector.verify_checksums));
  return std::unique_ptr<FaceAnalyzer>(
      new FaceAnalyzer(std::move(detector), std::move(embedder), options));
}

absl::Status FaceAnalyzer::Complete(const cv::Mat& image, AnalyzedFace& face) {
  face.quality = AssessGeometry(face.detection, options_.quality);
  if (!face.quality.passed) return absl::OkStatus();
  CUSTOS_ASSIGN_OR_RETURN(AlignedFace aligned, embedder_->Align(image, face.detection));
  face.landmarks = aligned.landmarks;
  AssessSharpness(aligned.chip, options_.quality, face.quality);
  if (!face.quality.passed || !options_.embed) return absl::OkStatus();
  CUSTOS_ASSIGN_OR_RETURN(face.embedding, embedder_->Embed(aligned));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AnalyzedFace>> FaceAnalyzer::Analyze(const cv::Mat& image) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<FaceBox> boxes, detector_->Detect(image));
  std::vector<AnalyzedFace> faces(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) {
    faces[i].detection = boxes[i];
    CUSTOS_RETURN_IF_ERROR(Complete(image, faces[i]));
  }
  return faces;
}

absl::StatusOr<std::optional<AnalyzedFace>> FaceAnalyzer::AnalyzeLargest(const cv::Mat& image) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<FaceBox> boxes, detector_->Detect(image));
  if (boxes.empty()) return std::nullopt;
  AnalyzedFace face;
  face.detection = *std::max_element(boxes.begin(), boxes.end(), [](const auto& a, const auto& b) {
    return a.box.area() < b.box.area();
  });
  CUSTOS_RETURN_IF_ERROR(Complete(image, face));
  return face;
}

}  // namespace custos::face
