// Licence plates in the server's live view and at its start (docs/privacy.md), with the real
// models: a video made of a real road photo (privacy_test_util.h) as a file camera; every live
// frame has its plate obscured; without the text detector the live picture is withheld; with
// plate masking off the plate shows; the car's event snapshots have the plate obscured and are
// not stored without face masking; a missing or corrupt text model refuses the start.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <thread>
#include <vector>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "infer/inference_service.h"
#include "infer/model_manifest.h"
#include "infer/openvino_detector.h"
#include "plate/ocr_model.h"
#include "privacy/plate_masker.h"
#include "privacy/privacy_test_util.h"
#include "server/camera_runner.h"
#include "server/server.h"

namespace custos::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr double kDetail = 12;  // As privacy's tests: a readable plate measures 40 or more.

absl::StatusOr<infer::ModelSpec> DetectorSpec() {
  auto specs = infer::LoadManifest(infer::DefaultManifestPath(), infer::DefaultModelsDir());
  if (!specs.ok()) return specs.status();
  auto spec = infer::FindModel(*specs, "nanodet-coco");
  if (!spec.ok()) return spec.status();
  if (!fs::exists(spec->FilePath())) {
    return absl::NotFoundError("model not provisioned: " + spec->FilePath() + " (tools/setup.sh)");
  }
  return spec;
}

// The object detector of the live path, loaded once, behind a batching service as in the
// server; null when not provisioned. The face and text detectors: privacy_test_util.h.
Detector* SharedDetector() {
  static Detector* detector = []() -> Detector* {
    auto spec = DetectorSpec();
    if (!spec.ok()) return nullptr;
    auto model = infer::OpenVinoDetector::Create(*spec, {});
    if (!model.ok()) return nullptr;
    auto service = infer::InferenceService::Create(*std::move(model), {});
    return service.ok() ? service->release() : nullptr;
  }();
  return detector;
}

class LivePlateMaskingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto photo = custos::testing::SharedData("plates/us/car1.jpg");
    if (!photo) GTEST_SKIP() << "test data missing: ../shared/data/plates/us/car1.jpg";
    CUSTOS_REQUIRE_DETECTOR(faces, privacy::TestFaceDetector());
    CUSTOS_REQUIRE_DETECTOR(text, privacy::TestTextDetector());
    if (SharedDetector() == nullptr)
      GTEST_SKIP() << "nanodet-coco not provisioned (tools/setup.sh)";
    faces_ = faces;
    text_ = text;
    dir_ = custos::testing::TempDir("live-plates");
    auto video = privacy::WriteMovingPlateVideo(*photo, (dir_ / "car.avi").string());
    ASSERT_TRUE(video.ok()) << video.status();
    plates_ = video->plates;
  }
  void TearDown() override {
    std::error_code error;
    if (!dir_.empty()) fs::remove_all(dir_, error);
  }

  // The car video as a camera played in real time (so that every 5 fps live frame is seen),
  // analysed at 640x360, not recorded, masked as the server does.
  CameraRunnerOptions Camera() const {
    CameraRunnerOptions o;
    o.camera.id = "street";
    o.camera.url = (dir_ / "car.avi").string();
    o.camera.detect.fps = 5;
    o.camera.detect.height = 360;
    o.camera.record.mode = config::RecordMode::kOff;
    o.data_dir = dir_.string();
    o.face_detector = faces_;
    o.plate_mask_detector = text_;
    return o;
  }

  struct Shown {
    cv::Mat picture;
    cv::Rect plate;  // Where the plate is in it.
  };

  // The live frames of the video's first pass (up to its last frame), decoded, each with the
  // plate's box: the frame's time since the first live frame (the video's first frame) gives
  // its index in the video.
  std::vector<Shown> Watch(const CameraRunnerOptions& options) {
    std::vector<Shown> shown;
    auto runner = CameraRunner::Create(
        options, SharedDetector(), nullptr, [](const std::vector<Event>&) {}, Clock::Real());
    EXPECT_TRUE(runner.ok()) << runner.status();
    if (!runner.ok()) return shown;
    (*runner)->Start();
    int64_t seq = 0, first_ms = -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<api::LiveFrame> frame = (*runner)->WaitNewer(seq, 1000);
      if (!frame) continue;
      if (seq == 0) {
        EXPECT_EQ(frame->seq, 1) << "the first live frame was missed";
        first_ms = frame->wall_ms;
      }
      seq = frame->seq;
      const auto index = static_cast<size_t>(
          std::llround(static_cast<double>(frame->wall_ms - first_ms) * 25 / 1000));
      if (frame->wall_ms < first_ms || index >= plates_.size()) break;  // Played again.
      const cv::Mat bytes(1, static_cast<int>(frame->jpeg->size()), CV_8UC1,
                          const_cast<char*>(frame->jpeg->data()));
      const cv::Rect p = plates_[index];
      shown.push_back({cv::imdecode(bytes, cv::IMREAD_COLOR),
                       cv::Rect(p.x / 2, p.y / 2, p.width / 2, p.height / 2)});
    }
    (*runner)->Stop();
    return shown;
  }

  face::FaceDetector* faces_ = nullptr;
  plate::TextDetector* text_ = nullptr;
  fs::path dir_;
  std::vector<cv::Rect> plates_;
};

