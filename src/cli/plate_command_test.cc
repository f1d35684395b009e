#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/plate_commands.h"
#include "core/testing.h"
#include "gtest/gtest.h"
#include "infer/model_manifest.h"
#include "nlohmann/json.hpp"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

#define REQUIRE_PLATE_MODELS()                                                  \
  if (!fs::exists(infer::DefaultModelsDir() + "/ch_PP-OCRv4_rec_infer.onnx") || \
      !fs::exists(infer::DefaultModelsDir() + "/ch_PP-OCRv4_det_infer.onnx") || \
      !fs::exists(infer::DefaultModelsDir() + "/nanodet-coco.xml"))             \
  GTEST_SKIP() << "plate models not provisioned in " << infer::DefaultModelsDir()

TEST(PlateRead, PrintsPlatesBestFirstAndAPerFileErrorForBadImages) {
  REQUIRE_PLATE_MODELS();
  CUSTOS_REQUIRE_DATA(image,
                      testing::SharedData("plates/us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg"));
  const fs::path tmp = testing::TempDir("plate_read");
  const std::string corrupt = (tmp / "corrupt.jpg").string();
  std::ofstream(corrupt) << "\xFF\xD8\xFF\xE0 not really a jpeg";
  PlateReadFlags flags;
  flags.images = {image, corrupt, (tmp / "missing.jpg").string()};
  flags.json = true;
  flags.top = 3;
  std::ostringstream out;
  EXPECT_EQ(RunPlateRead(flags, out), 0);  // One image was read.
  const nlohmann::ordered_json all = nlohmann::ordered_json::parse(out.str());
  ASSERT_EQ(all.size(), 3u) << all;
  EXPECT_EQ(all[0]["file"], image);
  EXPECT_FALSE(all[0].contains("error"));
  ASSERT_FALSE(all[0]["plates"].empty()) << all[0];
  const nlohmann::ordered_json& best = all[0]["plates"][0];
  EXPECT_EQ(best["text"], "YG9X2G") << best;
  EXPECT_GT(best["confidence"].get<double>(), 0.5);
  EXPECT_LE(best["confidence"].get<double>(), 1.0);
  ASSERT_EQ(best["box"].size(), 4u);
  // The box lies on the labelled plate (x 935, y 362, 99 x 49 in the photo's label file).
  EXPECT_NEAR(best["box"][0].get<int>(), 935 + 10, 20);
  EXPECT_NEAR(best["box"][1].get<int>(), 362 + 12, 20);
  ASSERT_FALSE(best["candidates"].empty());
  EXPECT_LE(best["candidates"].size(), 3u);
  EXPECT_EQ(best["candidates"][0]["text"], best["text"]);
  for (size_t i = 1; i < all[0]["plates"].size(); ++i) {
    EXPECT_LE(all[0]["plates"][i]["confidence"].get<double>(), 1.0);
  }
  for (size_t i : {1, 2}) EXPECT_TRUE(all[i]["plates"].empty());
  EXPECT_NE(all[1]["error"].get<std::string>().find("cannot read image"), std::string::npos);
  EXPECT_EQ(all[2]["error"], "no such file");
  // Keys in the documented order.
  EXPECT_EQ(all[0].begin().key(), "file");
  EXPECT_EQ(best.begin().key(), "text");
  // No readable image at all: exit 1, and the errors still printed.
  flags.images = {corrupt};
  std::ostringstream out2;
  EXPECT_EQ(RunPlateRead(flags, out2), 1);
  EXPECT_TRUE(nlohmann::json::parse(out2.str())[0].contains("error"));
  fs::remove_all(tmp);
}

TEST(PlateRead, RejectsBadFlags) {
  PlateReadFlags flags;
  flags.images = {"x.jpg"};
  flags.top = 0;
  std::ostringstream out;
  EXPECT_EQ(RunPlateRead(flags, out), 2);
  flags.top = 5;
  flags.country = "atlantis";
  EXPECT_EQ(RunPlateRead(flags, out), 2);
  flags.country = "us";
  flags.patterns = {"[A-Z"};
  EXPECT_EQ(RunPlateRead(flags, out), 2);
  EXPECT_TRUE(out.str().empty());
}

}  // namespace
}  // namespace custos::cli
