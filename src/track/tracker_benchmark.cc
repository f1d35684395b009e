// Tracker cost per update with 20 tracked people and 25 detections (20 of them plus 5
// clutter). BM_BaselineIouMatrix, the 20 x 25 IoU matrix every IoU tracker computes, is the
// floor to compare against; bare times depend on the machine.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "track/tracker.h"

namespace custos::track {
namespace {

constexpr int kPeople = 20;
constexpr int kClutter = 5;

// Detections at `t_s`: people pacing back and forth across a 1280x720 frame, plus clutter.
Detections Scene(double t_s) {
  Detections detections;
  for (int i = 0; i < kPeople; ++i) {
    Detection d;
    d.class_id = 0;
    d.label = "person";
    d.score = 0.6f + 0.015f * static_cast<float>(i);
    const double cx = 60 + 60 * i + 40 * std::sin(0.7 * t_s + i);
    const double cy = 200 + 20 * (i % 5) + 15 * std::cos(0.5 * t_s + i);
    d.box = BoxF{static_cast<float>(cx), static_cast<float>(cy), 40, 100};
    detections.push_back(d);
  }
  for (int i = 0; i < kClutter; ++i) {
    Detection d;
    d.class_id = 2;
    d.label = "car";
    d.score = 0.3f;
    d.box = BoxF{static_cast<float>(100 + 230 * i), 600, 120, 60};
    detections.push_back(d);
  }
  return detections;
}

void BM_BaselineIouMatrix(benchmark::State& state) {
  const Detections a = Scene(0);
  const Detections b = Scene(0.2);
  std::vector<double> cost(kPeople * a.size());
  for (auto _ : state) {
    for (int i = 0; i < kPeople; ++i) {
      for (size_t j = 0; j < b.size(); ++j) {
        cost[i * b.size() + j] = 1.0 - static_cast<double>(IoU(a[i].box, b[j].box));
      }
    }
    benchmark::DoNotOptimize(cost.data());
  }
}
BENCHMARK(BM_BaselineIouMatrix);

void RunUpdates(benchmark::State& state, bool with_frame) {
  std::unique_ptr<Tracker> tracker = *Tracker::Create({});
  const cv::Mat frame =
      with_frame ? cv::Mat(720, 1280, CV_8UC3, cv::Scalar(60, 90, 120)) : cv::Mat();
  const std::vector<cv::Rect> regions = {cv::Rect(0, 0, 1280, 720)};
  // Precomputed detections for 10 s at 5 fps, replayed in a loop of time.
  std::vector<Detections> frames;
  for (int k = 0; k < 50; ++k) frames.push_back(Scene(0.2 * k));
  int64_t time_ms = 0;
  size_t k = 0;
  for (int i = 0; i < 5; ++i) {
    benchmark::DoNotOptimize(tracker->Update(frames[k++], time_ms += 200, frame, regions));
  }
  for (auto _ : state) {
    absl::StatusOr<TrackerUpdate> update =
        tracker->Update(frames[k++ % frames.size()], time_ms += 200, frame, regions);
    benchmark::DoNotOptimize(update);
  }
  state.counters["tracks"] = static_cast<double>(tracker->Tracks().size());
}

void BM_Update20Tracks25Detections(benchmark::State& state) { RunUpdates(state, false); }
BENCHMARK(BM_Update20Tracks25Detections);

void BM_Update20Tracks25DetectionsWithSnapshots(benchmark::State& state) {
  RunUpdates(state, true);
}
BENCHMARK(BM_Update20Tracks25DetectionsWithSnapshots);

}  // namespace
}  // namespace custos::track
