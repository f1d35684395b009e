// 1:N matching of a live face against the ACTIVE watchlist entries only (DESIGN.md §2: no
// index of anyone else). The gallery (face/gallery.h) is rebuilt from the store when an entry
// changes (the store's generation moves) or when the next active entry's expiry passes, so an
// entry stops matching the moment it is withdrawn or expires. Each hit is checked once more
// against the clock and the policy engine (approval and legal basis still in force) before it
// is returned.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "face/face_types.h"
#include "face/gallery.h"
#include "watchlist/watchlist_store.h"

namespace custos::watchlist {

struct MatcherOptions {
  // Cosine similarity at or above which a face matches an entry: the embedder's published
  // operating point (0.90 for dlib-face-resnet, docs/face.md), FaceAnalyzer::match_threshold().
  // Range (0, 1].
  float match_threshold = 0.90f;
};

struct WatchlistHit {
  std::string entry_id;
  std::string label;
  SubjectCategory category = SubjectCategory::kWantedSuspect;
  float score = 0;
};

// Thread-safe: cameras match concurrently; a rebuild swaps in a new immutable gallery.
class WatchlistMatcher {
 public:
  // REQUIRES: `store` outlives the matcher. kInvalidArgument for a threshold out of range.
  static absl::StatusOr<std::unique_ptr<WatchlistMatcher>> Create(const MatcherOptions& options,
                                                                  const WatchlistStore* store);

  // The best active entry whose similarity to `probe` reaches the threshold at frame time
  // `time_ms`, or nullopt. The probe is not kept. Errors: those of rebuilding the gallery from
  // the store (kDataLoss for a record that does not open with the key; kUnavailable).
  absl::StatusOr<std::optional<WatchlistHit>> Match(const face::Embedding& probe, int64_t time_ms);

  // Active entries at `time_ms` (rebuilding if needed). Errors as Match.
  absl::StatusOr<size_t> ActiveEntries(int64_t time_ms);

  float threshold() const { return options_.match_threshold; }
  int64_t rebuilds() const;

 private:
  struct Snapshot;
  WatchlistMatcher(const MatcherOptions& options, const WatchlistStore* store);
  absl::StatusOr<std::shared_ptr<const Snapshot>> Current(int64_t time_ms);

  const MatcherOptions options_;
  const WatchlistStore* const store_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  int64_t rebuilds_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace custos::watchlist
