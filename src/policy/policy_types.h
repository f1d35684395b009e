// The value types of the policy engine: legal bases, face-recognition authorisations,
// protected assemblies, four-eyes approvals, evidence holds and decisions, with the names
// they have in the database, the API and docs/policy.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "config/config.h"

namespace custos::policy {

// Allow or deny, with the reason a user sees and the rule that decided (docs/policy.md lists
// every rule id). A denial's reason says what would make the act allowed.
struct Decision {
  bool allowed = false;
  std::string reason;
  std::string rule_id;
};

// What kind of instrument a legal basis is.
enum class LegalBasisType {
  kCourtOrder,           // A judge's order or warrant.
  kStatute,              // A law that authorises the act directly; expires at its review date.
  kCase,                 // An open investigation case file.
  kConsent,              // The documented consent of the person concerned.
  kAdministrativeOrder,  // An order of a competent authority other than a court.
};
std::string_view LegalBasisTypeName(LegalBasisType type);  // "court_order", ...
std::optional<LegalBasisType> LegalBasisTypeFromName(std::string_view name);

// The sensitive acts that need a legal basis (DESIGN.md §1.1, §1.2, §1.6).
enum class Act {
  kWatchlistEntry,     // Enrol a person on a watchlist.
  kPlateQuery,         // Query plate reads.
  kUnblurredExport,    // Export video without blurring.
  kOldPlayback,        // Play back recordings older than 24 h.
  kUnpublishedCamera,  // Start a camera that is not in the public register.
  kEvidenceHold,       // Keep footage beyond its retention for a case.
  kFaceRecognition,    // Run face recognition (through a face-recognition authorisation).
  kPlateHotlist,       // Put a plate on a hotlist (every read is matched against it).
};
std::string_view ActName(Act act);  // "watchlist_entry", ...
std::optional<Act> ActFromName(std::string_view name);
std::vector<Act> AllActs();

// What a legal basis covers. Empty lists cover everything of their kind.
struct LegalBasisScope {
  std::string description;           // Free text from the instrument; may be empty.
  std::vector<std::string> cameras;  // Camera ids; empty: every camera.
  std::vector<Act> acts;             // Empty: every act.
};

struct LegalBasis {
  std::string reference;  // Unique: "AG Musterstadt 12 Gs 345/26". 1..200 characters.
  LegalBasisType type = LegalBasisType::kCourtOrder;
  std::string issuing_authority;  // Who issued it. 1..200 characters.
  LegalBasisScope scope;
  int64_t valid_from_ms = 0;  // UTC; in force on [valid_from_ms, expires_ms).
  int64_t expires_ms = 0;     // Required: a statute gets its review date.
  // Set by the engine.
  int64_t created_ms = 0;
  std::string created_by;
  int64_t revoked_ms = 0;  // 0: not revoked.
  std::string revoked_by;
  std::string revoke_reason;
};

// Why face recognition may run; a fixed list so that statistics can count by purpose.
enum class FacePurpose {
  kMissingPerson,  // A missing or vulnerable person.
  kThreatToLife,   // An imminent threat to someone's life or safety.
  kSeriousCrime,   // Suspects of serious crimes named in the legal basis.
  kTerrorism,      // Prevention or investigation of terrorist offences.
  kWantedPerson,   // Executing an arrest warrant.
};
std::string_view FacePurposeName(FacePurpose purpose);  // "missing_person", ...
std::optional<FacePurpose> FacePurposeFromName(std::string_view name);
std::vector<FacePurpose> AllFacePurposes();

// Face recognition is off wherever no authorisation is in force. One is in force for a
// camera at time t when: not revoked; the camera is listed (or all_cameras);
// start_ms <= t < end_ms; t < expires_ms; its legal basis is in force at t and its scope
// covers face recognition at that camera. Protected assemblies override it.
struct FaceAuthorisation {
  std::string id;                    // Set by the engine (ULID).
  std::string name;                  // Unique label, 1..200 characters; the approval's object.
  std::string legal_basis_ref;       // Must name a legal basis in force when added.
  std::string approval_id;           // An approved four-eyes request of kind face_authorisation.
  bool all_cameras = false;          // Every camera (the legal basis must not be camera-scoped).
  std::vector<std::string> cameras;  // Camera ids when !all_cameras; at least one.
  int64_t start_ms = 0;              // Window [start_ms, end_ms), UTC.
  int64_t end_ms = 0;
  FacePurpose purpose = FacePurpose::kMissingPerson;
  std::string issuing_authority;  // 1..200 characters.
  int64_t expires_ms = 0;         // Required; off from then on, whatever the window says.
  // Set by the engine.
  int64_t created_ms = 0;
  std::string created_by;
  int64_t revoked_ms = 0;
  std::string revoked_by;
  std::string revoke_reason;
};

enum class AssemblyKind { kDemonstration, kWorship, kPolling, kOther };
std::string_view AssemblyKindName(AssemblyKind kind);  // "demonstration", ...
std::optional<AssemblyKind> AssemblyKindFromName(std::string_view name);

// A camera, or one zone of a camera's view (a ZoneConfig name), covered by an assembly.
struct AssemblyTarget {
  std::string camera;
  std::string zone;  // Empty: the camera's whole view.
};

// A place on the map, matched against cameras' configured locations. Either a polygon (>= 3
// corners, lat/lon treated as planar, fine for city-sized areas) or a circle.
struct GeoArea {
  std::vector<config::Location> polygon;
  std::optional<config::Location> circle_center;
  double circle_radius_m = 0;  // > 0 with circle_center; at most 50 km.
};

// Where and when face recognition is off whatever else applies (DESIGN.md §1.8).
struct ProtectedAssembly {
  std::string id;    // Set by the engine (ULID).
  std::string name;  // "May Day march", 1..200 characters.
  AssemblyKind kind = AssemblyKind::kDemonstration;
  std::vector<AssemblyTarget> targets;
  std::optional<GeoArea> area;  // At least one target or an area.
  int64_t start_ms = 0;         // Window [start_ms, end_ms), UTC.
  int64_t end_ms = 0;
  // Set by the engine.
  int64_t created_ms = 0;
  std::string created_by;
  int64_t revoked_ms = 0;
  std::string revoked_by;
  std::string revoke_reason;
};

// What a four-eyes request asks a second person to approve.
enum class ApprovalKind {
  kWatchlistEntry,
  kUnblurredExport,
  kEvidenceHold,
  kFaceAuthorisation,
  kHotlistEntry,  // A plate hotlist entry (docs/plates.md "Hotlists").
};
std::string_view ApprovalKindName(ApprovalKind kind);  // "watchlist_entry", ...
std::optional<ApprovalKind> ApprovalKindFromName(std::string_view name);

enum class ApprovalStatus { kPending, kApproved, kRejected, kExpired };
std::string_view ApprovalStatusName(ApprovalStatus status);  // "pending", ...

struct ApprovalRequestSpec {
  ApprovalKind kind = ApprovalKind::kWatchlistEntry;
  // What is to be approved: a watchlist entry id, an export id, the case reference of an
  // evidence hold, the name of a face authorisation. 1..200 characters.
  std::string object_id;
  std::string legal_basis_ref;  // Must be in force and cover the kind's act (and camera).
  std::string camera;           // Optional: the camera the act concerns.
  std::string reason;           // Why, for the approver. 1..2000 characters.
};

struct ApprovalRequest {
  std::string id;  // ULID.
  ApprovalRequestSpec spec;
  std::string requester;
  int64_t requester_user_id = 0;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;                            // Must be decided before this.
  ApprovalStatus status = ApprovalStatus::kPending;  // kExpired is computed, never stored.
  std::string decided_by;
  int64_t decided_ms = 0;
  std::string decision_reason;  // The rejection's reason; empty for approvals.
};

// What to keep: explicit segment ids of the recordings index, or every segment of one
// camera that overlaps [from_ms, to_ms).
struct EvidenceHoldSpec {
  std::vector<int64_t> segment_ids;
  std::string camera;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::string legal_basis_ref;
  std::string case_reference;  // The approval's object_id. 1..200 characters.
  std::string approval_id;     // An approved request of kind evidence_hold.
};

struct EvidenceHold {
  std::string id;  // ULID.
  EvidenceHoldSpec spec;
  std::vector<int64_t> segments;  // The segments held (resolved at placement).
  int64_t placed_ms = 0;
  std::string placed_by;
  int64_t released_ms = 0;  // 0: in force.
  std::string released_by;
  std::string release_reason;
};

// kInvalidArgument naming `field` unless `value` is 1..max_bytes of valid UTF-8 without
// control characters (newlines and tabs allowed when `multiline`) and not blank; `required`
// false: may also be empty. The message says what to fix.
absl::Status CheckText(std::string_view value, std::string_view field, size_t max_bytes,
                       bool required, bool multiline = false);

}  // namespace custos::policy
