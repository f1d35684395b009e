#include "watchlist/watchlist_matcher.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "custos/status.h"

namespace custos::watchlist {

struct WatchlistMatcher::Snapshot {
  explicit Snapshot(int dim) : gallery(dim) {}
  face::Gallery gallery;                // Ids are indexes into `entries`.
  std::vector<WatchlistEntry> entries;  // Metadata of the active entries.
  uint64_t generation = 0;
  int64_t built_at_ms = 0;
  int64_t next_expiry_ms = std::numeric_limits<int64_t>::max();
};

absl::StatusOr<std::unique_ptr<WatchlistMatcher>> WatchlistMatcher::Create(
    const MatcherOptions& options, const WatchlistStore* store) {
  if (store == nullptr) return absl::InvalidArgumentError("the matcher needs a watchlist store");
  if (!(options.match_threshold > 0 && options.match_threshold <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("match_threshold ", options.match_threshold,
                                                   " is out of range; give a value in (0, 1]"));
  }
  return std::unique_ptr<WatchlistMatcher>(new WatchlistMatcher(options, store));
}

WatchlistMatcher::WatchlistMatcher(const MatcherOptions& options, const WatchlistStore* store)
    : options_(options), store_(store) {}

int64_t WatchlistMatcher::rebuilds() const {
  absl::MutexLock lock(&mu_);
  return rebuilds_;
}

absl::StatusOr<std::shared_ptr<const WatchlistMatcher::Snapshot>> WatchlistMatcher::Current(
    int64_t time_ms) {
  const int64_t now = std::max(time_ms, store_->clock().WallMs());
  absl::MutexLock lock(&mu_);
  const uint64_t generation = store_->generation();
  if (snapshot_ && snapshot_->generation == generation && now < snapshot_->next_expiry_ms) {
    return snapshot_;
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<ActiveEntry> active, store_->ActiveEntries(now));
  auto snapshot = std::make_shared<Snapshot>(store_->options().embedding_dim);
  snapshot->generation = generation;
  snapshot->built_at_ms = now;
  for (ActiveEntry& a : active) {
    const uint64_t index = snapshot->entries.size();
    for (face::Embedding& e : a.embeddings) {
      CUSTOS_RETURN_IF_ERROR(snapshot->gallery.Add(index, e));
      Wipe(e);
    }
    snapshot->next_expiry_ms = std::min(snapshot->next_expiry_ms, a.entry.expires_ms);
    snapshot->entries.push_back(std::move(a.entry));
  }
  snapshot_ = std::move(snapshot);
  ++rebuilds_;
  return snapshot_;
}

absl::StatusOr<std::optional<WatchlistHit>> WatchlistMatcher::Match(const face::Embedding& probe,
                                                                    int64_t time_ms) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot, Current(time_ms));
  if (snapshot->entries.empty()) return std::nullopt;
  const int k = static_cast<int>(std::min<size_t>(snapshot->gallery.size(), 16));
  const int64_t now = std::max(time_ms, store_->clock().WallMs());
  for (const face::GalleryHit& hit : snapshot->gallery.Search(probe, k)) {
    if (hit.score < options_.match_threshold) break;  // Best first.
    const WatchlistEntry& entry = snapshot->entries[hit.id];
    if (StatusAt(entry, now) != EntryStatus::kActive) continue;
    // Fail closed: an approval whose legal basis was revoked or expired no longer holds.
    if (!store_->policy()
             .CheckApproval(entry.approval_id, policy::ApprovalKind::kWatchlistEntry, entry.id)
             .allowed) {
      continue;
    }
    return WatchlistHit{entry.id, entry.label, entry.category, hit.score};
  }
  return std::nullopt;
}

absl::StatusOr<size_t> WatchlistMatcher::ActiveEntries(int64_t time_ms) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot, Current(time_ms));
  return snapshot->entries.size();
}

}  // namespace custos::watchlist
