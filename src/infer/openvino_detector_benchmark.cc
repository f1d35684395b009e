// Detector cost per inference at batch 1 and 4 on a real photo; ratio of batched to single
// per-image cost is the number to read (shared machines are noisy; see bench/README.md).
#include <opencv2/imgcodecs.hpp>

#include "benchmark/benchmark.h"
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