TEST_F(LivePlateMaskingTest, EveryLiveFrameHasThePlateObscured) {
  const std::vector<Shown> shown = Watch(Camera());
  ASSERT_GE(shown.size(), 10u);  // 3 s at 5 fps.
  std::vector<double> detail;
  for (size_t i = 0; i < shown.size(); ++i) {
    ASSERT_EQ(shown[i].picture.size(), cv::Size(640, 360));
    // Not withheld: the canvas around the photo is there.
    const cv::Vec3b canvas = shown[i].picture.at<cv::Vec3b>(350, 2);
    EXPECT_NEAR(canvas[1], 100, 12) << "live frame " << i << " is not the picture";
    detail.push_back(privacy::Detail(shown[i].picture, shown[i].plate));
    EXPECT_LE(detail.back(), kDetail) << "live frame " << i << ": the plate is readable";
  }
  std::printf("live, plates masked: %zu frames, detail in the plate up to %.1f\n", shown.size(),
              *std::max_element(detail.begin(), detail.end()));
}

TEST_F(LivePlateMaskingTest, WithoutTheTextDetectorTheLiveViewIsWithheld) {
  CameraRunnerOptions options = Camera();
  options.plate_mask_detector = nullptr;  // privacy.mask_plates on, the model not loaded.
  const std::vector<Shown> shown = Watch(options);
  ASSERT_FALSE(shown.empty());
  for (const Shown& s : shown) {
    // The dark notice frame: nothing of the photo.
    EXPECT_LT(cv::mean(s.picture)[1], 45);
    EXPECT_LE(privacy::Detail(s.picture, s.plate), kDetail);
  }
}

TEST_F(LivePlateMaskingTest, WithPlateMaskingOffThePlateShows) {
  CameraRunnerOptions options = Camera();
  options.mask_plates = false;
  options.plate_mask_detector = nullptr;  // Not needed then.
  const std::vector<Shown> shown = Watch(options);
  ASSERT_GE(shown.size(), 10u);
  // The face masker, run low, fires on the car's front now and then (docs/privacy.md).
  const auto readable = std::count_if(shown.begin(), shown.end(), [](const Shown& s) {
    return privacy::Detail(s.picture, s.plate) > 3 * kDetail;
  });
  std::printf("live, plate masking off: plate readable in %lld of %zu frames\n",
              static_cast<long long>(readable), shown.size());
  EXPECT_GT(readable, static_cast<long>(shown.size()) / 2);
}

// The car video read once as fast as analytics goes, with track snapshots: the car's
// snapshots (event snapshots: docs/privacy.md "Event snapshots"), and the plate-like text the
// text detector finds in each, as JPEGs read back. Empty when nothing was stored.
struct StoredSnapshots {
  int vehicle_events = 0;  // track_end events of vehicles.
  std::vector<cv::Mat> pictures;
};

