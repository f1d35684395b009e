// Face-specific keys of model manifest entries (models/manifest.yaml, docs/face.md). The
// generic part of an entry (files, SHA-256, input size, normalisation, licence, source) is read
// by infer::LoadManifest; the keys under `face:` say how a face model's outputs are laid out and,
// for an embedder, at which similarity two faces count as the same person.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "infer/model_manifest.h"

namespace custos::face {

struct FaceModelConfig {
  // Detector (decoder `blazeface`): anchors per grid cell for each of spec.strides, the
  // output tensor to read (empty: the first), and the number of keypoints after the box.
  std::vector<int> anchors_per_cell;
  std::string output;
  int keypoints = 6;
  // Embedder: the landmark model it aligns with (manifest name), its output size, and the
  // cosine similarity at or above which two faces are called the same person.
  std::string landmarks;
  int embedding_size = 0;
  float match_threshold = 0;
  // Embedder: padding around the aligned face, as a fraction of its size (dlib's chip padding).
  float chip_padding = 0.25f;
};

// A manifest entry together with its face-specific keys.
struct FaceModel {
  infer::ModelSpec spec;
  FaceModelConfig config;
};

// Reads entry `name` of the manifest at `manifest_path`, files in `models_dir`.
// kNotFound (manifest or name missing), kInvalidArgument (malformed `face:` block, naming the
// line).
absl::StatusOr<FaceModel> LoadFaceModel(const std::string& manifest_path,
                                        const std::string& models_dir, const std::string& name);

// The default face models of the manifest.
inline constexpr char kDefaultDetector[] = "mediapipe-face-full";
inline constexpr char kDefaultEmbedder[] = "dlib-face-resnet";

}  // namespace custos::face
