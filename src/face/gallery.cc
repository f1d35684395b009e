#include "face/gallery.h"

#include <algorithm>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <cmath>
#include <functional>
#include <limits>
#include <queue>

namespace custos::face {
namespace {

// The kernels are plain loops the compiler vectorises (the build compiles this file with -O3).
// On x86-64 they are also cloned for AVX2 and picked at load time, so one binary runs on any
// x86-64 and uses 256-bit lanes where the CPU has them.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CUSTOS_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CUSTOS_SIMD_CLONES
#endif

constexpr size_t kLanes = 16;   // Independent float accumulators: no reassociation needed.
constexpr size_t kBlock = 512;  // Rows scored per batch before top-k selection.

// scores[r] = <rows[r], q> for `n` rows of `stride` floats. REQUIRES: stride % kLanes == 0.
CUSTOS_SIMD_CLONES
void DotRowsF32(const float* rows, const float* q, size_t stride, size_t n, float* scores) {
  for (size_t r = 0; r < n; ++r) {
    const float* v = rows + r * stride;
    float acc[kLanes] = {};
    for (size_t d = 0; d < stride; d += kLanes) {
      for (size_t j = 0; j < kLanes; ++j) acc[j] += v[d + j] * q[d + j];
    }
    float s = 0;
    for (size_t j = 0; j < kLanes; ++j) s += acc[j];
    scores[r] = s;
  }
}

// scores[r] = <codes[r], q> in int32 (exact) for `n` rows of `stride` int8 codes; `q16` is the
// probe widened to int16. REQUIRES: stride % 32 == 0.
void DotRowsI8Portable(const int8_t* codes, const int16_t* q16, size_t stride, size_t n,
                       int32_t* scores) {
  for (size_t r = 0; r < n; ++r) {
    const int8_t* v = codes + r * stride;
    int32_t acc = 0;
    for (size_t d = 0; d < stride; ++d) acc += static_cast<int32_t>(v[d]) * q16[d];
    scores[r] = acc;
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Compilers widen int8 products element by element; vpmaddwd does 16 products and pairwise
// sums per instruction, which is what makes the int8 scan cheaper than the float one.
__attribute__((target("avx2"))) void DotRowsI8Avx2(const int8_t* codes, const int16_t* q16,
                                                   size_t stride, size_t n, int32_t* scores) {
  for (size_t r = 0; r < n; ++r) {
    const int8_t* v = codes + r * stride;
    __m256i acc = _mm256_setzero_si256();
    for (size_t d = 0; d < stride; d += 32) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + d));
      const __m256i lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(a));
      const __m256i hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(a, 1));
      acc = _mm256_add_epi32(
          acc,
          _mm256_madd_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q16 + d))));
      acc = _mm256_add_epi32(
          acc, _mm256_madd_epi16(
                   hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q16 + d + 16))));
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    scores[r] = _mm_cvtsi128_si32(s);
  }
}

void DotRowsI8(const int8_t* codes, const int16_t* q16, size_t stride, size_t n, int32_t* scores) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) {
    DotRowsI8Avx2(codes, q16, stride, n, scores);
  } else {
    DotRowsI8Portable(codes, q16, stride, n, scores);
  }
}
#else
void DotRowsI8(const int8_t* codes, const int16_t* q16, size_t stride, size_t n, int32_t* scores) {
  DotRowsI8Portable(codes, q16, stride, n, scores);
}
#endif

// Keeps the `k` largest (score, row) pairs seen.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  float floor() const {
    return heap_.size() < k_ ? -std::numeric_limits<float>::infinity() : heap_.top().first;
  }
  void Push(float score, size_t row) {
    if (heap_.size() < k_) {
      heap_.emplace(score, row);
    } else if (score > heap_.top().first) {
      heap_.pop();
      heap_.emplace(score, row);
    }
  }
  // Best first.
  std::vector<std::pair<float, size_t>> Take() {
    std::vector<std::pair<float, size_t>> out;
    while (!heap_.empty()) {
      out.push_back(heap_.top());
      heap_.pop();
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  using Entry = std::pair<float, size_t>;
  const size_t k_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

void Quantise(const float* v, size_t n, int8_t* code, float* scale) {
  float m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::abs(v[i]));
  *scale = m > 0 ? m / 127.0f : 1.0f;
  for (size_t i = 0; i < n; ++i) {
    code[i] = static_cast<int8_t>(std::lround(v[i] / *scale));
  }
}

}  // namespace

