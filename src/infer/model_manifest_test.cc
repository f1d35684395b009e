#include "infer/model_manifest.h"

#include <filesystem>
#include <fstream>

#include "core/testing.h"
#include "gtest/gtest.h"

namespace custos::infer {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A manifest with one tiny "model" whose checksum is that of the text "hello\n".
std::string TinyManifest() {
  return R"(models:
  - name: tiny
    format: onnx
    file: tiny.onnx
    sha256:
      tiny.onnx: 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03
    decoder: ssd
    input: {width: 32, height: 16}
    labels: two
label_sets:
  two: [person, car]
)";
}

TEST(ModelManifest, ReadsTheProjectManifest) {
  auto specs = LoadManifest(DefaultManifestPath(), DefaultModelsDir());
  ASSERT_TRUE(specs.ok()) << specs.status();
  auto spec = FindModel(*specs, "nanodet-coco");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->input.width, 416);
  EXPECT_EQ(spec->labels.size(), 80u);
  EXPECT_EQ(spec->labels[0], "person");
  EXPECT_EQ(spec->labels[2], "car");
  EXPECT_EQ(spec->source.registry, "npm");
  EXPECT_EQ(spec->sha256.size(), 2u);
}

TEST(ModelManifest, AcceptsAFileWithTheRecordedChecksum) {
  const fs::path dir = testing::TempDir("manifest");
  Write(dir / "manifest.yaml", TinyManifest());
  Write(dir / "tiny.onnx", "hello\n");
  auto specs = LoadManifest((dir / "manifest.yaml").string(), dir.string());
  ASSERT_TRUE(specs.ok()) << specs.status();
  EXPECT_EQ((*specs)[0].labels, (std::vector<std::string>{"person", "car"}));
  EXPECT_TRUE(VerifyModel((*specs)[0]).ok());
  fs::remove_all(dir);
}

TEST(ModelManifest, RefusesAFileWithTheWrongChecksum) {
  const fs::path dir = testing::TempDir("manifest");
  Write(dir / "manifest.yaml", TinyManifest());
  Write(dir / "tiny.onnx", "hellO\n");
  auto specs = LoadManifest((dir / "manifest.yaml").string(), dir.string());
  ASSERT_TRUE(specs.ok());
  const absl::Status status = VerifyModel((*specs)[0]);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("refusing to load"), std::string::npos) << status;
  fs::remove_all(dir);
}

TEST(ModelManifest, ReportsAMissingFileWithWhatToDo) {
  const fs::path dir = testing::TempDir("manifest");
  Write(dir / "manifest.yaml", TinyManifest());
  auto specs = LoadManifest((dir / "manifest.yaml").string(), dir.string());
  ASSERT_TRUE(specs.ok());
  const absl::Status status = VerifyModel((*specs)[0]);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("tools/setup.sh"), std::string::npos) << status;
  fs::remove_all(dir);
}

TEST(ModelManifest, MalformedManifestReportsTheLine) {
  const fs::path dir = testing::TempDir("manifest");
  Write(dir / "manifest.yaml", "models:\n  - name: x\n    input: {width: [\n");
  auto specs = LoadManifest((dir / "manifest.yaml").string(), dir.string());
  ASSERT_FALSE(specs.ok());
  EXPECT_EQ(specs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(specs.status().message().find("manifest.yaml:"), std::string::npos);
  fs::remove_all(dir);
}

TEST(ModelManifest, UnknownModelNamesTheKnownOnes) {
  std::vector<ModelSpec> specs(1);
  specs[0].name = "a";
  auto missing = FindModel(specs, "b");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("known: a"), std::string::npos);
}

}  // namespace
}  // namespace custos::infer
