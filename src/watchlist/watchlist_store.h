// The watchlist: who face recognition may look for, on what legal basis, approved by whom and
// until when (DESIGN.md §1.1–1.3, docs/face.md "Watchlists").
//
// An entry holds its enrolment embeddings only — never a photo — sealed at rest with
// libsodium (XChaCha20-Poly1305, the entry id as associated data) under a key kept in a
// separate 0600 file. Proposing needs a legal basis in force and opens a four-eyes request in
// the policy engine; an entry becomes active only when the policy engine reports that request
// approved (by a different supervisor), and it stops matching the moment it expires or is
// withdrawn: matching checks the clock, there is no sweeper to wait for.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "auth/authenticator.h"
#include "custos/clock.h"
#include "face/face_types.h"
#include "policy/policy_auditor.h"
#include "policy/policy_engine.h"
#include "store/sqlite_util.h"
#include "watchlist/sealed_db.h"
#include "watchlist/watchlist_types.h"

namespace custos::watchlist {

struct WatchlistOptions {
  // The database, usually DATA_DIR/watchlist.db; created (mode 0600) when missing.
  std::string path;
  // The sealing key, usually DATA_DIR/keys/watchlist.key; created (0600, folder 0700) at the
  // first start. Keep a backup apart from the database: without it the embeddings are lost.
  std::string key_path;
  // How long a write waits for another process's lock before failing with kUnavailable.
  int busy_timeout_ms = 5000;
  // Expiry of an entry whose proposal gives none, from the proposal.
  int64_t default_expiry_ms = 30LL * 24 * 3'600'000;
  // Longest expiry a proposal may ask for, from the proposal (also capped by the legal basis).
  int64_t max_expiry_ms = 90LL * 24 * 3'600'000;
  // Enrolment embeddings per entry: 1..max_embeddings, each embedding_dim floats.
  int max_embeddings = 20;
  int embedding_dim = 128;
};

// What the store needs from the server. All must outlive the store.
struct WatchlistDeps {
  const Clock* clock = nullptr;              // Required.
  policy::PolicyEngine* policy = nullptr;    // Required: legal bases and four eyes.
  policy::PolicyAuditor* auditor = nullptr;  // Required: nothing changes unaudited.
};

// An active entry with its (decrypted) embeddings, for the matcher. Lives in memory only.
struct ActiveEntry {
  WatchlistEntry entry;
  std::vector<face::Embedding> embeddings;
};

// Thread-safe. Every change runs in one IMMEDIATE transaction that also records the change
// with the auditor before COMMIT: if the auditor refuses, the change is rolled back and the
// auditor's error returned ("nothing was changed"). Refusals of a person's request are
// recorded with result denied. The auditor must not call back into the store.
//
// Errors of every changing call, beyond its own: kInvalidArgument (bad input; the message says
// what to fix), kUnauthenticated, kPermissionDenied (role or a policy rule: the message is the
// reason), kFailedPrecondition (the entry's state does not allow it), kNotFound, the
// auditor's code (nothing changed), store errors (kUnavailable: retry).
class WatchlistStore {
 public:
  // Errors: kInvalidArgument (options, deps); kFailedPrecondition (missing directory; a
  // database of another application or newer schema; a key file missing for a database that
  // has sealed records; a key that does not open this database); kPermissionDenied (key file
  // readable by others, files not writable); kDataLoss; kUnavailable.
  static absl::StatusOr<std::unique_ptr<WatchlistStore>> Create(const WatchlistOptions& options,
                                                                const WatchlistDeps& deps);
  ~WatchlistStore();

  static const std::vector<store::Migration>& Migrations();

  // Proposes an entry with its enrolment embeddings (see EmbedEnrolmentPhotos for photos).
  // Needs propose_watchlist and a legal basis in force covering watchlist_entry; opens the
  // four-eyes request (policy kind watchlist_entry, object: the entry id). Returns the pending
  // entry, whose approval_id a different supervisor approves.
  // Own errors: kInvalidArgument (no embeddings, wrong size, not finite, expiry in the past
  // or beyond max_expiry_ms or the legal basis's expiry).
  absl::StatusOr<WatchlistEntry> Propose(const auth::Principal& actor, const ProposalSpec& spec,
                                         const std::vector<face::Embedding>& embeddings);

  // The second pair of eyes: approves the entry's request in the policy engine (which refuses
  // the proposer, other roles and API tokens, each audited there) and activates the entry.
  // Own errors: kFailedPrecondition (not pending; expired).
  absl::StatusOr<WatchlistEntry> Approve(const auth::Principal& approver,
                                         std::string_view entry_id);
  // Activates a pending entry whose request was approved in the policy engine (for an
  // approval made there directly). kPermissionDenied with the policy engine's reason unless
  // CheckApproval allows it and the approver is not the proposer.
  absl::StatusOr<WatchlistEntry> Activate(const auth::Principal& actor, std::string_view entry_id);
  // Rejects the request in the policy engine and the entry; its embeddings are erased.
  absl::StatusOr<WatchlistEntry> Reject(const auth::Principal& approver, std::string_view entry_id,
                                        std::string_view reason);
  // Takes a pending or active entry off the watchlist at once; its embeddings are erased.
  // Allowed to its proposer and to approve_watchlist (supervisors). `reason` is required.
  absl::StatusOr<WatchlistEntry> Withdraw(const auth::Principal& actor, std::string_view entry_id,
                                          std::string_view reason);
  // Erases the embeddings of entries expired at `now` (a retention job calls this; matching
  // does not depend on it). Returns how many entries were erased; audited as one change.
  absl::StatusOr<int> EraseExpired();

  // Metadata only. Errors: kNotFound; store errors.
  absl::StatusOr<WatchlistEntry> Get(std::string_view entry_id) const;
  absl::StatusOr<std::vector<WatchlistEntry>> List() const;
  // Entries active at `time_ms` (and at the clock's now) with their embeddings.
  // Errors: kDataLoss (a record does not open with the key); store errors.
  absl::StatusOr<std::vector<ActiveEntry>> ActiveEntries(int64_t time_ms) const;

  // Increases on every change of any entry; the matcher rebuilds when it moves.
  uint64_t generation() const { return generation_.load(); }
  policy::PolicyEngine& policy() const { return *policy_; }
  const Clock& clock() const { return *clock_; }
  const WatchlistOptions& options() const { return options_; }

 private:
  WatchlistStore(const WatchlistOptions& options, const WatchlistDeps& deps, store::SqliteDb db,
                 SecretKey key);

  policy::PolicyChange MakeChange(const auth::Principal& actor, policy::PolicyAction action,
                                  const WatchlistEntry& entry) const;
  absl::Status Refuse(const auth::Principal& actor, policy::PolicyAction action,
                      std::string_view object, absl::Status refusal);
  // Runs `body` in an IMMEDIATE transaction, records `change` before COMMIT.
  absl::Status Commit(policy::PolicyChange& change, const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<WatchlistEntry> GetLocked(std::string_view entry_id) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Writes the entry's record and status; `sealed` replaces the embeddings when set.
  absl::Status UpdateLocked(const WatchlistEntry& entry, const std::string* sealed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const WatchlistOptions options_;
  const Clock* const clock_;
  policy::PolicyEngine* const policy_;
  policy::PolicyAuditor* const auditor_;
  const SecretKey key_;
  std::atomic<uint64_t> generation_{1};
  mutable absl::Mutex mu_;
  store::SqliteDb db_ ABSL_GUARDED_BY(mu_);
};

// The associated data an entry's embeddings are sealed with.
std::string EntrySealContext(std::string_view entry_id);

}  // namespace custos::watchlist
