// The policy engine: the one place that decides whether a sensitive act has a legal basis,
// whether face recognition may run at a camera at a time, whether a four-eyes approval is
// valid, which retention overrides apply and which footage is on evidence hold. The API,
// analytics and retention call it; docs/policy.md has the rules, the reasons users see and
// the tables.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
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
#include "config/config.h"
#include "custos/clock.h"
#include "policy/policy_auditor.h"
#include "policy/policy_types.h"
#include "record/segment_index.h"
#include "retention/receipt_log.h"
#include "retention/retention_enforcer.h"
#include "store/sqlite_util.h"

namespace custos::policy {

// What the engine knows of a configured camera.
struct CameraInfo {
  std::string id;
  std::optional<config::Location> location;  // Matched against assemblies' geographic areas.
  std::vector<std::string> zones;            // Zone names of its view.
};
// The cameras of a configuration, for PolicyEngineOptions::cameras.
std::vector<CameraInfo> CamerasFromConfig(const config::Config& config);

struct PolicyEngineOptions {
  // The database file, usually DATA_DIR/policy.db; created (mode 0600) when missing.
  // ":memory:" gives a private in-memory database (tests).
  std::string path;
  // How long a write waits for another process's lock before failing with kUnavailable.
  int busy_timeout_ms = 5000;
  // The configured cameras. When not empty, policies naming other cameras are refused and
  // face recognition is off at cameras not listed (they are not in the register). When
  // empty, only the form of camera ids is checked. UpdateCameras() replaces it.
  std::vector<CameraInfo> cameras;
  // A four-eyes request must be decided within this time. 1 minute .. 90 days.
  int64_t approval_ttl_ms = 7 * 24 * 3'600'000LL;
};

// What the engine needs from the rest of the server. All must outlive the engine.
struct PolicyEngineDeps {
  const Clock* clock = nullptr;              // Required.
  PolicyAuditor* auditor = nullptr;          // Required: nothing changes without an audit record.
  record::SegmentIndex* segments = nullptr;  // Null: evidence holds are refused.
};

struct PolicyCache;  // policy_engine.cc

// A request to know whether face recognition may run.
struct FaceQuery {
  std::string camera;
  int64_t time_ms = 0;  // UTC time of the frame.
  // The zones of the camera's view the face lies in (possibly none). nullopt asks about the
  // camera's whole view, which is off when any part of it is protected.
  std::optional<std::vector<std::string>> zones;
};

// Thread-safe. The database is the truth; a copy of every record is kept in memory, so that
// the checks (CheckLegalBasis, FaceRecognitionAllowed, CheckApproval) never touch the disk
// and never fail. Changes run under an exclusive lock in one IMMEDIATE transaction that also
// calls the auditor; one process owns the file.
//
// Errors of the changing calls (each lists its own beyond these): kInvalidArgument (bad
// input: the message says what to fix), kPermissionDenied (the actor's role, or a rule
// refused: the message is the reason the user sees), kFailedPrecondition (the state does not
// allow it: decided request, ...), kNotFound, the auditor's error (nothing was changed), and
// store errors (kUnavailable: retry).
class PolicyEngine {
 public:
  // Errors: kInvalidArgument (options, deps); kFailedPrecondition (missing directory, a
  // database of another application or of a newer schema, left untouched); kPermissionDenied;
  // kDataLoss (not an SQLite database or unreadable records); kUnavailable.
  static absl::StatusOr<std::unique_ptr<PolicyEngine>> Create(const PolicyEngineOptions& options,
                                                              const PolicyEngineDeps& deps);

  ~PolicyEngine();

  // The schema history; the last version is what this build creates.
  static const std::vector<store::Migration>& Migrations();

  // Replaces the known cameras (after a configuration reload). Records naming cameras that
  // are gone stay, and match nothing.
  void UpdateCameras(std::vector<CameraInfo> cameras);

