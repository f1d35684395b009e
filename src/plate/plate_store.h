// Plate reads and hotlist hits at rest (docs/plates.md "Reads and hits").
//
// A read is what the live pipeline voted for one vehicle track: text, confidence, the other
// candidates, camera, time, and a small JPEG of the plate. Reads are personal data about
// everyone who drives past, so they are kept only briefly (default 72 h) and only an
// investigator with a case reference and a legal basis may search them (the API audits each
// query before it answers). A hit is a read that matched an approved hotlist entry: a lead for
// an operator to verify; it is kept as long as the entry's legal basis is in force, and its
// own copy of the read and crop outlives the read's retention.
//
// Thread-safe. Hits and their verdicts are recorded with the auditor inside their transaction
// (fail-closed); the purge of expired reads is recorded as one record per purge.
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
#include "custos/geometry.h"
#include "plate/plate_reader.h"
#include "policy/policy_auditor.h"
#include "store/sqlite_util.h"

namespace custos::plate {

struct StoredRead {
  std::string id;  // ULID (from time_ms).
  std::string camera;
  int64_t time_ms = 0;   // UTC ms of the frame of the best read.
  std::string plate;     // The voted text (A-Z, 0-9).
  float confidence = 0;  // The vote's share times the best read's confidence, in [0, 1].
  std::vector<PlateCandidate> candidates;  // Best first; candidates[0].text == plate.
  std::string label;                       // Vehicle class: car, truck, bus, motorcycle.
  int64_t track_id = 0;
  int frames = 0;          // Reads of the track that voted.
  BoxF box;                // Plate box in the camera's full-resolution frame.
  std::string crop_jpeg;   // The plate with some margin; empty in lists.
  int64_t expires_ms = 0;  // When the purge erases it.
};

enum class HitStatus { kLead, kConfirmed, kRejected };
std::string_view HitStatusName(HitStatus status);  // "lead", "confirmed", "rejected"
std::optional<HitStatus> HitStatusFromName(std::string_view name);

struct StoredHit {
  std::string id;   // ULID.
  StoredRead read;  // A copy: kept with the hit after the read itself expires.
  std::string entry_id;
  std::string entry_plate;
  std::string entry_label;
  std::string legal_basis_ref;  // The entry's.
  int distance = 0;             // OCR confusions between the entry and the read.
  HitStatus status = HitStatus::kLead;
  std::string decided_by;
  int64_t decided_ms = 0;
  std::string note;           // The verdict's note or reason.
  int64_t keep_until_ms = 0;  // The legal basis's expiry; the purge erases it after.
};

struct ReadQuery {
  std::string pattern = {};  // Plate text with optional '?' and '*' (plate_match.h); "" = any.
  int max_confusions = 0;    // 0..2.
  std::string camera = {};   // "" = any.
  int64_t from_ms = 0;
  int64_t to_ms = 0;  // 0 = now.
  int limit = 200;    // 1..1000.
};

struct HitFilter {
  std::optional<HitStatus> status = {};
  std::string camera = {};  // "" = any.
  int64_t from_ms = 0;
  int64_t to_ms = 0;  // 0 = no bound.
  int limit = 100;    // 1..1000.
};

struct PlateStoreOptions {
  std::string path;  // Usually DATA_DIR/plates.db; created (mode 0600) when missing.
  // How long a read is kept (DESIGN.md §1.6; config retention.plate_reads_hours).
  int64_t read_retention_ms = 72LL * 3'600'000;
  int busy_timeout_ms = 5000;
  size_t max_crop_bytes = 256 * 1024;
};

struct PlateStoreDeps {
  const Clock* clock = nullptr;              // Required.
  policy::PolicyAuditor* auditor = nullptr;  // Required.
};

struct PurgeResult {
  int64_t reads = 0;
  int64_t hits = 0;
};

class PlateStore {
 public:
  // Errors: kInvalidArgument (options, deps); as store::OpenModuleDb.
  static absl::StatusOr<std::unique_ptr<PlateStore>> Create(const PlateStoreOptions& options,
                                                            const PlateStoreDeps& deps);
  ~PlateStore();

  // Stores a read (not audited: a machine act at traffic volume; its queries are). Sets id
  // and expires_ms. Errors: kInvalidArgument (no plate or camera, a crop that is not a JPEG or
  // too big); store errors (kResourceExhausted: disk full).
  absl::StatusOr<StoredRead> AddRead(StoredRead read);
  // Reads matching `query`, newest first, without crops. Errors: kInvalidArgument (pattern,
  // range, limit); store errors.
  absl::StatusOr<std::vector<StoredRead>> Query(const ReadQuery& query) const;
  // With the crop. Errors: kNotFound (unknown or already erased).
  absl::StatusOr<StoredRead> GetRead(std::string_view read_id) const;

  // Stores a hit as a lead (audited as plate_hit.record by "system"). Sets id.
  absl::StatusOr<StoredHit> AddHit(StoredHit hit);
  // An operator's verdict (acknowledge_alerts); decided once; Reject needs a reason.
  absl::StatusOr<StoredHit> ConfirmHit(const auth::Principal& actor, std::string_view hit_id,
                                       std::string_view note);
  absl::StatusOr<StoredHit> RejectHit(const auth::Principal& actor, std::string_view hit_id,
                                      std::string_view reason);
  absl::StatusOr<StoredHit> GetHit(std::string_view hit_id) const;  // With the crop.
  absl::StatusOr<std::vector<StoredHit>> ListHits(const HitFilter& filter) const;

  // Erases reads whose expires_ms has passed and hits past keep_until_ms (secure_delete
  // overwrites them on disk), and records the purge with the auditor. Run it periodically.
  absl::StatusOr<PurgeResult> Purge();

  int64_t read_retention_ms() const { return options_.read_retention_ms; }

 private:
  PlateStore(const PlateStoreOptions& options, const PlateStoreDeps& deps, store::SqliteDb db);
  absl::StatusOr<StoredHit> Decide(const auth::Principal& actor, std::string_view hit_id,
                                   HitStatus verdict, std::string_view note);
  absl::StatusOr<StoredHit> GetHitLocked(std::string_view hit_id, bool with_crop) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const PlateStoreOptions options_;
  const Clock* const clock_;
  policy::PolicyAuditor* const auditor_;
  mutable absl::Mutex mu_;
  store::SqliteDb db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::plate
