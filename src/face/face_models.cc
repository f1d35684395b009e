#include "face/face_models.h"

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "yaml-cpp/yaml.h"

namespace custos::face {

absl::StatusOr<FaceModel> LoadFaceModel(const std::string& manifest_path,
                                        const std::string& models_dir, const std::string& name) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<infer::ModelSpec> specs,
                          infer::LoadManifest(manifest_path, models_dir));
  FaceModel model;
  CUSTOS_ASSIGN_OR_RETURN(model.spec, infer::FindModel(specs, name));
  // LoadManifest has parsed the file already, so only the face block can fail here.
  try {
    const YAML::Node root = YAML::LoadFile(manifest_path);
    for (const YAML::Node& m : root["models"]) {
      if (m["name"].as<std::string>() != name) continue;
      const YAML::Node f = m["face"];
      if (!f) break;
      FaceModelConfig& c = model.config;
      if (f["anchors_per_cell"]) c.anchors_per_cell = f["anchors_per_cell"].as<std::vector<int>>();
      if (f["output"]) c.output = f["output"].as<std::string>();
      if (f["keypoints"]) c.keypoints = f["keypoints"].as<int>();
      if (f["landmarks"]) c.landmarks = f["landmarks"].as<std::string>();
      if (f["embedding_size"]) c.embedding_size = f["embedding_size"].as<int>();
      if (f["match_threshold"]) c.match_threshold = f["match_threshold"].as<float>();
      if (f["chip_padding"]) c.chip_padding = f["chip_padding"].as<float>();
      if (!c.anchors_per_cell.empty() && c.anchors_per_cell.size() != model.spec.strides.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat(manifest_path, ": line ", f.Mark().line + 1, ": model '", name,
                         "': face.anchors_per_cell needs one entry per stride"));
      }
      break;
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_path, ":", e.mark.line + 1, ": model '", name, "': ", e.msg));
  }
  return model;
}

}  // namespace custos::face
