#include "pipeline/camera_pipeline.h"

#include <map>
#include <opencv2/imgproc.hpp>
#include <set>

#include "gtest/gtest.h"

namespace custos::pipeline {
namespace {

// Finds the dark object of the synthetic scene in each region: a stand-in for a model that
// answers exactly, so these tests are about the wiring, not about detector accuracy.
class DarkBlobDetector final : public Detector {
 public:
  absl::StatusOr<std::vector<Detections>> DetectBatch(const std::vector<cv::Mat>& images) override {
    ++calls;
    if (fail_with != absl::StatusCode::kOk) return absl::Status(fail_with, "injected failure");
    std::vector<Detections> out;
    for (const cv::Mat& image : images) {
      cv::Mat grey, dark;
      cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
      cv::threshold(grey, dark, 40, 255, cv::THRESH_BINARY_INV);
      Detections dets;
      if (cv::countNonZero(dark) > 50) {
        const cv::Rect r = cv::boundingRect(dark);
        dets.push_back({0,
                        label,
                        0.9f,
                        {static_cast<float>(r.x), static_cast<float>(r.y),
                         static_cast<float>(r.width), static_cast<float>(r.height)}});
      }
      out.push_back(dets);
    }
    return out;
  }
  const std::vector<std::string>& labels() const override { return labels_; }
  cv::Size input_size() const override { return {160, 160}; }

  int calls = 0;
  absl::StatusCode fail_with = absl::StatusCode::kOk;
  std::string label = "person";  // What the dark object is taken for.

 private:
  std::vector<std::string> labels_ = {"person"};
};

// A 320x180 grey scene; a dark 20x50 "person" walks left to right from x=10 to x=290.
Frame SceneFrame(int index, int frames) {
  Frame f;
  f.index = index;
  f.pts_ms = index * 200;
  f.wall_ms = 1'800'000'000'000 + f.pts_ms;
  f.bgr = cv::Mat(180, 320, CV_8UC3, cv::Scalar(150, 150, 150));
  const int x = 10 + (280 * index) / frames;
  cv::rectangle(f.bgr, cv::Rect(x, 100, 20, 50), cv::Scalar(10, 10, 10), cv::FILLED);
  return f;
}

PipelineOptions SceneOptions() {
  PipelineOptions o;
  o.camera.id = "test";
  // Drawn bottom to top, so its left is the west half of the picture.
  o.camera.lines.push_back({"middle", {0.5f, 1.0f}, {0.5f, 0.0f}, {}, "east", "west"});
  o.camera.zones.push_back(
      {"right", {{0.7f, 0.0f}, {1.0f, 0.0f}, {1.0f, 1.0f}, {0.7f, 1.0f}}, {}, 0, 2});
  return o;
}

constexpr int kFrames = 60;

// Feeds the whole walk of SceneFrame to `pipeline` and finishes it, appending every event.
void Walk(CameraPipeline& pipeline, std::vector<Event>& events) {
  for (int i = 0; i < kFrames; ++i) {
    auto result = pipeline.Process(SceneFrame(i, kFrames));
    ASSERT_TRUE(result.ok()) << result.status();
    events.insert(events.end(), result->events.begin(), result->events.end());
  }
  for (Event& e : pipeline.Finish(1'800'000'000'000 + kFrames * 200)) events.push_back(e);
}

TEST(CameraPipeline, AWalkerGivesOneTrackALineCrossingAndAZoneVisit) {
  DarkBlobDetector detector;
  auto pipeline = CameraPipeline::Create(SceneOptions(), &detector);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::vector<Event> events;
  ASSERT_NO_FATAL_FAILURE(Walk(**pipeline, events));

  std::map<EventType, int> by_type;
  std::set<int64_t> ids;
  for (const Event& e : events) {
    ++by_type[e.type];
    ids.insert(e.track_id);
    EXPECT_EQ(e.camera, "test");
    EXPECT_EQ(e.id.size(), 26u);
  }
  EXPECT_EQ(by_type[EventType::kTrackStart], 1);
  EXPECT_EQ(by_type[EventType::kTrackEnd], 1);
  EXPECT_EQ(by_type[EventType::kLineCross], 1);
  EXPECT_EQ(by_type[EventType::kZoneEnter], 1);
  EXPECT_EQ(by_type[EventType::kZoneLeave], 1);
  EXPECT_EQ(ids.size(), 1u);
  for (const Event& e : events) {
    if (e.type == EventType::kLineCross) {
      EXPECT_EQ(e.direction, "east");
    }
    if (e.type == EventType::kTrackEnd) {
      EXPECT_GT(e.dwell_ms, 8000);
    }
  }
  // Counts for the summary.
  const zones::ZoneCounts counts = (*pipeline)->counts();
  EXPECT_EQ(counts.line_crossings.at({"middle", "person", "east"}), 1);
  // Detection ran only where something moved or was tracked, and interval skipped some.
  EXPECT_GT((*pipeline)->stats().skipped_by_interval, 0);
  EXPECT_LT(detector.calls, kFrames);
}

TEST(CameraPipeline, AStillSceneCostsNoDetection) {
  DarkBlobDetector detector;
  auto pipeline = CameraPipeline::Create(SceneOptions(), &detector);
  ASSERT_TRUE(pipeline.ok());
  for (int i = 0; i < 20; ++i) {
    Frame f = SceneFrame(0, 1);
    f.bgr.setTo(cv::Scalar(150, 150, 150));
    f.wall_ms += i * 200;
    ASSERT_TRUE((*pipeline)->Process(f).ok());
  }
  EXPECT_EQ(detector.calls, 0);
}

TEST(CameraPipeline, AnOverloadedDetectorDropsTheFrameAndCountsIt) {
  DarkBlobDetector detector;
  detector.fail_with = absl::StatusCode::kResourceExhausted;
  auto pipeline = CameraPipeline::Create(SceneOptions(), &detector);
  ASSERT_TRUE(pipeline.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*pipeline)->Process(SceneFrame(i, 60)).ok());
  EXPECT_GT((*pipeline)->stats().dropped_frames, 0);
  detector.fail_with = absl::StatusCode::kInternal;
  absl::Status failed;
  for (int i = 5; i < 10 && failed.ok(); ++i)
    failed = (*pipeline)->Process(SceneFrame(i, 60)).status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal);
}

