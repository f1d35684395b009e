// What the face module passes around: a detected face, its quality verdict and its embedding.
// None of these is ever written to disk, a database, a log or the bus by this module (DESIGN.md
// §1.3): embeddings of people who do not match an active watchlist entry live only in memory
// while their frame is processed.
#pragma once

#include <array>
#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>
#include <string>
#include <vector>

namespace custos::face {

// Keypoints of BlazeFace-style detectors, in image pixels, indexed by FaceKeypoint.
enum FaceKeypoint { kRightEye = 0, kLeftEye, kNoseTip, kMouth, kRightEar, kLeftEar };
inline constexpr int kNumKeypoints = 6;

struct FaceBox {
  cv::Rect2f box;  // Image pixels.
  float score = 0;
  std::array<cv::Point2f, kNumKeypoints> keypoints{};  // The subject's right eye comes first.
};

// Why a face was or was not worth embedding (see quality.h).
struct FaceQuality {
  float size_px = 0;    // Inter-ocular distance scaled to a face width (box width if larger).
  float sharpness = 0;  // Variance of the Laplacian of the aligned grey chip.
  float yaw = 0;        // Nose offset from the eye midline, in eye distances (0 = frontal).
  float pitch = 0;      // Nose position between the eye line (0) and the mouth (1).
  bool passed = false;
  // Empty when passed: "too small", "not clearly a face", "blurred", "turned away".
  std::string reason;
};

// An L2-normalised face descriptor. Compare two with Similarity().
using Embedding = std::vector<float>;

// Cosine similarity of two normalised embeddings, in [-1, 1]; higher is more alike.
// REQUIRES: equal sizes.
float Similarity(const Embedding& a, const Embedding& b);

}  // namespace custos::face
