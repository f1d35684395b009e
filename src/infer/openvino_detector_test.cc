#include "infer/openvino_detector.h"

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "core/testing.h"
#include "gtest/gtest.h"

namespace custos::infer {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<ModelSpec> DefaultSpec() {
  auto specs = LoadManifest(DefaultManifestPath(), DefaultModelsDir());
  if (!specs.ok()) return specs.status();
  return FindModel(*specs, "nanodet-coco");
}

#define REQUIRE_MODEL(spec)                                                                    \
  auto spec##_or = DefaultSpec();                                                              \
  ASSERT_TRUE(spec##_or.ok()) << spec##_or.status();                                           \
  if (!fs::exists(spec##_or->FilePath()))                                                      \
    GTEST_SKIP() << "model not provisioned: " << spec##_or->FilePath() << " (tools/setup.sh)"; \
  const ModelSpec spec = *spec##_or

bool Contains(const BoxF& box, float x, float y) {
  return x >= box.x && x <= box.Right() && y >= box.y && y <= box.Bottom();
}

TEST(OpenVinoDetector, FindsTheCarsOfRealRoadPhotos) {
  REQUIRE_MODEL(spec);
  CUSTOS_REQUIRE_DATA(dir, testing::SharedData("plates/us"));
  auto detector = OpenVinoDetector::Create(spec, {});
  ASSERT_TRUE(detector.ok()) << detector.status();
  int images = 0, found = 0;
  // Every photo shows a vehicle whose plate box is labelled; the plate must lie in a vehicle.
  for (const char* name : {"car1", "car11", "car12", "car13", "car14", "car15", "car16", "car17",
                           "car18", "car19", "car2", "car20"}) {
    std::ifstream label(dir + "/" + name + ".txt");
    if (!label) continue;
    std::string file;
    float x, y, w, h;
    label >> file >> x >> y >> w >> h;
    const cv::Mat image = cv::imread(dir + "/" + name + ".jpg");
    ASSERT_FALSE(image.empty()) << name;
    auto dets = (*detector)->DetectBatch({image});
    ASSERT_TRUE(dets.ok()) << dets.status();
    ++images;
    for (const Detection& d : (*dets)[0]) {
      if ((d.label == "car" || d.label == "truck" || d.label == "bus") && d.score >= 0.4f &&
          Contains(d.box, x + w / 2, y + h / 2)) {
        ++found;
        break;
      }
    }
  }
  ASSERT_GE(images, 10);
  EXPECT_GE(found, images - 1) << found << " of " << images << " vehicles found";
}

TEST(OpenVinoDetector, FindsAPersonAndBatchesGiveTheSameAnswer) {
  REQUIRE_MODEL(spec);
  CUSTOS_REQUIRE_DATA(photo, testing::SharedData("faces/obama.jpg"));
  CUSTOS_REQUIRE_DATA(car, testing::SharedData("plates/us/car1.jpg"));
  auto detector = OpenVinoDetector::Create(spec, {});
  ASSERT_TRUE(detector.ok()) << detector.status();
  const cv::Mat person = cv::imread(photo);
  const cv::Mat vehicle = cv::imread(car);
  auto single = (*detector)->DetectBatch({person});
  auto batch = (*detector)->DetectBatch({vehicle, person, vehicle});
  ASSERT_TRUE(single.ok() && batch.ok());
  ASSERT_EQ(batch->size(), 3u);
  ASSERT_FALSE((*single)[0].empty());
  EXPECT_EQ((*single)[0][0].label, "person");
  EXPECT_GT((*single)[0][0].score, 0.6f);
  ASSERT_EQ((*batch)[1].size(), (*single)[0].size());
  EXPECT_NEAR((*batch)[1][0].score, (*single)[0][0].score, 1e-3);
  EXPECT_NEAR((*batch)[1][0].box.x, (*single)[0][0].box.x, 0.5);
  EXPECT_EQ((*batch)[0].size(), (*batch)[2].size());
  for (const Detection& d : (*single)[0]) {
    EXPECT_GE(d.box.x, 0);
    EXPECT_LE(d.box.Right(), static_cast<float>(person.cols));
    EXPECT_LE(d.box.Bottom(), static_cast<float>(person.rows));
  }
}

TEST(OpenVinoDetector, RefusesAModelWhoseChecksumDiffers) {
  REQUIRE_MODEL(spec);
  const fs::path dir = testing::TempDir("model");
  ModelSpec copy = spec;
  copy.dir = dir.string();
  fs::copy_file(spec.FilePath(), dir / spec.file);
  fs::copy_file(spec.dir + "/" + spec.weights, dir / spec.weights);
  {
    std::fstream f(dir / spec.weights, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x42');
  }
  auto detector = OpenVinoDetector::Create(copy, {});
  EXPECT_EQ(detector.status().code(), absl::StatusCode::kDataLoss) << detector.status();
  fs::remove_all(dir);
}

TEST(OpenVinoDetector, RejectsEmptyImagesAndUnknownDecoders) {
  REQUIRE_MODEL(spec);
  auto detector = OpenVinoDetector::Create(spec, {});
  ASSERT_TRUE(detector.ok());
  EXPECT_EQ((*detector)->DetectBatch({cv::Mat()}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ModelSpec odd = spec;
  odd.decoder = "retinanet";
  auto bad = OpenVinoDetector::Create(odd, {});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("supported: nanodet"), std::string::npos);
}

}  // namespace
}  // namespace custos::infer
