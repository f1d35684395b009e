// Region planning and merging cost per frame. BM_BaselineCopyBoxes (copying the inputs into a
// vector) is the floor to compare against; bare times depend on the machine.
#include <benchmark/benchmark.h>

#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "detect/region_planner.h"

namespace custos::detect {
namespace {

const cv::Size kFrame(1280, 720);

struct Scene {
  std::vector<BoxF> motion;
  std::vector<TrackedBox> tracked;
};

// `n` motion boxes and `n` tracked boxes spread over the frame, a few stationary.
Scene MakeScene(int n) {
  cv::RNG rng(99);
  Scene scene;
  for (int i = 0; i < n; ++i) {
    const float w = rng.uniform(20.0f, 120.0f);
    const float h = rng.uniform(40.0f, 240.0f);
    const BoxF box{rng.uniform(0.0f, 1280.0f - w), rng.uniform(0.0f, 720.0f - h), w, h};
    scene.motion.push_back(box);
    scene.tracked.push_back({BoxF{box.x + 5, box.y + 3, box.w, box.h}, i % 4 != 0});
  }
  return scene;
}

void BM_BaselineCopyBoxes(benchmark::State& state) {
  const Scene scene = MakeScene(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    std::vector<BoxF> all(scene.motion);
    for (const TrackedBox& t : scene.tracked) all.push_back(t.box);
    benchmark::DoNotOptimize(all.data());
  }
}
BENCHMARK(BM_BaselineCopyBoxes)->Arg(5)->Arg(20);

void BM_Plan(benchmark::State& state) {
  const Scene scene = MakeScene(static_cast<int>(state.range(0)));
  std::unique_ptr<RegionPlanner> planner = *RegionPlanner::Create({});
  size_t regions = 0;
  for (auto _ : state) {
    std::vector<cv::Rect> planned = planner->Plan(kFrame, scene.motion, scene.tracked);
    regions += planned.size();
    benchmark::DoNotOptimize(planned.data());
  }
  state.counters["regions"] =
      static_cast<double>(regions) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Plan)->Arg(5)->Arg(20);

void BM_MergeRegionDetections(benchmark::State& state) {
  // Four overlapping regions, each seeing 10 people; neighbours share a few of them.
  std::unique_ptr<RegionPlanner> planner = *RegionPlanner::Create({});
  std::vector<RegionDetections> regions;
  for (int r = 0; r < 4; ++r) {
    RegionDetections& rd = regions.emplace_back();
    rd.region = cv::Rect(r * 288, r % 2 * 304, 416, 416);
    for (int i = 0; i < 10; ++i) {
      Detection d;
      d.class_id = i % 3;
      d.score = 0.3f + 0.05f * static_cast<float>(i);
      d.box = BoxF{static_cast<float>(40 * i), static_cast<float>(30 * i % 300), 40, 100};
      rd.detections.push_back(d);
    }
  }
  for (auto _ : state) {
    Detections merged = planner->MergeRegionDetections(kFrame, regions);
    benchmark::DoNotOptimize(merged.data());
  }
}
BENCHMARK(BM_MergeRegionDetections);

}  // namespace
}  // namespace custos::detect
