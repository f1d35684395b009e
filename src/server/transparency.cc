#include "server/transparency.h"

#include "absl/strings/str_cat.h"
#include "auth/role.h"

namespace custos::server {
namespace {

using nlohmann::json;

bool InForce(int64_t now, int64_t start, int64_t end, int64_t revoked) {
  return revoked == 0 && start <= now && now < end;
}

}  // namespace

absl::Status AuditLogPolicyAuditor::Record(const policy::PolicyChange& change) {
  audit::AuditEntry entry;
  entry.time_ms = change.time_ms;
  entry.actor = change.actor;
  entry.role = std::string(auth::RoleName(change.role));
  entry.action = std::string(policy::PolicyActionName(change.action));
  entry.object = change.object;
  entry.legal_basis = change.legal_basis_ref;
  entry.purpose = change.purpose;
  entry.result = std::string(policy::PolicyResultName(change.result));
  // The record may hold coordinates (floating point), which canonical JSON does not take:
  // it is kept as the text the policy store holds.
  entry.details = {{"reason", change.reason}, {"record", change.details}};
  absl::StatusOr<uint64_t> index = log_->Append(entry);
  return index.ok() ? absl::OkStatus() : index.status();
}

void PublicStatistics::Count(const json& entry, std::map<std::string, MonthCounts>& months) {
  if (!entry.is_object()) return;
  const std::string time = entry.value("time", "");
  if (time.size() < 7) return;
  MonthCounts& m = months[time.substr(0, 7)];
  const std::string action = entry.value("action", "");
  const std::string result = entry.value("result", "");
  if (result == "denied") {
    ++m.refusals;
    return;
  }
  if (result != "ok") return;
  if (action == "login") ++m.logins;
  if (action == "live_view") ++m.live_views;
  if (action == "playback") ++m.playbacks;
  if (action == "search") ++m.searches;
  if (action == "plate_query") ++m.plate_queries;
  if (action == "export") ++m.exports;
  if (action == "retention_delete") {
    const json& details = entry.contains("details") ? entry["details"] : json::object();
    m.deletions += details.is_object() ? details.value("count", int64_t{0}) : 0;
  }
  if (action == "plate_reads.purge") {
    // Policy records carry their details as text (details.record).
    const json details = entry.contains("details") && entry["details"].is_object()
                             ? json::parse(entry["details"].value("record", "{}"), nullptr, false)
                             : json::object();
    if (details.is_object()) {
      m.deletions += details.value("reads", int64_t{0}) + details.value("hits", int64_t{0});
    }
  }
  if (action == "plate_hit.record") ++m.plate_hits;
  if (action == "plate_hit.confirm") ++m.confirmed_plate_hits;
  if (action == "plate_hit.reject") ++m.false_plate_hits;
  if (action == "face_match.record") ++m.matches;
  if (action == "face_match.confirm") ++m.confirmed_matches;
  if (action == "face_match.reject") ++m.false_matches;
  if (action == "approval.request") ++m.approvals_requested;
  if (action == "approval.approve") ++m.approvals_granted;
  if (action == "approval.reject") ++m.approvals_rejected;
  if (action == "audit_read") ++m.audit_reads;
}

absl::StatusOr<json> PublicStatistics::Json() {
  absl::MutexLock lock(&mu_);
  audit::AuditLog& log = *sources_.audit;
  while (scanned_ < log.size()) {
    absl::StatusOr<std::vector<audit::StoredEntry>> batch = log.ScanForStatistics(scanned_, 1000);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    for (const audit::StoredEntry& e : *batch) {
      Count(json::parse(e.json, nullptr, /*allow_exceptions=*/false), months_);
      scanned_ = e.index + 1;
    }
  }
  const int64_t now = sources_.clock->WallMs();
  int64_t authorisations = 0;
  int64_t assemblies = 0;
  int64_t bases = 0;
  int64_t holds = 0;
  if (sources_.policy != nullptr) {
    for (const auto& a : sources_.policy->ListFaceAuthorisations()) {
      if (InForce(now, a.start_ms, std::min(a.end_ms, a.expires_ms), a.revoked_ms))
        ++authorisations;
    }
    for (const auto& a : sources_.policy->ListProtectedAssemblies()) {
      if (InForce(now, a.start_ms, a.end_ms, a.revoked_ms)) ++assemblies;
    }
    for (const auto& b : sources_.policy->ListLegalBases()) {
      if (InForce(now, b.valid_from_ms, b.expires_ms, b.revoked_ms)) ++bases;
    }
    for (const auto& h : sources_.policy->ListEvidenceHolds()) {
      if (h.released_ms == 0) ++holds;
    }
  }
  json months = json::array();
  for (auto it = months_.rbegin(); it != months_.rend(); ++it) {
    const MonthCounts& m = it->second;
    months.push_back({{"month", it->first},
                      {"logins", m.logins},
                      {"live_views", m.live_views},
                      {"playbacks", m.playbacks},
                      {"searches", m.searches},
                      {"plate_queries", m.plate_queries},
                      {"exports", m.exports},
                      {"deletions", m.deletions},
                      {"matches", m.matches},
                      {"confirmed_matches", m.confirmed_matches},
                      {"false_matches", m.false_matches},
                      {"plate_hits", m.plate_hits},
                      {"confirmed_plate_hits", m.confirmed_plate_hits},
                      {"false_plate_hits", m.false_plate_hits},
                      {"approvals_requested", m.approvals_requested},
                      {"approvals_granted", m.approvals_granted},
                      {"approvals_rejected", m.approvals_rejected},
                      {"refusals", m.refusals},
                      {"audit_reads", m.audit_reads}});
  }
  json checkpoint = nullptr;
  if (absl::StatusOr<audit::SignedCheckpoint> latest = log.LatestCheckpoint(); latest.ok()) {
    checkpoint = {{"size", latest->checkpoint.size}, {"note", latest->note}};
  }
  return json{{"generated_ms", now},
              {"current",
               {{"cameras", sources_.cameras},
                {"cameras_recording", sources_.cameras_recording},
                {"watchlist_entries", sources_.watchlist_size ? sources_.watchlist_size() : 0},
                {"face_authorisations_in_force", authorisations},
                {"protected_assemblies_in_force", assemblies},
                {"legal_bases_in_force", bases},
                {"evidence_holds", holds},
                {"audit_entries", log.size()}}},
              {"checkpoint", checkpoint},
              {"months", months}};
}

}  // namespace custos::server
