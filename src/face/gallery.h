// 1:N search of an in-memory gallery of face descriptors.
//
// The gallery holds ONLY the enrolment embeddings of active watchlist entries — never
// descriptors of passers-by, never faces taken from recordings (DESIGN.md §1.3 and §2: no
// searchable index of everyone's faces). Live faces are probes: searched, then discarded unless
// they match. Filling the gallery from the watchlist, with its legal basis and four-eyes
// approval, is the policy engine's job (later); this class is only the search kernel.
//
// Brute force over normalised vectors, laid out contiguously for SIMD: exact float search, and
// an int8 scan (4x less memory traffic) whose best candidates are re-scored in float so that it
// returns the same ranking as the float search (gallery_test.cc checks this).
//
// Thread-compatible: concurrent Search calls are safe; Add must not run alongside them.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "face/face_types.h"

namespace custos::face {

struct GalleryHit {
  uint64_t id = 0;  // The id given to Add (a watchlist entry id).
  float score = 0;  // Cosine similarity to the probe.
};

class Gallery {
 public:
  // `dim`: descriptor size (128 for dlib's ResNet). REQUIRES: dim > 0.
  explicit Gallery(int dim);

  // Adds a descriptor (normalised here). kInvalidArgument for a wrong size or a zero vector.
  absl::Status Add(uint64_t id, const Embedding& embedding);

  // The k entries most similar to `probe`, best first (fewer if the gallery is smaller).
  // An empty result for a probe of the wrong size.
  std::vector<GalleryHit> Search(const Embedding& probe, int k) const;
  // The same ranking from an int8 scan plus a float re-score of its best candidates.
  std::vector<GalleryHit> SearchInt8(const Embedding& probe, int k) const;

  size_t size() const { return ids_.size(); }
  int dim() const { return dim_; }
  void Reserve(size_t n);

 private:
  std::vector<float> Normalised(const Embedding& e) const;  // Padded to stride_; empty if bad.
  std::vector<GalleryHit> Rescore(const std::vector<float>& q, const std::vector<size_t>& rows,
                                  int k) const;

  const int dim_;
  const size_t stride_;  // dim_ rounded up to 32: every row starts aligned and has no tail.
  std::vector<uint64_t> ids_;
  std::vector<float> vectors_;  // Row r at r * stride_, zero-padded.
  std::vector<int8_t> codes_;   // Row r at r * stride_: round(v / scale_r), |code| <= 127.
  std::vector<float> scales_;   // Per row: max |v| / 127.
};

}  // namespace custos::face
