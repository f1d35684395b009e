#include "watchlist/enrolment.h"

#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace custos::watchlist {

absl::StatusOr<cv::Mat> DecodePhoto(std::string_view bytes, size_t max_bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("the photo is empty");
  if (bytes.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the photo is ", bytes.size(), " bytes; send at most ", max_bytes));
  }
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
    image.release();
  }
  if (image.empty()) {
    return absl::InvalidArgumentError("the photo cannot be decoded; send a JPEG or PNG image");
  }
  return image;
}

absl::StatusOr<std::vector<face::Embedding>> EmbedEnrolmentPhotos(FaceSource& faces,
                                                                  std::span<const cv::Mat> photos) {
  if (photos.empty()) {
    return absl::InvalidArgumentError("give at least one photo of the person's face");
  }
  std::vector<face::Embedding> out;
  for (size_t i = 0; i < photos.size(); ++i) {
    absl::StatusOr<std::optional<face::AnalyzedFace>> found = faces.LargestFace(photos[i]);
    if (!found.ok()) {
      return absl::Status(found.status().code(),
                          absl::StrCat("photo ", i + 1, ": ", found.status().message()));
    }
    if (!found->has_value()) {
      for (face::Embedding& e : out) Wipe(e);
      return absl::InvalidArgumentError(absl::StrCat(
          "photo ", i + 1, ": no face found; give a photo in which the face is clearly visible"));
    }
    face::AnalyzedFace& f = **found;
    if (!f.quality.passed || f.embedding.empty()) {
      for (face::Embedding& e : out) Wipe(e);
      return absl::InvalidArgumentError(absl::StrFormat(
          "photo %d: the face fails the quality gate: %s (width %.0f px, sharpness %.0f, yaw "
          "%.2f, pitch %.2f); give a sharp, frontal photo with the face at least 40 px wide",
          i + 1, f.quality.reason.empty() ? "not embedded" : f.quality.reason, f.quality.size_px,
          f.quality.sharpness, f.quality.yaw, f.quality.pitch));
    }
    out.push_back(std::move(f.embedding));
  }
  return out;
}

}  // namespace custos::watchlist
