// Models are data: models/manifest.yaml names each model's files, their SHA-256, how to feed the
// model and how to read its outputs (docs/models.md). This module reads the manifest and checks
// the files before anything loads them.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace custos::infer {

struct ModelInput {
  int width = 0;
  int height = 0;
  std::string layout = "NCHW";            // NCHW | NHWC
  std::string color = "bgr";              // bgr | rgb
  std::array<float, 3> mean = {0, 0, 0};  // Subtracted per channel (in `color` order)...
  std::array<float, 3> std = {1, 1, 1};   // ...then divided by this.
};

struct ModelSource {
  std::string registry;  // npm | pypi | debian
  std::string package;
  std::string version;
  std::string sha256;  // Of the package archive.
};

struct ModelSpec {
  std::string name;
  std::string task;  // detect | ...
  std::string description;
  std::string format;                         // openvino-ir | onnx | tflite
  std::string file;                           // Relative to the models folder.
  std::string weights;                        // IR weights file; empty for single-file formats.
  std::map<std::string, std::string> sha256;  // File name -> expected hex digest.
  std::string decoder;                        // nanodet | yolov8 | ssd (docs/models.md)
  ModelInput input;
  std::vector<int> strides;  // nanodet
  int reg_max = 0;           // nanodet
  std::vector<std::string> labels;
  std::string license;
  ModelSource source;
  std::string dir;  // Folder holding the files.

  std::string FilePath() const { return dir + "/" + file; }
};

// Reads the manifest; `models_dir` is where the files live. kNotFound if the manifest is missing,
// kInvalidArgument (with the entry and key) if it is malformed.
absl::StatusOr<std::vector<ModelSpec>> LoadManifest(const std::string& manifest_path,
                                                    const std::string& models_dir);

// Finds `name` in `specs`; kNotFound listing the known names.
absl::StatusOr<ModelSpec> FindModel(const std::vector<ModelSpec>& specs, const std::string& name);

// Checks every file of the model against its recorded SHA-256. kNotFound if a file is missing
// (run tools/setup.sh), kDataLoss if a checksum differs (the file is refused).
absl::Status VerifyModel(const ModelSpec& spec);

// Hex SHA-256 of a file (libsodium). kNotFound / kUnavailable on I/O failure.
absl::StatusOr<std::string> Sha256File(const std::string& path);

// Default locations: $CUSTOS_MODELS_DIR or <source>/var/models; <source>/models/manifest.yaml.
std::string DefaultModelsDir();
std::string DefaultManifestPath();

}  // namespace custos::infer
