// Runs the real face models on ../shared/data/faces: public-domain photos of two people
// (obama*.jpg: one person, several photos and resolutions; biden*.jpg: another;
// obama_and_biden.jpg: both).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/testing.h"
#include "face/face_analyzer.h"
#include "gtest/gtest.h"
#include "infer/model_manifest.h"

namespace custos::face {
namespace {

namespace fs = std::filesystem;

// One analyzer for the whole suite: loading dlib's network takes about a second.
FaceAnalyzer* Analyzer() {
  static FaceAnalyzer* analyzer = [] {
    auto a = FaceAnalyzer::Create(infer::DefaultManifestPath(), infer::DefaultModelsDir(),
                                  kDefaultDetector, kDefaultEmbedder, {});
    if (!a.ok()) {
      std::fprintf(stderr, "face models unavailable: %s\n", a.status().ToString().c_str());
      return static_cast<FaceAnalyzer*>(nullptr);
    }
    return a->release();
  }();
  return analyzer;
}

#define REQUIRE_MODELS(var)                                                                    \
  if (!fs::exists(infer::DefaultModelsDir() + "/dlib_face_recognition_resnet_model_v1.dat") || \
      !fs::exists(infer::DefaultModelsDir() + "/mediapipe-face-full.xml"))                     \
    GTEST_SKIP() << "face models not provisioned in " << infer::DefaultModelsDir()             \
                 << " (tools/models/provision.py)";                                            \
  FaceAnalyzer* var = Analyzer();                                                              \
  ASSERT_NE(var, nullptr)

const std::vector<std::string>& Photos() {
  static const std::vector<std::string> names = {
      "biden.jpg",      "biden2.jpg", "obama-1080p.jpg", "obama-240p.jpg", "obama-480p.jpg",
      "obama-720p.jpg", "obama.jpg",  "obama1.jpg",      "obama2.jpg",     "obama_small.jpg"};
  return names;
}

std::string Person(const std::string& name) { return name.substr(0, 5); }

TEST(FaceDetector, FindsTheFaceInEveryPhotoAndBothFacesInTheGroupPhoto) {
  REQUIRE_MODELS(analyzer);
  CUSTOS_REQUIRE_DATA(dir, testing::SharedData("faces"));
  for (const std::string& name : Photos()) {
    const cv::Mat image = cv::imread(dir + "/" + name);
    ASSERT_FALSE(image.empty()) << name;
    auto faces = analyzer->detector().Detect(image);
    ASSERT_TRUE(faces.ok()) << faces.status();
    ASSERT_EQ(faces->size(), 1u) << name;
    const FaceBox& f = (*faces)[0];
    std::printf("%-20s box [%6.0f %6.0f %5.0f x %5.0f] score %.2f\n", name.c_str(), f.box.x,
                f.box.y, f.box.width, f.box.height, f.score);
    // The eyes lie inside the box, the subject's right eye on the image's left.
    EXPECT_TRUE(f.box.contains(f.keypoints[kRightEye])) << name;
    EXPECT_TRUE(f.box.contains(f.keypoints[kLeftEye])) << name;
    EXPECT_LT(f.keypoints[kRightEye].x, f.keypoints[kLeftEye].x) << name;
  }
  const cv::Mat group = cv::imread(dir + "/obama_and_biden.jpg");
  auto faces = analyzer->detector().Detect(group);
  ASSERT_TRUE(faces.ok());
  ASSERT_EQ(faces->size(), 2u);
  // Biden stands left (x ~ 740 px), Obama right (x ~ 1140 px), faces ~200 px wide.
  std::vector<float> xs = {(*faces)[0].box.x, (*faces)[1].box.x};
  std::sort(xs.begin(), xs.end());
  EXPECT_NEAR(xs[0], 740, 60);
  EXPECT_NEAR(xs[1], 1140, 60);
}

TEST(FaceEmbedder, SamePersonPairsScoreAboveTheThresholdAndOthersBelow) {
  REQUIRE_MODELS(analyzer);
  CUSTOS_REQUIRE_DATA(dir, testing::SharedData("faces"));
  std::map<std::string, Embedding> emb;
  for (const std::string& name : Photos()) {
    const cv::Mat image = cv::imread(dir + "/" + name);
    auto face = analyzer->AnalyzeLargest(image);
    ASSERT_TRUE(face.ok() && face->has_value()) << name;
    ASSERT_TRUE((*face)->quality.passed) << name << ": " << (*face)->quality.reason;
    emb[name] = (*face)->embedding;
  }
  const float t = analyzer->match_threshold();
  std::printf("\nthreshold %.3f (cosine similarity)\n%-16s %-16s %6s  %s\n", t, "a", "b", "score",
              "pair");
  float min_same = 2, max_diff = -2;
  for (auto a = emb.begin(); a != emb.end(); ++a) {
    for (auto b = std::next(a); b != emb.end(); ++b) {
      const float s = Similarity(a->second, b->second);
      const bool same = Person(a->first) == Person(b->first);
      std::printf("%-16s %-16s %6.3f  %s\n", a->first.c_str(), b->first.c_str(), s,
                  same ? "same" : "different");
      if (same) {
        min_same = std::min(min_same, s);
        EXPECT_GE(s, t) << a->first << " vs " << b->first;
      } else {
        max_diff = std::max(max_diff, s);
        EXPECT_LT(s, t) << a->first << " vs " << b->first;
      }
    }
  }
  std::printf("lowest same-person %.3f, highest different-person %.3f\n", min_same, max_diff);
}

// Not a pass/fail test: prints what one embedding costs against one detector inference, both
// measured here in the same process (warm, averaged).
TEST(FaceEmbedder, ReportsEmbedCostAsAMultipleOfOneDetectorInference) {
  REQUIRE_MODELS(analyzer);
  CUSTOS_REQUIRE_DATA(dir, testing::SharedData("faces"));
  const cv::Mat image = cv::imread(dir + "/obama.jpg");
  cv::Mat input;  // Already the detector's input size: no letterbox resize in the timing.
  cv::resize(image(cv::Rect(0, 0, image.cols, image.cols)), input, cv::Size(192, 192));
  auto faces = analyzer->detector().Detect(image);
  ASSERT_TRUE(faces.ok() && !faces->empty());
  auto aligned = analyzer->embedder().Align(image, (*faces)[0]);
  ASSERT_TRUE(aligned.ok());
  ASSERT_TRUE(analyzer->embedder().Embed(*aligned).ok());  // Warm-up.
  ASSERT_TRUE(analyzer->detector().Detect(input).ok());
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  constexpr int kRuns = 20;
  const auto t0 = Clock::now();
  for (int i = 0; i < kRuns; ++i) ASSERT_TRUE(analyzer->detector().Detect(input).ok());
  const auto t1 = Clock::now();
  for (int i = 0; i < kRuns; ++i) ASSERT_TRUE(analyzer->embedder().Align(image, (*faces)[0]).ok());
  const auto t2 = Clock::now();
  for (int i = 0; i < kRuns; ++i) ASSERT_TRUE(analyzer->embedder().Embed(*aligned).ok());
  const auto t3 = Clock::now();
  const double det = ms(t0, t1) / kRuns, align = ms(t1, t2) / kRuns, embed = ms(t2, t3) / kRuns;
  std::printf(
      "detector inference %.2f ms; align %.2f ms; embed %.2f ms; align+embed = %.1fx one "
      "detector inference\n",
      det, align, embed, (align + embed) / det);
}

TEST(FaceEmbedder, GroupPhotoFacesMatchTheirPeople) {
  REQUIRE_MODELS(analyzer);
  CUSTOS_REQUIRE_DATA(dir, testing::SharedData("faces"));
  auto obama = analyzer->AnalyzeLargest(cv::imread(dir + "/obama.jpg"));
  auto biden = analyzer->AnalyzeLargest(cv::imread(dir + "/biden.jpg"));
  auto group = analyzer->Analyze(cv::imread(dir + "/obama_and_biden.jpg"));
  ASSERT_TRUE(obama.ok() && biden.ok() && group.ok());
  ASSERT_TRUE(obama->has_value() && biden->has_value());
  ASSERT_EQ(group->size(), 2u);
  for (const AnalyzedFace& f : *group) {
    ASSERT_TRUE(f.quality.passed) << f.quality.reason;
    const float so = Similarity(f.embedding, (*obama)->embedding);
    const float sb = Similarity(f.embedding, (*biden)->embedding);
    std::printf("group face at x=%.0f: obama.jpg %.3f, biden.jpg %.3f\n", f.detection.box.x, so,
                sb);
    // Obama stands right in the photo.
    const bool is_obama = f.detection.box.x > 900;
    EXPECT_EQ(is_obama ? so : sb, std::max(so, sb));
    EXPECT_GE(std::max(so, sb), analyzer->match_threshold());
    EXPECT_LT(std::min(so, sb), analyzer->match_threshold());
  }
}

TEST(QualityGate, PassesThePhotosAndRejectsBlurredAndTinyCopies) {
  REQUIRE_MODELS(analyzer);
  CUSTOS_REQUIRE_DATA(dir, testing::SharedData("faces"));
  for (const std::string& name : Photos()) {
    auto face = analyzer->AnalyzeLargest(cv::imread(dir + "/" + name));
    ASSERT_TRUE(face.ok() && face->has_value()) << name;
    const FaceQuality& q = (*face)->quality;
    std::printf("%-16s size %4.0f px  sharpness %6.1f  yaw %5.2f  pitch %4.2f  %s\n", name.c_str(),
                q.size_px, q.sharpness, q.yaw, q.pitch, q.passed ? "pass" : q.reason.c_str());
    EXPECT_TRUE(q.passed) << name << ": " << q.reason;
  }
  const cv::Mat sharp = cv::imread(dir + "/obama.jpg");  // Face ~280 px wide.
  cv::Mat blurred;
  cv::GaussianBlur(sharp, blurred, cv::Size(0, 0), 12);
  auto b = analyzer->AnalyzeLargest(blurred);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->has_value()) << "the detector should still find the blurred face";
  {
    std::printf("blurred: size %.0f sharpness %.1f -> %s\n", (*b)->quality.size_px,
                (*b)->quality.sharpness, (*b)->quality.reason.c_str());
    EXPECT_FALSE((*b)->quality.passed);
    EXPECT_EQ((*b)->quality.reason, "blurred");
    EXPECT_TRUE((*b)->embedding.empty());
  }
  // Downscaled so the face is ~20 px wide, pasted into a 640x480 frame.
  cv::Mat small;
  cv::resize(sharp, small, cv::Size(), 20.0 / 280, 20.0 / 280, cv::INTER_AREA);
  cv::Mat frame(480, 640, CV_8UC3, cv::Scalar(200, 200, 200));
  small.copyTo(frame(cv::Rect(300, 200, small.cols, small.rows)));
  auto t = analyzer->Analyze(frame);
  ASSERT_TRUE(t.ok());
  for (const AnalyzedFace& f : *t) {
    std::printf("tiny: size %.0f -> %s\n", f.quality.size_px, f.quality.reason.c_str());
    EXPECT_FALSE(f.quality.passed);
    EXPECT_EQ(f.quality.reason, "too small");
  }
  // And the same tiny face cropped around the head, where the detector does find it.
  auto crop = analyzer->Analyze(frame(cv::Rect(280, 190, 60, 60)).clone());
  ASSERT_TRUE(crop.ok());
  ASSERT_FALSE(crop->empty()) << "the detector should find a 20 px face in a 60 px crop";
  EXPECT_FALSE((*crop)[0].quality.passed);
  EXPECT_EQ((*crop)[0].quality.reason, "too small");
}

}  // namespace
}  // namespace custos::face
