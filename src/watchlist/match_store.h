// The face matches (leads) raised by face recognition, and the operators' verdicts on them.
// Only matches are ever stored here — never faces that matched nobody (DESIGN.md §1.3). Each
// holds its face crop (sealed at rest with the watchlist key, the match id as associated
// data), score, entry, camera, time and track. Confirmations and rejections feed the public
// statistics (DESIGN.md §1.7). docs/face.md "Watchlists" has the table and the audit records.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "auth/authenticator.h"
#include "custos/clock.h"
#include "policy/policy_auditor.h"
#include "store/sqlite_util.h"
#include "watchlist/sealed_db.h"
#include "watchlist/watchlist_types.h"

namespace custos::watchlist {

struct MatchStoreOptions {
  // Usually DATA_DIR/face_matches.db; created (mode 0600) when missing.
  std::string path;
  // The watchlist key (WatchlistOptions::key_path); created at first start when missing and
  // the database is new.
  std::string key_path;
  int busy_timeout_ms = 5000;
  // Largest crop accepted (JPEG bytes).
  size_t max_crop_bytes = 512 * 1024;
};

struct MatchStoreDeps {
  const Clock* clock = nullptr;              // Required.
  policy::PolicyAuditor* auditor = nullptr;  // Required.
};

// What List() returns: everything but the crop.
struct MatchFilter {
  std::optional<MatchStatus> status;
  std::string camera;  // "": any.
  int64_t from_ms = 0;
  int64_t to_ms = 0;  // 0: no upper bound.
  int limit = 100;    // 1..1000.
};

// Thread-safe. Each change is recorded with the auditor inside its transaction (fail-closed,
// as WatchlistStore).
class MatchStore {
 public:
  // Errors as WatchlistStore::Create.
  static absl::StatusOr<std::unique_ptr<MatchStore>> Create(const MatchStoreOptions& options,
                                                            const MatchStoreDeps& deps);
  ~MatchStore();

  static const std::vector<store::Migration>& Migrations();

  // Stores a match raised by the recognizer as a lead (audited as face_match.record by
  // "system"). Errors: kInvalidArgument (no entry, camera, crop, or a crop that is not a
  // JPEG or too large); the auditor's code; store errors.
  absl::StatusOr<StoredMatch> Record(const FaceMatch& match);
  // An operator's verdict (acknowledge_alerts). A match is decided once.
  // Errors: kPermissionDenied; kNotFound; kFailedPrecondition (already decided);
  // kInvalidArgument (Reject without a reason); the auditor's code; store errors.
  absl::StatusOr<StoredMatch> Confirm(const auth::Principal& actor, std::string_view match_id,
                                      std::string_view note);
  absl::StatusOr<StoredMatch> Reject(const auth::Principal& actor, std::string_view match_id,
                                     std::string_view reason);

  // With the crop. Errors: kNotFound; kDataLoss (does not open with the key); store errors.
  absl::StatusOr<StoredMatch> Get(std::string_view match_id) const;
  // Newest first, without crops.
  absl::StatusOr<std::vector<StoredMatch>> List(const MatchFilter& filter) const;
  // Matches, confirmed and rejected per calendar month (UTC), oldest first.
  absl::StatusOr<std::vector<MonthlyMatchCounts>> MonthlyCounts() const;

 private:
  MatchStore(const MatchStoreOptions& options, const MatchStoreDeps& deps, store::SqliteDb db,
             SecretKey key);
  absl::StatusOr<StoredMatch> Decide(const auth::Principal& actor, std::string_view match_id,
                                     bool confirm, std::string_view note);
  absl::StatusOr<StoredMatch> GetLocked(std::string_view match_id, bool with_crop) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status Commit(policy::PolicyChange& change, const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const MatchStoreOptions options_;
  const Clock* const clock_;
  policy::PolicyAuditor* const auditor_;
  const SecretKey key_;
  mutable absl::Mutex mu_;
  store::SqliteDb db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::watchlist
