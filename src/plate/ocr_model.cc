#include "plate/ocr_model.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "yaml-cpp/yaml.h"

namespace custos::plate {

absl::StatusOr<OcrModel> LoadOcrModel(const std::string& manifest_path,
                                      const std::string& models_dir, const std::string& name) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<infer::ModelSpec> specs,
                          infer::LoadManifest(manifest_path, models_dir));
  OcrModel model;
  CUSTOS_ASSIGN_OR_RETURN(model.spec, infer::FindModel(specs, name));
  const std::string& decoder = model.spec.decoder;
  if (decoder != "db" && decoder != "ctc") {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", name, "' has decoder '", decoder,
        "'; plate reading needs a text detector (decoder: db) and a text recogniser (decoder: "
        "ctc), see docs/plates.md"));
  }
  if (decoder == "db") return model;
  // LoadManifest has parsed the file already, so only the ocr block can fail here.
  try {
    const YAML::Node root = YAML::LoadFile(manifest_path);
    for (const YAML::Node& m : root["models"]) {
      if (m["name"].as<std::string>() != name) continue;
      const YAML::Node ocr = m["ocr"];
      if (!ocr || !ocr["dictionary"]) {
        return absl::InvalidArgumentError(
            absl::StrCat(manifest_path, ": line ", m.Mark().line + 1, ": recogniser '", name,
                         "' needs ocr.dictionary (its character list, one per line)"));
      }
      model.dictionary = models_dir + "/" + ocr["dictionary"].as<std::string>();
      break;
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_path, ":", e.mark.line + 1, ": model '", name, "': ", e.msg));
  }
  return model;
}

absl::StatusOr<std::vector<std::string>> ReadDictionary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot open character dictionary ", path, "; run tools/setup.sh"));
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

}  // namespace custos::plate
