#include "infer/model_manifest.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "custos/status.h"
#include "yaml-cpp/yaml.h"

namespace custos::infer {
namespace {

namespace fs = std::filesystem;

std::string Where(const YAML::Node& node) { return absl::StrCat("line ", node.Mark().line + 1); }

// yaml-cpp throws on type errors; the manifest is parsed inside one try block in LoadManifest.
template <typename T>
T Get(const YAML::Node& node, const char* key, const T& fallback) {
  return node[key] ? node[key].as<T>() : fallback;
}

ModelSpec ParseModel(const YAML::Node& m, const YAML::Node& label_sets, const std::string& dir) {
  ModelSpec spec;
  spec.name = m["name"].as<std::string>();
  spec.task = Get<std::string>(m, "task", "detect");
  spec.description = Get<std::string>(m, "description", "");
  spec.format = m["format"].as<std::string>();
  spec.file = m["file"].as<std::string>();
  spec.weights = Get<std::string>(m, "weights", "");
  if (m["sha256"]) spec.sha256 = m["sha256"].as<std::map<std::string, std::string>>();
  spec.decoder = Get<std::string>(m, "decoder", "");
  if (const YAML::Node in = m["input"]) {
    spec.input.width = in["width"].as<int>();
    spec.input.height = in["height"].as<int>();
    spec.input.layout = Get<std::string>(in, "layout", "NCHW");
    spec.input.color = Get<std::string>(in, "color", "bgr");
    if (in["mean"]) spec.input.mean = in["mean"].as<std::array<float, 3>>();
    if (in["std"]) spec.input.std = in["std"].as<std::array<float, 3>>();
  }
  spec.strides = Get<std::vector<int>>(m, "strides", {});
  spec.reg_max = Get<int>(m, "reg_max", 0);
  if (const YAML::Node labels = m["labels"]) {
    if (labels.IsScalar()) {
      const YAML::Node set = label_sets[labels.as<std::string>()];
      if (!set)
        throw YAML::Exception(labels.Mark(), "unknown label set " + labels.as<std::string>());
      spec.labels = set.as<std::vector<std::string>>();
    } else {
      spec.labels = labels.as<std::vector<std::string>>();
    }
  }
  spec.license = Get<std::string>(m, "license", "");
  if (const YAML::Node src = m["source"]) {
    spec.source.registry = Get<std::string>(src, "registry", "");
    spec.source.package = Get<std::string>(src, "package", "");
    spec.source.version = Get<std::string>(src, "version", "");
    spec.source.sha256 = Get<std::string>(src, "sha256", "");
  }
  spec.dir = dir;
  return spec;
}

}  // namespace

absl::StatusOr<std::vector<ModelSpec>> LoadManifest(const std::string& manifest_path,
                                                    const std::string& models_dir) {
  if (!fs::exists(manifest_path)) {
    return absl::NotFoundError(absl::StrCat("model manifest not found: ", manifest_path));
  }
  std::vector<ModelSpec> specs;
  try {
    const YAML::Node root = YAML::LoadFile(manifest_path);
    const YAML::Node models = root["models"];
    if (!models || !models.IsSequence()) {
      return absl::InvalidArgumentError(absl::StrCat(manifest_path, ": expected a 'models' list"));
    }
    for (const YAML::Node& m : models) {
      ModelSpec spec = ParseModel(m, root["label_sets"], models_dir);
      if (spec.input.width <= 0 || spec.input.height <= 0) {
        return absl::InvalidArgumentError(absl::StrCat(manifest_path, ": ", Where(m), ": model '",
                                                       spec.name, "' needs input width/height"));
      }
      specs.push_back(std::move(spec));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_path, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  return specs;
}

absl::StatusOr<ModelSpec> FindModel(const std::vector<ModelSpec>& specs, const std::string& name) {
  std::vector<std::string> names;
  for (const ModelSpec& s : specs) {
    if (s.name == name) return s;
    names.push_back(s.name);
  }
  return absl::NotFoundError(absl::StrCat(
      "no model named '", name, "' in the manifest (known: ", absl::StrJoin(names, ", "), ")"));
}

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize n = in.gcount();
    if (n > 0) {
      crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buf.data()),
                                static_cast<unsigned long long>(n));
    }
  }
  if (in.bad()) return absl::UnavailableError(absl::StrCat("read error on ", path));
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string(hex);
}

absl::Status VerifyModel(const ModelSpec& spec) {
  if (spec.sha256.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", spec.name, "' has no sha256 entries in the manifest; record them before use"));
  }
  for (const std::string& f : {spec.file, spec.weights}) {
    if (!f.empty() && !spec.sha256.contains(f)) {
      return absl::FailedPreconditionError(
          absl::StrCat("model '", spec.name, "': the manifest records no sha256 for ", f));
    }
  }
  for (const auto& [file, want] : spec.sha256) {
    const std::string path = spec.dir + "/" + file;
    if (!fs::exists(path)) {
      return absl::NotFoundError(absl::StrCat("model '", spec.name, "': ", path,
                                              " is missing; run tools/setup.sh to provision it"));
    }
    CUSTOS_ASSIGN_OR_RETURN(const std::string got, Sha256File(path));
    if (got != want) {
      return absl::DataLossError(absl::StrCat(
          "model '", spec.name, "': ", path, " has SHA-256 ", got, " but the manifest expects ",
          want,
          "; refusing to load it (re-run tools/setup.sh, or update the manifest if you "
          "replaced the model on purpose)"));
    }
  }
  return absl::OkStatus();
}

std::string DefaultModelsDir() {
  if (const char* env = std::getenv("CUSTOS_MODELS_DIR")) return env;
  return std::string(CUSTOS_SOURCE_DIR) + "/var/models";
}

std::string DefaultManifestPath() {
  if (const char* env = std::getenv("CUSTOS_MODEL_MANIFEST")) return env;
  return std::string(CUSTOS_SOURCE_DIR) + "/models/manifest.yaml";
}

}  // namespace custos::infer
