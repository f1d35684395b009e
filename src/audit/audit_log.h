// The tamper-evident audit log (DESIGN.md §1.4): every sensitive act is an entry of
// canonical JSON, a leaf of an RFC 6962 Merkle tree; signed checkpoints (C2SP
// tlog-checkpoint, Ed25519) let anyone holding one check inclusion and consistency.
// Files under DATA_DIR/audit/, formats and threat model: docs/audit.md.
//
//   entries.log        the entries, append-only, fsynced before Append() returns
//   entries.idx        end offset of each entry (derived; rebuilt on open after a crash)
//   tree.hashes        the tree's hashes in stored order (derived; rebuilt on open)
//   checkpoints/<size> signed checkpoints, one file each, written atomically
//   verifier.key       the public key (note verifier-key format)
//   key/signing.key    the Ed25519 signing key (mode 0600, folder 0700), made at first start
//   LOCK               held (flock) by the one process that writes the log
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "auth/access_log.h"
#include "custos/clock.h"
#include "nlohmann/json.hpp"
#include "retention/receipt_log.h"

namespace custos::audit {

// One sensitive act. Its canonical JSON (keys sorted, no whitespace, UTF-8, integers only:
// RFC 8785 for these types) is the leaf data.
struct AuditEntry {
  int64_t time_ms = 0;      // UTC; 0: the log's clock when appended. Stored as "time" (ISO).
  std::string actor;        // Username, "token:<name>", "retention", ...
  std::string role;         // auth::RoleName(), or "system".
  std::string action;       // "login", "plate_query", "retention_delete", "audit_read", ...
  std::string object;       // What was acted on; may be "".
  std::string legal_basis;  // Reference of the legal-basis record; "" when the act needs none.
  std::string purpose;      // Why, in the actor's words or the case reference; may be "".
  std::string result;       // "ok", "denied", "error", ...
  std::string client;       // Client address as the API saw it; may be "".
  nlohmann::json details = nlohmann::json::object();  // More fields; no floating-point numbers.
};

// The exact bytes that are hashed and stored. Errors: kInvalidArgument for details that are
// not an object or hold floating-point numbers.
absl::StatusOr<std::string> CanonicalJson(const AuditEntry& entry);
// "2023-11-14T22:13:20.000Z".
std::string FormatUtcMs(int64_t time_ms);

inline constexpr size_t kMaxEntryBytes = 1 << 20;

struct AuditLogOptions {
  std::string data_dir;  // The log lives in data_dir/audit (created, mode 0700).
  // The checkpoints' origin line and the key's name. "": "custos.audit/<16 random hex>" at
  // first start, and afterwards the stored key's name. A different name than the stored
  // key's is refused.
  std::string origin;
  const Clock* clock = nullptr;  // nullptr: Clock::Real().
};

struct InclusionProof {
  uint64_t index = 0;
  uint64_t tree_size = 0;
  Hash leaf_hash{};
  std::vector<Hash> hashes;
  SignedCheckpoint checkpoint;  // The checkpoint of tree_size.
  std::string entry;            // The entry's canonical JSON.
};
struct ConsistencyProof {
  uint64_t size1 = 0;
  uint64_t size2 = 0;
  std::vector<Hash> hashes;
  SignedCheckpoint checkpoint1;
  SignedCheckpoint checkpoint2;
};
// {"index","tree_size","leaf_hash","proof":[base64...],"checkpoint","entry"} and
// {"size1","size2","proof","checkpoint1","checkpoint2"}: docs/audit.md.
nlohmann::json ToJson(const InclusionProof& proof);
nlohmann::json ToJson(const ConsistencyProof& proof);

struct StoredEntry {
  uint64_t index = 0;
  std::string json;  // Canonical JSON as stored.
};

struct VerifyOptions {
  // A checkpoint kept outside (its note text); "" for none. It must be signed by this log's
  // key, and the log must still contain the tree it commits to.
  std::string external_checkpoint;
};
struct VerifyReport {
  uint64_t entries = 0;
  uint64_t checkpoints = 0;
  uint64_t latest_checkpoint_size = 0;
  bool live_writer = false;  // Another process had the log open; see docs/audit.md.
  std::vector<std::string> notes;
};

// Recomputes everything from the files of data_dir/audit without changing them: every
// record and its hash, the index and tree files, every checkpoint's signature and root, each
// checkpoint's consistency with the latest, and the external checkpoint's consistency with
// the log. Errors: kDataLoss naming the first problem ("entry 12 at byte offset 3456: ..."),
// kNotFound when there is no log, kUnavailable/kPermissionDenied for I/O.
absl::StatusOr<VerifyReport> VerifyAuditDir(const std::string& data_dir,
                                            const VerifyOptions& options);

// Read-only access to a log's files for the CLI: proofs against stored checkpoints and the
// checkpoints themselves. Does not take the writer's lock, so it works beside a running
// server; it serves only sizes that a stored checkpoint covers. Thread-compatible.
class AuditLogReader {
 public:
  // Errors: kNotFound (no log in data_dir), kDataLoss (bad key file), I/O errors.
  static absl::StatusOr<std::unique_ptr<AuditLogReader>> Open(const std::string& data_dir);
  ~AuditLogReader();