  // ---- Legal bases (add/revoke: manage_policies) ----
  // Errors: kAlreadyExists (reference used before, even if revoked).
  absl::StatusOr<LegalBasis> AddLegalBasis(const auth::Principal& actor, const LegalBasis& basis);
  // Errors: kNotFound; kFailedPrecondition (already revoked).
  absl::Status RevokeLegalBasis(const auth::Principal& actor, std::string_view reference,
                                std::string_view reason);
  std::optional<LegalBasis> FindLegalBasis(std::string_view reference) const;
  std::vector<LegalBasis> ListLegalBases() const;
  // Whether `reference` allows `act` (at `camera`, "" when the act concerns none) now.
  // Refuses unknown, not yet valid, expired, revoked and out-of-scope bases; a refusal is
  // audited with `actor`.
  Decision CheckLegalBasis(const auth::Principal& actor, std::string_view reference, Act act,
                           std::string_view camera = {});

  // ---- Face-recognition authorisations (manage_policies + an approved request) ----
  // Errors: kPermissionDenied (role; legal basis refused; approval missing, not approved,
  // of another kind, object or legal basis); kAlreadyExists (name used before).
  absl::StatusOr<FaceAuthorisation> AddFaceAuthorisation(const auth::Principal& actor,
                                                         const FaceAuthorisation& authorisation);
  absl::Status RevokeFaceAuthorisation(const auth::Principal& actor, std::string_view id,
                                       std::string_view reason);
  std::vector<FaceAuthorisation> ListFaceAuthorisations() const;
  // Allowed only when an authorisation is in force for the camera at query.time_ms and no
  // protected assembly covers the camera (or the query's zones) then. Not audited: it is a
  // pure function of audited records and the time, asked per frame.
  Decision FaceRecognitionAllowed(const FaceQuery& query) const;

  // ---- Protected assemblies (manage_policies) ----
  absl::StatusOr<ProtectedAssembly> AddProtectedAssembly(const auth::Principal& actor,
                                                         const ProtectedAssembly& assembly);
  absl::Status RevokeProtectedAssembly(const auth::Principal& actor, std::string_view id,
                                       std::string_view reason);
  std::vector<ProtectedAssembly> ListProtectedAssemblies() const;

  // ---- Four-eyes approvals ----
  // The requester needs the kind's request permission (watchlist_entry: propose_watchlist;
  // unblurred_export: export; evidence_hold: playback; face_authorisation: manage_policies)
  // and a legal basis in force covering the kind's act. Returns the pending request.
  absl::StatusOr<ApprovalRequest> RequestApproval(const auth::Principal& requester,
                                                  const ApprovalRequestSpec& spec);
  // The approver must be a logged-in user (not an API token) other than the requester whose
  // role allows the kind's approval (watchlist_entry and face_authorisation:
  // approve_watchlist; unblurred_export: approve_unblurred_export; evidence_hold:
  // evidence_hold). The request must be pending and unexpired, its legal basis still in
  // force. Errors: kNotFound; kPermissionDenied; kFailedPrecondition (decided or expired).
  absl::StatusOr<ApprovalRequest> Approve(const auth::Principal& approver,
                                          std::string_view request_id);
  // As Approve, without the legal-basis check; `reason` is required.
  absl::StatusOr<ApprovalRequest> Reject(const auth::Principal& approver,
                                         std::string_view request_id, std::string_view reason);
  // Errors: kNotFound.
  absl::StatusOr<ApprovalRequest> Status(std::string_view request_id) const;
  std::vector<ApprovalRequest> ListApprovals(std::optional<ApprovalStatus> status = {}) const;
  // Whether `request_id` is an approved request of `kind` for `object_id` whose legal basis
  // is in force now: what the watchlist and export modules check before acting.
  Decision CheckApproval(std::string_view request_id, ApprovalKind kind,
                         std::string_view object_id) const;