// The walker of SceneFrame taken for a car, on a camera calibrated at 10 px per metre (the
// frame is 32 m x 18 m of flat ground seen from straight above): 28 m in 12 s, 8.4 km/h.
TEST(CameraPipeline, ACalibratedCameraGivesSpeedsAndWrongWayEvents) {
  DarkBlobDetector detector;
  detector.label = "car";
  PipelineOptions options = SceneOptions();
  config::TrafficConfig traffic;
  traffic.calibration = config::CalibrationConfig{{{0, 0}, {1, 0}, {1, 1}, {0, 1}},
                                                  {{0, 0}, {32, 0}, {32, 18}, {0, 18}}};
  // The whole picture is a lane whose traffic goes right to left: the car drives against it.
  traffic.lanes.push_back(
      {"westbound", {{0, 0}, {1, 0}, {1, 1}, {0, 1}}, {0.9f, 0.5f}, {0.1f, 0.5f}, {}});
  traffic.wrong_way_min_m = 3;  // It covers 4.7 m in the 2 s the direction is judged over.
  options.camera.traffic = traffic;
  auto pipeline = CameraPipeline::Create(options, &detector);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  std::vector<Event> events;
  ASSERT_NO_FATAL_FAILURE(Walk(**pipeline, events));
  constexpr double kKmh = 28.0 / 12.0 * 3.6;
  std::map<EventType, int> by_type;
  for (const Event& e : events) {
    ++by_type[e.type];
    EXPECT_EQ(e.camera, "test");
    EXPECT_EQ(e.id.size(), 26u);
    if (e.type == EventType::kLineCross || e.type == EventType::kTrackEnd ||
        e.type == EventType::kWrongWay) {
      EXPECT_NEAR(e.speed_kmh, kKmh, 0.05 * kKmh) << EventTypeName(e.type);
    }
    if (e.type == EventType::kWrongWay) {
      EXPECT_EQ(e.zone, "westbound");
    }
  }
  EXPECT_EQ(by_type[EventType::kLineCross], 1);
  EXPECT_EQ(by_type[EventType::kTrackEnd], 1);
  EXPECT_EQ(by_type[EventType::kWrongWay], 1);
}

TEST(CameraPipeline, UnknownTunablesAreRejectedWithTheKnownOnes) {
  config::TrackerConfig tracker;
  tracker.extra["max_lots_ms"] = 5;
  auto options = TrackerOptionsFrom({}, tracker);
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("max_lots_ms"), std::string::npos);
  EXPECT_NE(options.status().message().find("known:"), std::string::npos);
}

}  // namespace
}  // namespace custos::pipeline