  const VerifierKey& key() const { return key_; }
  // Sizes of the stored checkpoints, ascending.
  absl::StatusOr<std::vector<uint64_t>> CheckpointSizes() const;
  // Errors: kNotFound (none / none of that size), kDataLoss (bad signature or format).
  absl::StatusOr<SignedCheckpoint> LatestCheckpoint() const;
  absl::StatusOr<SignedCheckpoint> CheckpointAt(uint64_t size) const;
  // Against the checkpoint of `tree_size` (0: the latest). Errors: kNotFound (no such
  // checkpoint), kOutOfRange (the entry is not covered by it), kDataLoss.
  absl::StatusOr<InclusionProof> ProveInclusion(uint64_t index, uint64_t tree_size) const;
  // Between two stored checkpoints (size2 0: the latest).
  absl::StatusOr<ConsistencyProof> ProveConsistency(uint64_t size1, uint64_t size2) const;

 private:
  friend class AuditLog;
  AuditLogReader() = default;
  absl::StatusOr<std::string> EntryAt(uint64_t index) const;

  std::string dir_;
  VerifierKey key_;
  int entries_fd_ = -1;
  int idx_fd_ = -1;
  int tree_fd_ = -1;
};

// The writer. Implements auth::AccessLog and retention::DeletionAuditor so the server swaps
// it in for server::AuditTrail; Append() is the fail-closed call for acts whose result must
// not be shown unless the act is on record. One process at a time (flock on LOCK).
// Thread-safe; appends are serialised, each costs one fdatasync.
class AuditLog final : public auth::AccessLog, public retention::DeletionAuditor {
 public:
  // Creates the folder and key at first start, truncates a torn final record left by a
  // crash, rebuilds the derived files past the latest checkpoint. Errors: kUnavailable
  // (another process holds the log, I/O), kPermissionDenied (files not accessible, or the
  // signing key readable by others: fix with chmod 600), kDataLoss (a damaged or shortened
  // log, a bad checkpoint, a missing key for an existing log: run `custos audit verify`),
  // kInvalidArgument (bad origin).
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const AuditLogOptions& options);
  ~AuditLog() override;

  // Appends and makes durable; returns the entry's index. OK means the entry survives a
  // crash; callers must not hand out a sensitive result otherwise. Errors:
  // kInvalidArgument (entry too big / bad details), kResourceExhausted (disk full),
  // kUnavailable (I/O error; after a failed sync the log refuses appends until reopened).
  absl::StatusOr<uint64_t> Append(const AuditEntry& entry);

  // auth::AccessLog: appends; a failure is logged as an error and counted, never silent.
  void Record(const auth::AccessRecord& record) override;
  // retention::DeletionAuditor: fail-closed. A receipt id already recorded since the last
  // checkpoint before this process started, or by this process, is not appended again.
  absl::Status Record(const retention::DeletionReceipt& receipt) override;

  // Signs the current tree if it grew since the last checkpoint (or if there is none yet)
  // and returns the latest checkpoint. Call every minute and on shutdown.
  // Errors: kUnavailable / kResourceExhausted (I/O).
  absl::StatusOr<SignedCheckpoint> Checkpoint();
  // Errors: kNotFound before the first checkpoint.
  absl::StatusOr<SignedCheckpoint> LatestCheckpoint() const;

  // Entries [from, from + count) (at most 1000, clipped to the log's end) for an auditor.
  // First appends an "audit_read" entry naming the range; nothing is returned unless that
  // entry is durable. Errors: kPermissionDenied (role may not read the audit log; the
  // attempt is recorded), those of Append().
  absl::StatusOr<std::vector<StoredEntry>> Read(uint64_t from, uint64_t count,
                                                const std::string& actor, auth::Role role,
                                                const std::string& client = "");

  // Entries [from, from + count) (at most 1000, clipped) for the server's own aggregate
  // statistics (public monthly counts), not logged as a read. Never hand them to a person:
  // people read through Read(), which is on record.
  absl::StatusOr<std::vector<StoredEntry>> ScanForStatistics(uint64_t from, uint64_t count) const;

  // Proofs against stored checkpoints (tree_size / size2 0: the latest), as AuditLogReader.
  absl::StatusOr<InclusionProof> ProveInclusion(uint64_t index, uint64_t tree_size) const;
  absl::StatusOr<ConsistencyProof> ProveConsistency(uint64_t size1, uint64_t size2) const;

  // VerifyAuditDir on this log, with appends held off while it runs (O(n)).
  absl::StatusOr<VerifyReport> Verify(const VerifyOptions& options) const;

  uint64_t size() const;
  const VerifierKey& key() const { return key_.verifier; }
  std::string verifier_key() const { return FormatVerifierKey(key_.verifier); }
  const std::string& dir() const { return dir_; }
  // Access records that could not be written (Record(AccessRecord) cannot report them).
  int64_t failed_records() const;

 private:
  AuditLog() = default;
  absl::Status Recover(uint64_t checkpoint_size);

  std::string dir_;
  const Clock* clock_ = nullptr;
  SignerKey key_;
  int lock_fd_ = -1;
  std::unique_ptr<AuditLogReader> files_;  // Shares the read paths; fds opened read-write.

  mutable absl::Mutex mu_;
  uint64_t entries_end_ ABSL_GUARDED_BY(mu_) = 0;
  CompactTree tree_ ABSL_GUARDED_BY(mu_);
  std::optional<SignedCheckpoint> latest_ ABSL_GUARDED_BY(mu_);
  bool derived_synced_ ABSL_GUARDED_BY(mu_) = true;
  std::string broken_ ABSL_GUARDED_BY(mu_);  // Why appends are refused; "" when fine.
  int64_t failed_records_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<std::string> receipt_ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::audit