  // ---- Retention overrides (manage_policies) ----
  // Keeps `kind` of `camera` for `max_age_ms` (1 h .. 10 years), overriding the config.
  absl::Status SetRetention(const auth::Principal& actor, std::string_view camera,
                            retention::DataKind kind, int64_t max_age_ms);
  // Errors: kNotFound (no override).
  absl::Status ClearRetention(const auth::Principal& actor, std::string_view camera,
                              retention::DataKind kind);
  // Every override, as RetentionOptions::cameras takes them.
  std::map<std::string, retention::CameraRetention> RetentionOverrides() const;

  // ---- Evidence holds ----
  // The actor needs playback and an approved evidence_hold request for spec.case_reference
  // with spec.legal_basis_ref, whose legal basis covers evidence holds at the camera of
  // every segment. Sets the hold on every segment in the recordings index.
  // Errors: kFailedPrecondition (no recordings index; to_ms in the future; a segment is
  // being deleted by retention); kNotFound (no such segments).
  absl::StatusOr<EvidenceHold> PlaceEvidenceHold(const auth::Principal& actor,
                                                 const EvidenceHoldSpec& spec);
  // Needs the evidence_hold permission. Segments held by no other hold are released in the
  // index (unless they were held before any policy hold). Errors: kNotFound;
  // kFailedPrecondition (already released).
  absl::Status ReleaseEvidenceHold(const auth::Principal& actor, std::string_view hold_id,
                                   std::string_view reason);
  std::vector<EvidenceHold> ListEvidenceHolds() const;

  // Audit records that could not be written for refusals (the refusal stands regardless).
  int64_t refusal_audit_failures() const { return refusal_audit_failures_.load(); }

  const std::string& path() const { return options_.path; }

 private:
  PolicyEngine(const PolicyEngineOptions& options, const PolicyEngineDeps& deps, store::SqliteDb db,
               std::unique_ptr<PolicyCache> cache);

  PolicyChange MakeChange(const auth::Principal& actor, PolicyAction action,
                          std::string_view object, std::string_view legal_basis_ref,
                          std::string_view purpose) const;
  // Runs `body` in an IMMEDIATE transaction and records `change` with the auditor before
  // committing; rolls back when either fails and returns that error.
  absl::Status Commit(PolicyChange& change, const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records a refusal (result denied, `refusal`'s message as the reason) and returns
  // `refusal`. A failing auditor does not change the refusal; it is counted.
  absl::Status Refuse(const auth::Principal& actor, PolicyAction action, std::string_view object,
                      std::string_view legal_basis_ref, std::string_view purpose,
                      absl::Status refusal);
  // kOk when the actor's role allows `permission`, else the audited refusal.
  absl::Status Authorize(const auth::Principal& actor, auth::Permission permission,
                         PolicyAction action, std::string_view object);
  // `camera` nullopt: the cameras are not known yet (a request naming none) and are checked
  // against the scope when the act is carried out. "" : the act concerns no single camera, so
  // a camera-scoped basis does not cover it.
  Decision CheckLegalBasisLocked(std::string_view reference, Act act,
                                 std::optional<std::string_view> camera, int64_t now_ms) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // `legal_basis_ref` empty: not compared.
  Decision CheckApprovalLocked(std::string_view request_id, ApprovalKind kind,
                               std::string_view object_id, std::string_view legal_basis_ref,
                               int64_t now_ms) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // kInvalidArgument unless `camera` is a camera id (and a known camera, when known).
  absl::Status CheckCameraLocked(std::string_view camera, std::string_view field) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ApprovalRequest> Decide(const auth::Principal& approver,
                                         std::string_view request_id, bool approve,
                                         std::string_view reason);

  const PolicyEngineOptions options_;
  const Clock* const clock_;
  PolicyAuditor* const auditor_;
  record::SegmentIndex* const segments_;
  std::atomic<int64_t> refusal_audit_failures_{0};
  mutable absl::Mutex mu_;
  store::SqliteDb db_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<PolicyCache> cache_ ABSL_GUARDED_BY(mu_);
};

// kOk for an allowed decision, else kPermissionDenied with its reason.
absl::Status DecisionToStatus(const Decision& decision);

}  // namespace custos::policy
