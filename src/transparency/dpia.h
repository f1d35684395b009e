// The data-protection / fundamental-rights impact assessment (DPIA) draft of DESIGN.md §1.7,
// generated from the live configuration and, when a data directory is given, the policy
// state and the audit log (docs/dpia.md). Gathering reads; it never changes the policy
// database or the audit log. Rendering is a pure function of the gathered input, so the
// same input always gives the same draft.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "custos/clock.h"
#include "infer/model_manifest.h"
#include "policy/policy_types.h"
#include "retention/retention_enforcer.h"

namespace custos::transparency {

// The policy records of DATA_DIR/policy.db as they stood when the draft was generated.
struct PolicyState {
  std::string path;  // The database read.
  std::vector<policy::LegalBasis> legal_bases;
  std::vector<policy::FaceAuthorisation> face_authorisations;
  std::vector<policy::ProtectedAssembly> protected_assemblies;
  std::vector<policy::ApprovalRequest> approvals;
  std::vector<policy::EvidenceHold> evidence_holds;
  std::map<std::string, retention::CameraRetention> retention_overrides;  // By camera id.
  // The policy engine's answer for each configured camera's whole view at the generation
  // time (PolicyEngine::FaceRecognitionAllowed): the one source of "face recognition on".
  std::map<std::string, policy::Decision> face_now;
};

// The audit log of DATA_DIR/audit, read without the writer's lock.
struct AuditState {
  std::string dir;
  uint64_t entries_log_bytes = 0;   // Size of entries.log.
  std::string origin;               // The log's name (checkpoint origin).
  std::string verifier_key;         // The public key to publish.
  bool has_checkpoint = false;      // False until the first checkpoint is signed.
  uint64_t checkpoint_size = 0;     // Entries committed to by the latest signed checkpoint.
  std::string checkpoint_root_hex;  // Its root hash.
  std::string checkpoint_note;      // The signed note, as published.
};

// Everything the draft says about this deployment. Every camera fact comes from `config`,
// every policy fact from `policy`, every audit fact from `audit`.
struct DpiaInput {
  config::Config config;
  std::string config_path;    // As given.
  std::string config_sha256;  // Hex SHA-256 of the configuration file's bytes.
  int64_t generated_ms = 0;   // UTC.
  std::string data_dir;       // "" when no data directory was read.
  // The detector named by detector.model, when the model manifest was given.
  std::optional<infer::ModelSpec> detector_model;
  std::optional<PolicyState> policy;  // nullopt: no policy database (see policy_note).
  std::string policy_note;            // Why there is no policy state.
  std::optional<AuditState> audit;    // nullopt: no audit log (see audit_note).
  std::string audit_note;             // Why there is no audit state.
  // Whether the server blurs faces in live view and exports (DESIGN.md §1.5); `custos dpia`
  // sets it (the server refuses to start without its face detector). False: the draft says
  // blurring is not in force.
  bool face_blurring_available = false;
};

struct GatherOptions {
  std::string config_path;  // Required: the YAML configuration (docs/config.md).
  // The server's data directory; "" reads none. It must exist when given.
  std::string data_dir;
  // The model manifest's entries; when not empty the configuration is validated against them
  // (as `custos serve` does) and the detector's entry is described.
  std::vector<infer::ModelSpec> models;
  const Clock* clock = nullptr;  // nullptr: Clock::Real().
};

// Loads and validates the configuration, hashes its bytes, and reads the policy database and
// the audit log of `data_dir` when they exist (changing nothing).
// Errors: those of config::LoadConfig (kNotFound, kInvalidArgument with file:line:column, ...);
// kNotFound (data_dir given but missing); kFailedPrecondition / kDataLoss / kUnavailable /
// kPermissionDenied from the policy database or the audit log, naming the file;
// kUnavailable (the configuration changed while it was read: run again).
absl::StatusOr<DpiaInput> GatherDpiaInput(const GatherOptions& options);

// The draft as Markdown: header (date, configuration SHA-256), then 1 systematic description,
// 2 necessity and proportionality, 3 risks, 4 safeguards in force, 5 per-camera table,
// 6 open points for the data protection officer.
std::string RenderDpiaMarkdown(const DpiaInput& input);

// Section headings, in order, as they appear in the Markdown ("## 1. Systematic description
// of the processing", ...): for tests and for readers that look for them.
const std::vector<std::string>& DpiaSectionTitles();

}  // namespace custos::transparency
