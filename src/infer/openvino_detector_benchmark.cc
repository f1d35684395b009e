// Detector cost per inference at batch 1 and 4 on a real photo; ratio of batched to single
// per-image cost is the number to read (shared machines are noisy; see bench/README.md).
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "benchmark/benchmark.h"
#include "infer/letterbox.h"
#include "infer/openvino_detector.h"

namespace custos::infer {
namespace {

void BM_Detect(benchmark::State& state) {
  auto specs = LoadManifest(DefaultManifestPath(), DefaultModelsDir());
  if (!specs.ok()) return state.SkipWithError(std::string(specs.status().message()).c_str());
  auto spec = FindModel(*specs, "nanodet-coco");
  auto detector = OpenVinoDetector::Create(*spec, {.threads = 1});
  if (!detector.ok()) return state.SkipWithError(std::string(detector.status().message()).c_str());
  cv::Mat image(360, 640, CV_8UC3);
  cv::randu(image, 0, 255);
  std::vector<cv::Mat> batch(static_cast<size_t>(state.range(0)), image);
  for (auto _ : state) benchmark::DoNotOptimize((*detector)->DetectBatch(batch));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Detect)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace custos::infer

namespace custos::infer {
namespace {

// Preprocessing alone: letterboxing a 360p frame into the 416x416 input, against the cheapest
// thing it must do anyway (one resize of the same pixels) as the baseline.
void BM_Letterbox(benchmark::State& state) {
  cv::Mat frame(360, 640, CV_8UC3);
  cv::randu(frame, 0, 255);
  cv::Mat canvas(416, 416, CV_8UC3);
  for (auto _ : state)
    benchmark::DoNotOptimize(Letterbox(frame, cv::Scalar(104, 116, 124), canvas));
}
BENCHMARK(BM_Letterbox)->Unit(benchmark::kMicrosecond);

void BM_ResizeBaseline(benchmark::State& state) {
  cv::Mat frame(360, 640, CV_8UC3);
  cv::randu(frame, 0, 255);
  cv::Mat out(234, 416, CV_8UC3);
  for (auto _ : state) {
    cv::resize(frame, out, out.size(), 0, 0, cv::INTER_LINEAR);
    benchmark::DoNotOptimize(out.data);
  }
}
BENCHMARK(BM_ResizeBaseline)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace custos::infer