Gallery::Gallery(int dim) : dim_(dim), stride_((static_cast<size_t>(dim) + 31) / 32 * 32) {}

void Gallery::Reserve(size_t n) {
  ids_.reserve(n);
  vectors_.reserve(n * stride_);
  codes_.reserve(n * stride_);
  scales_.reserve(n);
}

std::vector<float> Gallery::Normalised(const Embedding& e) const {
  if (e.size() != static_cast<size_t>(dim_)) return {};
  double norm = 0;
  for (float x : e) norm += static_cast<double>(x) * x;
  if (!(norm > 0) || !std::isfinite(norm)) return {};
  std::vector<float> v(stride_, 0.0f);
  const double inv = 1.0 / std::sqrt(norm);
  for (size_t i = 0; i < e.size(); ++i) v[i] = static_cast<float>(e[i] * inv);
  return v;
}

absl::Status Gallery::Add(uint64_t id, const Embedding& embedding) {
  std::vector<float> v = Normalised(embedding);
  if (v.empty()) {
    return absl::InvalidArgumentError(
        "gallery embeddings must be non-zero, finite and of the "
        "gallery's size");
  }
  ids_.push_back(id);
  vectors_.insert(vectors_.end(), v.begin(), v.end());
  codes_.resize(codes_.size() + stride_);
  scales_.push_back(0);
  Quantise(v.data(), stride_, codes_.data() + codes_.size() - stride_, &scales_.back());
  return absl::OkStatus();
}

std::vector<GalleryHit> Gallery::Search(const Embedding& probe, int k) const {
  const std::vector<float> q = Normalised(probe);
  if (q.empty() || k <= 0) return {};
  TopK top(static_cast<size_t>(k));
  float scores[kBlock];
  for (size_t begin = 0; begin < ids_.size(); begin += kBlock) {
    const size_t n = std::min(kBlock, ids_.size() - begin);
    DotRowsF32(vectors_.data() + begin * stride_, q.data(), stride_, n, scores);
    const float floor = top.floor();
    for (size_t r = 0; r < n; ++r) {
      if (scores[r] > floor) top.Push(scores[r], begin + r);
    }
  }
  std::vector<GalleryHit> hits;
  for (const auto& [score, row] : top.Take()) hits.push_back({ids_[row], score});
  return hits;
}

std::vector<GalleryHit> Gallery::Rescore(const std::vector<float>& q,
                                         const std::vector<size_t>& rows, int k) const {
  TopK top(static_cast<size_t>(k));
  for (size_t row : rows) {
    float s = 0;
    DotRowsF32(vectors_.data() + row * stride_, q.data(), stride_, 1, &s);
    top.Push(s, row);
  }
  std::vector<GalleryHit> hits;
  for (const auto& [score, row] : top.Take()) hits.push_back({ids_[row], score});
  return hits;
}

std::vector<GalleryHit> Gallery::SearchInt8(const Embedding& probe, int k) const {
  const std::vector<float> q = Normalised(probe);
  if (q.empty() || k <= 0) return {};
  std::vector<int8_t> qc(stride_);
  float qs = 1;
  Quantise(q.data(), stride_, qc.data(), &qs);
  const std::vector<int16_t> q16(qc.begin(), qc.end());
  // Quantisation moves a score by at most about 2 * dim * (scale/2) * max|v|, a few thousandths
  // for 128-D descriptors; re-scoring 4k + 32 candidates in float absorbs ties that close.
  const size_t candidates = static_cast<size_t>(k) * 4 + 32;
  TopK top(candidates);
  int32_t raw[kBlock];
  for (size_t begin = 0; begin < ids_.size(); begin += kBlock) {
    const size_t n = std::min(kBlock, ids_.size() - begin);
    DotRowsI8(codes_.data() + begin * stride_, q16.data(), stride_, n, raw);
    const float floor = top.floor();
    for (size_t r = 0; r < n; ++r) {
      const float s = static_cast<float>(raw[r]) * scales_[begin + r] * qs;
      if (s > floor) top.Push(s, begin + r);
    }
  }
  std::vector<size_t> rows;
  for (const auto& [score, row] : top.Take()) rows.push_back(row);
  return Rescore(q, rows, k);
}

}  // namespace custos::face
