// Event snapshots (docs/privacy.md "Event snapshots"): the best crop of every track is stored
// and shown with alerts and search results to operators, so it is masked before it is written,
// as live view is: faces wherever the face detector finds them, the head end of every person
// whether it finds one or not (at detect resolution a face is 10-25 px, where detectors miss
// some), and licence plates.
#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>
#include <string_view>

#include "absl/status/status.h"
#include "custos/detection.h"
#include "privacy/face_masker.h"
#include "privacy/plate_masker.h"

namespace custos::privacy {

// The part of a person's box obscured whatever the face detector says: its top fraction, the
// full width (a standing person's head is in the top ~15 %; a bending or sitting one's too).
inline constexpr float kHeadFraction = 0.22f;

// Masks `image`, a snapshot cut from the frame at `crop` and scaled to image.size(), of a
// track labelled `label` whose box was `box` (frame pixels):
//   - faces found by `faces` (MaskStill);
//   - for `person`, the head end of `box` (kHeadFraction of its height, padded);
//   - when `mask_plates` (config privacy.mask_plates), plates found by `plates` (MaskStill).
// kFailedPrecondition without a face masker, or without a plate masker while `mask_plates`
// (the snapshot must then not be stored, as the live picture is withheld); detector errors as
// MaskStill (the image is then black).
absl::Status RedactSnapshot(const FaceMasker* faces, const PlateMasker* plates, bool mask_plates,
                            std::string_view label, const cv::Rect& crop, const BoxF& box,
                            cv::Mat& image);

}  // namespace custos::privacy
