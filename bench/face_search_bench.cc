// 1:N face search: one probe against an in-memory gallery of 10 k / 100 k / 1 M random 128-D
// descriptors (dlib's size), float brute force against the int8 scan + float re-score, top-10,
// one thread. Goal (docs/face.md): 1 M entries in <= 20 ms per probe on one core. The gallery
// stands for watchlist enrolments only; random vectors, no faces.
//
//   build-face/bench/face_search_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>

#include "face/gallery.h"

namespace {

using custos::face::Embedding;
using custos::face::Gallery;

constexpr int kDim = 128;

Embedding Random(std::mt19937& rng) {
  std::normal_distribution<float> n;
  Embedding e(kDim);
  for (float& x : e) x = n(rng);
  return e;
}

// Built once per size and kept for the process (1 M entries take ~0.7 GB).
const Gallery& GalleryOf(int64_t n) {
  static std::map<int64_t, std::unique_ptr<Gallery>> galleries;
  auto& g = galleries[n];
  if (!g) {
    std::mt19937 rng(42);
    g = std::make_unique<Gallery>(kDim);
    g->Reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      if (!g->Add(static_cast<uint64_t>(i), Random(rng)).ok()) std::abort();
    }
  }
  return *g;
}

template <bool kInt8>
void BM_Search(benchmark::State& state) {
  const Gallery& g = GalleryOf(state.range(0));
  std::mt19937 rng(7);
  std::vector<Embedding> probes;
  for (int i = 0; i < 16; ++i) probes.push_back(Random(rng));
  size_t i = 0;
  for (auto _ : state) {
    const Embedding& p = probes[i++ % probes.size()];
    auto hits = kInt8 ? g.SearchInt8(p, 10) : g.Search(p, 10);
    benchmark::DoNotOptimize(hits);
  }
  state.counters["entries"] = static_cast<double>(g.size());
  state.counters["GB_scanned"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(g.size()) *
                             (kInt8 ? 128.0 : 512.0) / 1e9,
                         benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Search<false>)
    ->Name("Search/float")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Search<true>)
    ->Name("Search/int8")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