StoredSnapshots RunForSnapshots(CameraRunnerOptions o, const fs::path& dir) {
  StoredSnapshots stored;
  o.realtime_files = false;
  o.snapshot_dir = dir.string();
  std::mutex mu;
  std::vector<Event> events;
  auto runner = CameraRunner::Create(
      o, SharedDetector(), nullptr,
      [&](const std::vector<Event>& batch) {
        std::lock_guard<std::mutex> lock(mu);
        events.insert(events.end(), batch.begin(), batch.end());
      },
      Clock::Real());
  EXPECT_TRUE(runner.ok()) << runner.status();
  if (!runner.ok()) return stored;
  (*runner)->Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  // Until the file has been read (analysed frames, then the stream gone) or 60 s.
  while (std::chrono::steady_clock::now() < deadline) {
    const api::CameraHealth health = (*runner)->Health();
    if (health.frames_analysed > 0 && !health.connected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (*runner)->Stop();  // Ends the tracks still open, with their snapshots.
  std::lock_guard<std::mutex> lock(mu);
  for (const Event& e : events) {
    if (e.type != EventType::kTrackEnd || (e.label != "car" && e.label != "truck")) continue;
    ++stored.vehicle_events;
    if (!e.snapshot.empty()) stored.pictures.push_back(cv::imread((dir / e.snapshot).string()));
  }
  return stored;
}

// The most detail of the plate-like text the text detector finds in `picture`; 0 for none.
double PlateDetail(plate::TextDetector* text, const cv::Mat& picture) {
  auto masker = privacy::PlateMasker::Create(text, {}, 0);
  EXPECT_TRUE(masker.ok()) << masker.status();
  if (!masker.ok() || picture.empty()) return 0;
  auto plates = (*masker)->Detect(picture);
  EXPECT_TRUE(plates.ok()) << plates.status();
  double most = 0;
  for (const cv::Rect2f& p : plates.ok() ? *plates : std::vector<cv::Rect2f>{}) {
    most = std::max(
        most, privacy::Detail(picture, cv::Rect(p) & cv::Rect(0, 0, picture.cols, picture.rows)));
  }
  return most;
}

TEST_F(LivePlateMaskingTest, EventSnapshotsOfTheCarHaveThePlateObscured) {
  // Plate masking off: the snapshot shows the plate (the test can fail).
  CameraRunnerOptions off = Camera();
  off.mask_plates = false;
  off.plate_mask_detector = nullptr;
  const StoredSnapshots plain = RunForSnapshots(off, dir_ / "plain");
  ASSERT_FALSE(plain.pictures.empty()) << plain.vehicle_events << " vehicle tracks, no snapshot";
  double readable = 0;
  for (const cv::Mat& p : plain.pictures) readable = std::max(readable, PlateDetail(text_, p));
  EXPECT_GT(readable, 2 * kDetail) << "the unmasked snapshot shows no plate to obscure";

  const StoredSnapshots masked = RunForSnapshots(Camera(), dir_ / "masked");
  ASSERT_FALSE(masked.pictures.empty()) << masked.vehicle_events << " vehicle tracks, no snapshot";
  for (const cv::Mat& p : masked.pictures) {
    ASSERT_FALSE(p.empty());
    EXPECT_LE(PlateDetail(text_, p), kDetail) << "a stored snapshot shows the plate";
  }
  std::printf("snapshots: plate detail up to %.1f unmasked, %zu masked snapshots featureless\n",
              readable, masked.pictures.size());

  // No face masking (the model did not load): no snapshot is stored, the events are.
  CameraRunnerOptions blind = Camera();
  blind.face_detector = nullptr;
  const StoredSnapshots withheld = RunForSnapshots(blind, dir_ / "withheld");
  EXPECT_GT(withheld.vehicle_events, 0);
  EXPECT_TRUE(withheld.pictures.empty());
}

// `custos serve` refuses to start, as without the face model, when plates are to be masked and
// the text model is missing or is not the file the manifest names.
TEST(ServerPlateMasking, AMissingOrCorruptTextModelRefusesTheStart) {
  auto spec = DetectorSpec();
  if (absl::IsNotFound(spec.status())) GTEST_SKIP() << spec.status().message();
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto text = plate::LoadOcrModel(infer::DefaultManifestPath(), infer::DefaultModelsDir(),
                                  plate::kDefaultTextDetector);
  ASSERT_TRUE(text.ok()) << text.status();
  const fs::path dir = custos::testing::TempDir("server-plates");
  std::ofstream(dir / "camera.mp4") << "not played: the server does not get that far";
  fs::create_directories(dir / "models");
  ServerOptions options;
  options.config.cameras.push_back({});
  options.config.cameras[0].id = "street";
  options.config.cameras[0].url = (dir / "camera.mp4").string();
  options.config.cameras[0].record.mode = config::RecordMode::kOff;
  options.config.server.media_roots = {dir.string()};
  options.model = *spec;
  options.plate_mask_detector = *text;
  options.plate_mask_detector->spec.dir = (dir / "models").string();

  options.data_dir = (dir / "data-missing").string();
  auto missing = Server::Create(options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  EXPECT_THAT(missing.status().message(),
              HasSubstr("plate masking (privacy.mask_plates) needs the text detector"));
  EXPECT_THAT(missing.status().message(), HasSubstr("is missing"));
  std::printf("missing: %s\n", std::string(missing.status().message()).c_str());

  std::ofstream(dir / "models" / text->spec.file) << "not an ONNX model";
  options.data_dir = (dir / "data-corrupt").string();
  auto corrupt = Server::Create(options);
  EXPECT_EQ(corrupt.status().code(), absl::StatusCode::kDataLoss) << corrupt.status();
  EXPECT_THAT(corrupt.status().message(), HasSubstr("SHA-256"));

  // With plate masking off the model is not needed.
  options.config.privacy.mask_plates = false;
  options.data_dir = (dir / "data-off").string();
  auto off = Server::Create(options);
  EXPECT_TRUE(off.ok()) << off.status();
  if (off.ok()) off->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::server
