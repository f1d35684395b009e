#include "policy/policy_types.h"

#include <array>
#include <utility>

namespace custos::policy {
namespace {

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename E, size_t N>
std::optional<E> FromName(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<LegalBasisType, std::string_view>, 5> kBasisTypes{{
    {LegalBasisType::kCourtOrder, "court_order"},
    {LegalBasisType::kStatute, "statute"},
    {LegalBasisType::kCase, "case"},
    {LegalBasisType::kConsent, "consent"},
    {LegalBasisType::kAdministrativeOrder, "administrative_order"},
}};

constexpr std::array<std::pair<Act, std::string_view>, 7> kActs{{
    {Act::kWatchlistEntry, "watchlist_entry"},
    {Act::kPlateQuery, "plate_query"},
    {Act::kUnblurredExport, "unblurred_export"},
    {Act::kOldPlayback, "old_playback"},
    {Act::kUnpublishedCamera, "unpublished_camera"},
    {Act::kEvidenceHold, "evidence_hold"},
    {Act::kFaceRecognition, "face_recognition"},
}};

constexpr std::array<std::pair<FacePurpose, std::string_view>, 5> kPurposes{{
    {FacePurpose::kMissingPerson, "missing_person"},
    {FacePurpose::kThreatToLife, "threat_to_life"},
    {FacePurpose::kSeriousCrime, "serious_crime"},
    {FacePurpose::kTerrorism, "terrorism"},
    {FacePurpose::kWantedPerson, "wanted_person"},
}};

constexpr std::array<std::pair<AssemblyKind, std::string_view>, 4> kAssemblyKinds{{
    {AssemblyKind::kDemonstration, "demonstration"},
    {AssemblyKind::kWorship, "worship"},
    {AssemblyKind::kPolling, "polling"},
    {AssemblyKind::kOther, "other"},
}};

constexpr std::array<std::pair<ApprovalKind, std::string_view>, 4> kApprovalKinds{{
    {ApprovalKind::kWatchlistEntry, "watchlist_entry"},
    {ApprovalKind::kUnblurredExport, "unblurred_export"},
    {ApprovalKind::kEvidenceHold, "evidence_hold"},
    {ApprovalKind::kFaceAuthorisation, "face_authorisation"},
}};

constexpr std::array<std::pair<ApprovalStatus, std::string_view>, 4> kApprovalStatuses{{
    {ApprovalStatus::kPending, "pending"},
    {ApprovalStatus::kApproved, "approved"},
    {ApprovalStatus::kRejected, "rejected"},
    {ApprovalStatus::kExpired, "expired"},
}};

}  // namespace

std::string_view LegalBasisTypeName(LegalBasisType type) { return NameOf(kBasisTypes, type); }
std::optional<LegalBasisType> LegalBasisTypeFromName(std::string_view name) {
  return FromName(kBasisTypes, name);
}

std::string_view ActName(Act act) { return NameOf(kActs, act); }
std::optional<Act> ActFromName(std::string_view name) { return FromName(kActs, name); }
std::vector<Act> AllActs() {
  std::vector<Act> acts;
  for (const auto& [act, name] : kActs) acts.push_back(act);
  return acts;
}

std::string_view FacePurposeName(FacePurpose purpose) { return NameOf(kPurposes, purpose); }
std::optional<FacePurpose> FacePurposeFromName(std::string_view name) {
  return FromName(kPurposes, name);
}
std::vector<FacePurpose> AllFacePurposes() {
  std::vector<FacePurpose> purposes;
  for (const auto& [purpose, name] : kPurposes) purposes.push_back(purpose);
  return purposes;
}

std::string_view AssemblyKindName(AssemblyKind kind) { return NameOf(kAssemblyKinds, kind); }
std::optional<AssemblyKind> AssemblyKindFromName(std::string_view name) {
  return FromName(kAssemblyKinds, name);
}

std::string_view ApprovalKindName(ApprovalKind kind) { return NameOf(kApprovalKinds, kind); }
std::optional<ApprovalKind> ApprovalKindFromName(std::string_view name) {
  return FromName(kApprovalKinds, name);
}

std::string_view ApprovalStatusName(ApprovalStatus status) {
  return NameOf(kApprovalStatuses, status);
}

}  // namespace custos::policy
