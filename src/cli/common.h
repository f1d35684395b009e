// Helpers shared by the CLI commands.
#pragma once

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "face/face_models.h"
#include "infer/model_manifest.h"
#include "plate/ocr_model.h"

namespace custos::cli {

// Prints "custos <command>: <message>" to stderr and returns the exit status for the error.
int Fail(const char* command, const absl::Status& status);

// Every entry of the manifest the flags name (defaults filled in), files in their models dir.
absl::StatusOr<std::vector<infer::ModelSpec>> LoadModelSpecs(const ModelFlags& flags);

// The manifest entry named by the flags' --model.
absl::StatusOr<infer::ModelSpec> LoadModelSpec(const ModelFlags& flags);

// The face detector that privacy masking uses (face::kDefaultDetector of the flags' manifest).
// The server does not start without it: live view and exports are always masked.
absl::StatusOr<face::FaceModel> LoadMaskingModel(const ModelFlags& flags);

// The text detector that plate masking uses (plate::kDefaultTextDetector of the flags'
// manifest). While the configuration's privacy.mask_plates is on (the default) the server does
// not start without it either.
absl::StatusOr<plate::OcrModel> LoadPlateMaskingModel(const ModelFlags& flags);

// The labels Custos tracks by default: people and vehicles.
const std::vector<std::string>& DefaultLabels();

// Which labels to report: the given list, DefaultLabels() when empty, everything for "all".
class LabelFilter {
 public:
  explicit LabelFilter(const std::vector<std::string>& labels);
  bool operator()(const std::string& label) const { return all_ || labels_.contains(label); }

 private:
  bool all_ = false;
  std::set<std::string> labels_;
};

inline double RoundTo(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

}  // namespace custos::cli
