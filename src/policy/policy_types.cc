#include "policy/policy_types.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

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

constexpr std::array<std::pair<Act, std::string_view>, 8> kActs{{
    {Act::kWatchlistEntry, "watchlist_entry"},
    {Act::kPlateQuery, "plate_query"},
    {Act::kUnblurredExport, "unblurred_export"},
    {Act::kOldPlayback, "old_playback"},
    {Act::kUnpublishedCamera, "unpublished_camera"},
    {Act::kEvidenceHold, "evidence_hold"},
    {Act::kFaceRecognition, "face_recognition"},
    {Act::kPlateHotlist, "plate_hotlist"},
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

constexpr std::array<std::pair<ApprovalKind, std::string_view>, 5> kApprovalKinds{{
    {ApprovalKind::kWatchlistEntry, "watchlist_entry"},
    {ApprovalKind::kUnblurredExport, "unblurred_export"},
    {ApprovalKind::kEvidenceHold, "evidence_hold"},
    {ApprovalKind::kFaceAuthorisation, "face_authorisation"},
    {ApprovalKind::kHotlistEntry, "hotlist_entry"},
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

namespace {

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80) {
      n = 1;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      n = 2;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      n = 4;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

absl::Status CheckText(std::string_view value, std::string_view field, size_t max_bytes,
                       bool required, bool multiline) {
  if (value.empty()) {
    if (!required) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(Sv(field), " is empty; give one"));
  }
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(field), " is ", value.size(), " bytes long; shorten it to at most ", max_bytes));
  }
  if (!ValidUtf8(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(field), " is not valid UTF-8; send it as UTF-8 text"));
  }
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 || c == 0x7F) && !(multiline && (c == '\n' || c == '\t'))) {
      return absl::InvalidArgumentError(
          absl::StrCat(Sv(field), " contains control characters; remove them"));
    }
  }
  if (value.find_first_not_of(" \t\n") == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(field), " is blank; give one"));
  }
  return absl::OkStatus();
}

}  // namespace custos::policy
