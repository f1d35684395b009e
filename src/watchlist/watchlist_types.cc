#include "watchlist/watchlist_types.h"

#include <array>
#include <utility>

namespace custos::watchlist {
namespace {

constexpr std::array<std::pair<SubjectCategory, std::string_view>, 5> kCategories = {{
    {SubjectCategory::kWantedSuspect, "wanted_suspect"},
    {SubjectCategory::kSuspect, "suspect"},
    {SubjectCategory::kMissingPerson, "missing_person"},
    {SubjectCategory::kVulnerablePerson, "vulnerable_person"},
    {SubjectCategory::kThreat, "threat"},
}};

constexpr std::array<std::pair<EntryStatus, std::string_view>, 5> kEntryStatuses = {{
    {EntryStatus::kPending, "pending"},
    {EntryStatus::kActive, "active"},
    {EntryStatus::kRejected, "rejected"},
    {EntryStatus::kWithdrawn, "withdrawn"},
    {EntryStatus::kExpired, "expired"},
}};

constexpr std::array<std::pair<MatchStatus, std::string_view>, 3> kMatchStatuses = {{
    {MatchStatus::kLead, "lead"},
    {MatchStatus::kConfirmed, "confirmed"},
    {MatchStatus::kRejected, "rejected"},
}};

template <typename T, size_t N>
std::string_view NameOf(const std::array<std::pair<T, std::string_view>, N>& table, T value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

template <typename T, size_t N>
std::optional<T> FromName(const std::array<std::pair<T, std::string_view>, N>& table,
                          std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view SubjectCategoryName(SubjectCategory category) {
  return NameOf(kCategories, category);
}
std::optional<SubjectCategory> SubjectCategoryFromName(std::string_view name) {
  return FromName(kCategories, name);
}
std::vector<SubjectCategory> AllSubjectCategories() {
  std::vector<SubjectCategory> out;
  for (const auto& [v, name] : kCategories) out.push_back(v);
  return out;
}

std::string_view EntryStatusName(EntryStatus status) { return NameOf(kEntryStatuses, status); }
std::optional<EntryStatus> EntryStatusFromName(std::string_view name) {
  return FromName(kEntryStatuses, name);
}

EntryStatus StatusAt(const WatchlistEntry& entry, int64_t now_ms) {
  if ((entry.status == EntryStatus::kPending || entry.status == EntryStatus::kActive) &&
      now_ms >= entry.expires_ms) {
    return EntryStatus::kExpired;
  }
  return entry.status;
}

std::string_view MatchStatusName(MatchStatus status) { return NameOf(kMatchStatuses, status); }
std::optional<MatchStatus> MatchStatusFromName(std::string_view name) {
  return FromName(kMatchStatuses, name);
}

}  // namespace custos::watchlist
