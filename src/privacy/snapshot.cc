#include "privacy/snapshot.h"

#include <vector>

#include "custos/status.h"

namespace custos::privacy {

absl::Status RedactSnapshot(const FaceMasker* faces, const PlateMasker* plates, bool mask_plates,
                            std::string_view label, const cv::Rect& crop, const BoxF& box,
                            cv::Mat& image) {
  if (faces == nullptr) {
    return absl::FailedPreconditionError("no face masking: snapshots are not stored without it");
  }
  if (mask_plates && plates == nullptr) {
    return absl::FailedPreconditionError("no plate masking: snapshots are not stored without it");
  }
  if (image.empty() || crop.width <= 0 || crop.height <= 0) {
    return absl::InvalidArgumentError("empty snapshot");
  }
  CUSTOS_RETURN_IF_ERROR(faces->MaskStill(image).status());
  if (label == "person") {
    const float sx = static_cast<float>(image.cols) / static_cast<float>(crop.width);
    const float sy = static_cast<float>(image.rows) / static_cast<float>(crop.height);
    const cv::Rect2f head((box.x - static_cast<float>(crop.x)) * sx,
                          (box.y - static_cast<float>(crop.y)) * sy, box.w * sx,
                          box.h * kHeadFraction * sy);
    // The ellipse inscribed in the padded band covers its middle, where the head is.
    ObscureBoxes(image, {head}, /*padding=*/0.25f, faces->options().cells);
  }
  if (mask_plates) CUSTOS_RETURN_IF_ERROR(plates->MaskStill(image).status());
  return absl::OkStatus();
}

}  // namespace custos::privacy
