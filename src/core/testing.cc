#include "core/testing.h"

#include <cstdlib>
#include <random>

namespace custos::testing {

namespace fs = std::filesystem;

std::optional<std::string> SharedData(const std::string& relative) {
  const char* env = std::getenv("CUSTOS_TEST_DATA");
  const fs::path root =
      env ? fs::path(env) : fs::path(CUSTOS_SOURCE_DIR) / ".." / "shared" / "data";
  const fs::path path = root / relative;
  if (!fs::exists(path)) return std::nullopt;
  return fs::weakly_canonical(path).string();
}

std::optional<std::string> VarData(const std::string& relative) {
  const fs::path path = fs::path(CUSTOS_SOURCE_DIR) / "var" / relative;
  if (!fs::exists(path)) return std::nullopt;
  return path.string();
}

fs::path TempDir(const std::string& prefix) {
  std::random_device rd;
  for (;;) {
    fs::path dir = fs::temp_directory_path() / (prefix + "-" + std::to_string(rd()));
    if (fs::create_directory(dir)) return dir;
  }
}

}  // namespace custos::testing
