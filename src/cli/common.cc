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

namespace {

std::string ManifestOf(const ModelFlags& flags) {
  return flags.manifest.empty() ? infer::DefaultManifestPath() : flags.manifest;
}

std::string ModelsDirOf(const ModelFlags& flags) {
  return flags.models_dir.empty() ? infer::DefaultModelsDir() : flags.models_dir;
}

// `model`, or its error saying first what needs the model and last how to provision it.
template <typename T>
absl::StatusOr<T> NeededFor(absl::StatusOr<T> model, absl::string_view need) {
  if (model.ok()) return model;
  return absl::Status(model.status().code(), absl::StrCat(need, ": ", model.status().message(),
                                                          " (tools/setup.sh provisions it)"));
}

}  // namespace

absl::StatusOr<std::vector<infer::ModelSpec>> LoadModelSpecs(const ModelFlags& flags) {
  return infer::LoadManifest(ManifestOf(flags), ModelsDirOf(flags));
}

absl::StatusOr<face::FaceModel> LoadMaskingModel(const ModelFlags& flags) {
  return NeededFor(
      face::LoadFaceModel(ManifestOf(flags), ModelsDirOf(flags), face::kDefaultDetector),
      absl::StrCat("privacy masking needs the face detector '", face::kDefaultDetector, "'"));
}

absl::StatusOr<plate::OcrModel> LoadPlateMaskingModel(const ModelFlags& flags) {
  return NeededFor(
      plate::LoadOcrModel(ManifestOf(flags), ModelsDirOf(flags), plate::kDefaultTextDetector),
      absl::StrCat("plate masking (privacy.mask_plates) needs the text detector '",
                   plate::kDefaultTextDetector, "'"));
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
