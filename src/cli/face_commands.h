// `custos face detect` and `custos face compare` (docs/face.md). Like the other commands they
// return the process exit status and write errors to stderr as "custos face: <message>".
// Face descriptors computed here are printed as scores only and never stored (DESIGN.md §1.3).
#pragma once

#include <iostream>
#include <string>
#include <vector>

namespace custos::cli {

struct FaceModelFlags {
  std::string manifest;    // models/manifest.yaml by default
  std::string models_dir;  // var/models by default
  std::string detector = "mediapipe-face-full";
  std::string embedder = "dlib-face-resnet";
};

struct FaceDetectFlags {
  FaceModelFlags model;
  std::vector<std::string> images;
  bool json = false;
};
// Faces of each image: box, score, detector keypoints, alignment landmarks and the quality
// verdict. Exit 0, or 1 if an image could not be read (its entry carries an "error").
int RunFaceDetect(const FaceDetectFlags& flags, std::ostream& out = std::cout);

struct FaceCompareFlags {
  FaceModelFlags model;
  std::vector<std::string> images;  // Exactly two, unless `pairs` is set.
  std::string pairs;                // CSV with header columns a,b.
  bool json = false;
  float threshold = -1;  // < 0: the embedder's threshold from the manifest.
};
// Compares the largest face of each image: {"score", "same", "threshold"} per pair, one JSON
// line per pair in file order. A pair that cannot be compared (unreadable image, no face, face
// failing the quality gate, bad CSV row) prints "same": false and an "error". Exit 0 when every
// pair was compared, 1 otherwise, 2 for bad flags or an unreadable pairs file.
int RunFaceCompare(const FaceCompareFlags& flags, std::ostream& out = std::cout);

}  // namespace custos::cli
