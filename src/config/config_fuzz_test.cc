// Fuzz target for the configuration parser: any byte string must give a Config or a clean
// error, never a crash, hang or exception. Built two ways:
//  - always: a GoogleTest that runs FuzzConfig on every file in config_corpus/ (one test per
//    file), so the corpus is a regression suite under ctest;
//  - with clang and -DCUSTOS_FUZZ=ON: the libFuzzer binary config_fuzzer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"

namespace custos::config {

void FuzzConfig(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Config> config = ParseConfig(text, "fuzz.yaml");
  if (config.ok()) {
    // A config that parses must satisfy the invariants the rest of Custos relies on.
    if (config->cameras.empty()) __builtin_trap();
    for (const CameraConfig& camera : config->cameras) {
      if (camera.id.empty() || camera.url.empty() || !(camera.detect.fps > 0)) __builtin_trap();
      for (const ZoneConfig& zone : camera.zones) {
        if (zone.polygon.size() < 3 || zone.min_frames < 1) __builtin_trap();
      }
    }
  } else if (config.status().code() != absl::StatusCode::kInvalidArgument ||
             config.status().message().empty()) {
    __builtin_trap();
  }
}

}  // namespace custos::config

#ifdef CUSTOS_LIBFUZZER

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  custos::config::FuzzConfig(data, size);
  return 0;
}

#else  // The corpus as a regression test.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace custos::config {
namespace {

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(CUSTOS_CONFIG_CORPUS_DIR, ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ConfigCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(ConfigCorpus, ParsesOrFailsCleanly) {
  const std::string path = std::string(CUSTOS_CONFIG_CORPUS_DIR) + "/" + GetParam();
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  FuzzConfig(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

TEST(ConfigCorpusDir, HasSeeds) { EXPECT_GE(CorpusFiles().size(), 10u); }

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Seeds, ConfigCorpus, ::testing::ValuesIn(CorpusFiles()), TestName);

}  // namespace
}  // namespace custos::config

#endif  // CUSTOS_LIBFUZZER
