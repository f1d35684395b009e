// The quality gate: which detected faces are worth embedding. Small, blurred or turned-away
// faces give descriptors that match the wrong people more often (and cost an embedding each),
// so they are dropped before the embedder runs.
#pragma once

#include <opencv2/core/mat.hpp>

#include "face/face_types.h"

namespace custos::face {

// Defaults were set on ../shared/data/faces and frames of its person video (docs/face.md):
// every photo's face passes with margin, backs and sides of heads in the video fail on pose.
struct QualityOptions {
  // Narrowest face (detector box width, image pixels) embedded. dlib's embedder works on
  // 150 px chips; below ~40 px most of the chip is interpolation. A 20 px face: rejected.
  float min_face_px = 40;
  // Lowest variance of the Laplacian of the aligned 150x150 grey chip. The photos score
  // 117-1104 (obama-240p, a 62 px face, 118); obama.jpg blurred with sigma 12 px scores 3.
  float min_sharpness = 15;
  // Largest |yaw| (nose offset from the eye midline, in eye distances): 0 frontal, about 0.3 at
  // 30 degrees. Photos: |yaw| <= 0.28.
  float max_yaw = 0.45f;
  // Accepted pitch (nose between eye line 0 and mouth 1). Frontal photos: 0.41-0.55; backs
  // of heads the detector mistakes for faces: 0.58-0.86.
  float min_pitch = 0.3f;
  float max_pitch = 0.62f;
  // Smallest eye distance as a fraction of the box width. Frontal: 0.37-0.44; profiles and
  // backs of heads: 0.11-0.35 (with other failures).
  float min_eye_ratio = 0.3f;
  // Lowest detector score embedded. Real faces in the photos score 0.75-0.95; the back of a
  // long-haired head in the person video scored 0.55 with a plausible pose (docs/face.md), and
  // embeddings of such non-faces resemble each other: enrolled, they "match" strangers.
  float min_detector_score = 0.7f;
};

// Pose and size from the detector's keypoints (cheap, before alignment).
FaceQuality AssessGeometry(const FaceBox& face, const QualityOptions& options);

// Adds sharpness of the aligned chip to a geometry verdict that passed.
void AssessSharpness(const cv::Mat& chip, const QualityOptions& options, FaceQuality& quality);

}  // namespace custos::face
