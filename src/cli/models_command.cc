#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "nlohmann/json.hpp"

namespace custos::cli {
int RunModelsList(const ModelFlags& flags, bool json) {
  auto specs = LoadModelSpecs(flags);
  if (!specs.ok()) return Fail("models list", specs.status());
  nlohmann::json out = nlohmann::json::array();
  for (const infer::ModelSpec& s : *specs) {
    const absl::Status verified = infer::VerifyModel(s);
    const std::string state = verified.ok() ? "ok"
                              : verified.code() == absl::StatusCode::kNotFound
                                  ? "missing"
                                  : "checksum-mismatch";
    out.push_back({{"name", s.name},
                   {"task", s.task},
                   {"format", s.format},
                   {"file", s.FilePath()},
                   {"input", {s.input.width, s.input.height}},
                   {"labels", s.labels.size()},
                   {"decoder", s.decoder},
                   {"license", s.license},
                   {"source", s.source.registry + ":" + s.source.package + "@" + s.source.version},
                   {"sha256", s.sha256},
                   {"state", state}});
    if (!json) {
      std::printf("%-16s %-7s %-12s %dx%d  %3zu labels  %-9s %s@%s\n  licence: %s\n",
                  s.name.c_str(), s.task.c_str(), s.format.c_str(), s.input.width, s.input.height,
                  s.labels.size(), state.c_str(), s.source.package.c_str(),
                  s.source.version.c_str(), s.license.c_str());
    }
  }
  if (json) std::cout << out.dump(2) << "\n";
  return 0;
}

int RunModelsVerify(const ModelFlags& flags, const std::vector<std::string>& names) {
  auto specs = LoadModelSpecs(flags);
  if (!specs.ok()) return Fail("models verify", specs.status());
  int bad = 0;
  for (const infer::ModelSpec& s : *specs) {
    if (!names.empty() && std::find(names.begin(), names.end(), s.name) == names.end()) continue;
    const absl::Status status = infer::VerifyModel(s);
    if (status.ok()) {
      std::printf("%s: ok (%zu files match their SHA-256)\n", s.name.c_str(), s.sha256.size());
    } else {
      std::fprintf(stderr, "%s: %s\n", s.name.c_str(), std::string(status.message()).c_str());
      ++bad;
    }
  }
  for (const std::string& n : names) {
    if (!infer::FindModel(*specs, n).ok()) {
      std::fprintf(stderr, "%s: not in the manifest\n", n.c_str());
      ++bad;
    }
  }
  return bad == 0 ? 0 : 3;
}

}  // namespace custos::cli
