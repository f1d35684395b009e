#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/face_commands.h"
#include "core/testing.h"
#include "gtest/gtest.h"
#include "infer/model_manifest.h"
#include "nlohmann/json.hpp"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

#define REQUIRE_FACE_MODELS()                                                                  \
  if (!fs::exists(infer::DefaultModelsDir() + "/dlib_face_recognition_resnet_model_v1.dat") || \
      !fs::exists(infer::DefaultModelsDir() + "/mediapipe-face-full.xml"))                     \
  GTEST_SKIP() << "face models not provisioned in " << infer::DefaultModelsDir()

std::vector<nlohmann::json> Lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(FaceCompare, PrintsOneJsonLinePerPairInOrderWithErrorsForBadRows) {
  REQUIRE_FACE_MODELS();
  CUSTOS_REQUIRE_DATA(dir, testing::SharedData("faces"));
  const fs::path tmp = testing::TempDir("face_pairs");
  const std::string csv = (tmp / "pairs.csv").string();
  std::ofstream(csv) << "a,b\n"
                     << dir << "/obama.jpg," << dir << "/obama2.jpg\n"
                     << dir << "/obama.jpg," << dir << "/biden.jpg\n"
                     << dir << "/obama.jpg\n"                                 // missing column
                     << dir << "/obama.jpg," << dir << "/no-such-file.jpg\n"  // missing file
                     << "\"" << dir << "/biden2.jpg\"," << dir << "/biden.jpg\n";
  FaceCompareFlags flags;
  flags.pairs = csv;
  flags.json = true;
  std::ostringstream out;
  EXPECT_EQ(RunFaceCompare(flags, out), 1);  // Some rows failed.
  const auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 5u) << out.str();
  EXPECT_TRUE(lines[0]["same"].get<bool>()) << lines[0];
  EXPECT_FALSE(lines[1]["same"].get<bool>()) << lines[1];
  EXPECT_FALSE(lines[2]["same"].get<bool>());
  EXPECT_NE(lines[2]["error"].get<std::string>().find("missing 'b'"), std::string::npos);
  EXPECT_FALSE(lines[3]["same"].get<bool>());
  EXPECT_NE(lines[3]["error"].get<std::string>().find("cannot read image"), std::string::npos);
  EXPECT_TRUE(lines[4]["same"].get<bool>()) << lines[4];
  for (const auto& l : lines) {
    EXPECT_TRUE(l.contains("threshold"));
    EXPECT_EQ(l.contains("score"), !l.contains("error")) << l;
  }
  EXPECT_EQ(lines[3]["line"], 5);
  fs::remove_all(tmp);
}

TEST(FaceCompare, TwoImagesPrintScoreSameAndThreshold) {
  REQUIRE_FACE_MODELS();
  CUSTOS_REQUIRE_DATA(dir, testing::SharedData("faces"));
  FaceCompareFlags flags;
  flags.images = {dir + "/obama-720p.jpg", dir + "/obama1.jpg"};
  flags.json = true;
  std::ostringstream out;
  ASSERT_EQ(RunFaceCompare(flags, out), 0);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_TRUE(j["same"].get<bool>());
  EXPECT_GE(j["score"].get<double>(), j["threshold"].get<double>());
  EXPECT_EQ(j.size(), 3u) << j;
}

TEST(FaceCompare, RefusesAPairsFileWithoutHeaderAndBadFlags) {
  const fs::path tmp = testing::TempDir("face_pairs");
  const std::string csv = (tmp / "bad.csv").string();
  std::ofstream(csv) << "x.jpg,y.jpg\n";
  FaceCompareFlags flags;
  flags.pairs = csv;
  std::ostringstream out;
  EXPECT_EQ(RunFaceCompare(flags, out), 2);
  flags.pairs = (tmp / "absent.csv").string();
  EXPECT_EQ(RunFaceCompare(flags, out), 2);
  flags.pairs.clear();
  flags.images = {"only-one.jpg"};
  EXPECT_EQ(RunFaceCompare(flags, out), 2);
  EXPECT_TRUE(out.str().empty());
  fs::remove_all(tmp);
}

TEST(FaceDetect, ReportsFacesWithQualityAndAnErrorForAMissingImage) {
  REQUIRE_FACE_MODELS();
  CUSTOS_REQUIRE_DATA(dir, testing::SharedData("faces"));
  FaceDetectFlags flags;
  flags.images = {dir + "/obama_and_biden.jpg", dir + "/nope.jpg"};
  flags.json = true;
  std::ostringstream out;
  EXPECT_EQ(RunFaceDetect(flags, out), 1);
  const auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j.size(), 2u);
  ASSERT_EQ(j[0]["faces"].size(), 2u);
  for (const auto& f : j[0]["faces"]) {
    EXPECT_EQ(f["box"].size(), 4u);
    EXPECT_EQ(f["keypoints"].size(), 6u);
    EXPECT_EQ(f["landmarks"].size(), 5u);
    EXPECT_TRUE(f["quality"]["passed"].get<bool>()) << f;
  }
  EXPECT_TRUE(j[1].contains("error"));
}

}  // namespace
}  // namespace custos::cli
