// Motion detection cost per 640x360 frame. BM_BaselineGreyResize is the floor any motion
// detector pays (grey conversion and downscale of the same frame); compare Process against
// it rather than reading bare times, which depend on the machine.
#include <benchmark/benchmark.h>

#include <memory>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "motion/motion_detector.h"

namespace custos::motion {
namespace {

std::vector<cv::Mat> MakeFrames(int count, bool moving) {
  cv::RNG rng(7);
  cv::Mat background(360, 640, CV_8UC3);
  rng.fill(background, cv::RNG::UNIFORM, 60, 120);
  cv::GaussianBlur(background, background, cv::Size(9, 9), 0);
  std::vector<cv::Mat> frames;
  for (int i = 0; i < count; ++i) {
    cv::Mat frame = background.clone();
    if (moving) {
      cv::rectangle(frame, cv::Rect(40 + 20 * (i % 25), 120, 50, 110), cv::Scalar(220, 220, 220),
                    cv::FILLED);
      cv::rectangle(frame, cv::Rect(500 - 10 * (i % 25), 200, 60, 40), cv::Scalar(20, 20, 20),
                    cv::FILLED);
    }
    frames.push_back(frame);
  }
  return frames;
}

void BM_BaselineGreyResize(benchmark::State& state) {
  const std::vector<cv::Mat> frames = MakeFrames(25, true);
  cv::Mat grey;
  cv::Mat small;
  size_t i = 0;
  for (auto _ : state) {
    cv::cvtColor(frames[i++ % frames.size()], grey, cv::COLOR_BGR2GRAY);
    cv::resize(grey, small, cv::Size(320, 180), 0, 0, cv::INTER_AREA);
    benchmark::DoNotOptimize(small.data);
  }
}
BENCHMARK(BM_BaselineGreyResize);

void BM_ProcessStaticScene(benchmark::State& state) {
  const std::vector<cv::Mat> frames = MakeFrames(25, false);
  std::unique_ptr<MotionDetector> detector = *MotionDetector::Create({});
  size_t i = 0;
  for (auto _ : state) {
    MotionResult result = detector->Process(frames[i++ % frames.size()]);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_ProcessStaticScene);

void BM_ProcessTwoMovingObjects(benchmark::State& state) {
  const std::vector<cv::Mat> frames = MakeFrames(25, true);
  std::unique_ptr<MotionDetector> detector = *MotionDetector::Create({});
  size_t i = 0;
  size_t boxes = 0;
  for (auto _ : state) {
    MotionResult result = detector->Process(frames[i++ % frames.size()]);
    boxes += result.boxes.size();
    benchmark::DoNotOptimize(result);
  }
  state.counters["boxes_per_frame"] =
      static_cast<double>(boxes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ProcessTwoMovingObjects);

}  // namespace
}  // namespace custos::motion
