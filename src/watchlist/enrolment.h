// Enrolment photos to enrolment embeddings, in memory: the photos are decoded, the largest
// face of each is gated on quality and embedded, and nothing of the photos is kept
// (DESIGN.md §1.3: an entry holds embeddings only).
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "face/face_types.h"
#include "watchlist/sealed_db.h"
#include "watchlist/track_face_recognizer.h"

namespace custos::watchlist {

// Decodes an uploaded photo (JPEG, PNG, ...) to 8-bit BGR.
// Errors: kInvalidArgument (empty, larger than max_bytes, not a decodable image).
absl::StatusOr<cv::Mat> DecodePhoto(std::string_view bytes, size_t max_bytes = 20 << 20);

// The embedding of the largest face of each photo. Refuses the whole set, naming the photo
// (1-based) and the reason, when a photo has no face or its largest face fails the quality gate
// ("photo 2: the face is too small (31 px wide; at least 40 px) ...").
// Errors: kInvalidArgument (no photos, a refused photo); the face source's errors.
absl::StatusOr<std::vector<face::Embedding>> EmbedEnrolmentPhotos(FaceSource& faces,
                                                                  std::span<const cv::Mat> photos);

}  // namespace custos::watchlist
