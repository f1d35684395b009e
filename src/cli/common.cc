#include "cli/common.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace custos::cli {

int Fail(const char* command, const absl::Status& status) {
  std::fprintf(stderr, "custos %s: %s\n", command, std::string(status.message()).c_str());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
      return 2;
    case absl::StatusCode::kDataLoss:
      return 3;
    default:
      return 1;
  }
}

absl::StatusOr<std::vector<infer::ModelSpec>> LoadModelSpecs(const ModelFlags& flags) {
  const std::string manifest =
      flags.manifest.empty() ? infer::DefaultManifestPath() : flags.manifest;
  const std::string dir = flags.models_dir.empty() ? infer::DefaultModelsDir() : flags.models_dir;
  return infer::LoadManifest(manifest, dir);
}

absl::StatusOr<face::FaceModel> LoadMaskingModel(const ModelFlags& flags) {
  const std::string manifest =
      flags.manifest.empty() ? infer::DefaultManifestPath() : flags.manifest;
  const std::string dir = flags.models_dir.empty() ? infer::DefaultModelsDir() : flags.models_dir;
  absl::StatusOr<face::FaceModel> model =
      face::LoadFaceModel(manifest, dir, face::kDefaultDetector);
  if (!model.ok()) {
    return absl::Status(
        model.status().code(),
        absl::StrCat("privacy masking needs the face detector '", face::kDefaultDetector,
                     "': ", model.status().message(), " (tools/setup.sh provisions it)"));
  }
  return model;
}

absl::StatusOr<infer::ModelSpec> LoadModelSpec(const ModelFlags& flags) {
  auto specs = LoadModelSpecs(flags);
  if (!specs.ok()) return specs.status();
  return infer::FindModel(*specs, flags.model);
}

const std::vector<std::string>& DefaultLabels() {
  static const auto* labels =
      new std::vector<std::string>{"person", "bicycle", "car", "motorcycle", "bus", "truck"};
  return *labels;
}

LabelFilter::LabelFilter(const std::vector<std::string>& labels) {
  for (const std::string& l : labels.empty() ? DefaultLabels() : labels) {
    if (l == "all") all_ = true;
    labels_.insert(l);
  }
}

}  // namespace custos::cli
