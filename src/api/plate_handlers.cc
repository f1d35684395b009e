// ApiServer's handlers for licence plates: searches over the stored reads (a case reference and
// a legal basis in force, each query on record in the audit log before it is answered), the
// hotlist (proposal, four-eyes approval, rejection, withdrawal) and its hits (leads to verify).
// The plate module and the policy engine decide and audit; these handlers translate JSON.
// docs/api.md, docs/plates.md.
#include <httplib.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/api_server.h"
#include "api/request_json.h"
#include "api/responses.h"
#include "api/strings.h"
#include "audit/audit_log.h"
#include "custos/status.h"
#include "plate/hotlist.h"
#include "plate/plate_match.h"
#include "plate/plate_store.h"
#include "policy/policy_engine.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxIdsInRecord = 50;  // Read ids listed in a query's audit entry.

json CandidatesJson(const std::vector<plate::PlateCandidate>& candidates) {
  json out = json::array();
  for (const plate::PlateCandidate& c : candidates) {
    out.push_back({{"text", c.text}, {"confidence", c.confidence}});
  }
  return out;
}

json ReadJson(const plate::StoredRead& r, const std::string& crop_query) {
  return {{"id", r.id},
          {"camera", r.camera},
          {"time_ms", r.time_ms},
          {"plate", r.plate},
          {"confidence", r.confidence},
          {"candidates", CandidatesJson(r.candidates)},
          {"label", r.label},
          {"track_id", r.track_id},
          {"frames", r.frames},
          {"box", {r.box.x, r.box.y, r.box.w, r.box.h}},
          {"expires_ms", r.expires_ms},
          {"crop", absl::StrCat("/api/plates/reads/", r.id, "/crop.jpg", crop_query)}};
}

json EntryJson(const plate::HotlistEntry& e) {
  return {{"id", e.id},
          {"plate", e.spec.plate},
          {"label", e.spec.label},
          {"reason", e.spec.reason},
          {"legal_basis_ref", e.spec.legal_basis_ref},
          {"max_confusions", e.spec.max_confusions},
          {"status", plate::HotlistStatusName(e.status)},
          {"proposed_by", e.proposed_by},
          {"proposed_ms", e.proposed_ms},
          {"expires_ms", e.spec.expires_ms},
          {"approval_id", e.approval_id},
          {"decided_by", e.decided_by},
          {"decided_ms", e.decided_ms},
          {"withdrawn_by", e.withdrawn_by},
          {"withdrawn_ms", e.withdrawn_ms},
          {"withdraw_reason", e.withdraw_reason}};
}

json HitJson(const plate::StoredHit& h) {
  return {{"id", h.id},
          {"time_ms", h.read.time_ms},
          {"camera", h.read.camera},
          {"plate", h.read.plate},
          {"confidence", h.read.confidence},
          {"candidates", CandidatesJson(h.read.candidates)},
          {"label", h.read.label},
          {"track_id", h.read.track_id},
          {"read_id", h.read.id},
          {"entry_id", h.entry_id},
          {"entry_plate", h.entry_plate},
          {"entry_label", h.entry_label},
          {"legal_basis_ref", h.legal_basis_ref},
          {"distance", h.distance},
          {"status", plate::HitStatusName(h.status)},
          {"decided_by", h.decided_by},
          {"decided_ms", h.decided_ms},
          {"note", h.note},
          {"lead", true},
          {"crop", absl::StrCat("/api/plates/hits/", h.id, "/crop.jpg")}};
}

absl::Status ParseLimit(const httplib::Request& req, int& limit) {
  if (req.has_param("limit") &&
      (!absl::SimpleAtoi(req.get_param_value("limit"), &limit) || limit < 1 || limit > 1000)) {
    return absl::InvalidArgumentError("'limit' must be an integer from 1 to 1000");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApiServer::HandlePlateReads(const Route& route, const Caller& caller,
                                         const httplib::Request& req, httplib::Response& res) {
  if (deps_.plates == nullptr || deps_.policy == nullptr || deps_.audit == nullptr) {
    return absl::UnavailableError("this server keeps no plate reads");
  }
  const auth::Principal& actor = caller.principal;
  audit::AuditEntry entry;
  entry.actor = actor.name;
  entry.role = std::string(auth::RoleName(actor.role));
  entry.action = "plate_query";
  entry.client = req.remote_addr;
  // A search of everyone's journeys needs a case it serves (DESIGN.md §1.1): refused, and on
  // record, without one.
  const std::string case_ref = req.get_param_value("case");
  if (absl::Status ok = policy::CheckText(case_ref, "case", 200, true); !ok.ok()) {
    const absl::Status refusal = absl::InvalidArgumentError(absl::StrCat(
        "a case reference is required to search plate reads (case=...): ", ok.message()));
    entry.result = "denied";
    entry.details = {{"reason", std::string(refusal.message())}};
    deps_.audit->Append(entry).IgnoreError();  // The refusal stands either way.
    return refusal;
  }
  entry.purpose = case_ref;
  const std::string basis_ref = req.get_param_value("legal_basis");
  plate::ReadQuery query;
  query.camera = req.get_param_value("camera");
  if (!query.camera.empty()) CUSTOS_RETURN_IF_ERROR(CheckCamera(query.camera));
  // Refusals are audited by the policy engine.
  CUSTOS_RETURN_IF_ERROR(policy::DecisionToStatus(
      deps_.policy->CheckLegalBasis(actor, basis_ref, policy::Act::kPlateQuery, query.camera)));
  entry.legal_basis = basis_ref;
  const std::string crop_query =
      absl::StrCat("?case=", httplib::detail::encode_query_param(case_ref),
                   "&legal_basis=", httplib::detail::encode_query_param(basis_ref));

  if (route.id == RouteId::kPlateReadCrop) {
    const std::string id(PathParam(route.path, req.path, "id"));
    CUSTOS_ASSIGN_OR_RETURN(plate::StoredRead read, deps_.plates->GetRead(id));
    entry.object = read.id;
    entry.result = "ok";
    entry.details = {{"crop", true}, {"camera", read.camera}, {"plate", read.plate}};
    if (absl::StatusOr<uint64_t> logged = deps_.audit->Append(entry); !logged.ok()) {
      return absl::UnavailableError(
          absl::StrCat("the crop cannot be shown: this access could not be put on record (",
                       logged.status().message(), ")"));
    }
    res.status = 200;
    res.set_content(std::move(read.crop_jpeg), "image/jpeg");
    return absl::OkStatus();
  }

  query.pattern = req.get_param_value("plate");
  if (req.has_param("max_confusions") &&
      (!absl::SimpleAtoi(req.get_param_value("max_confusions"), &query.max_confusions))) {
    return absl::InvalidArgumentError("'max_confusions' must be 0, 1 or 2");
  }
  CUSTOS_RETURN_IF_ERROR(ParseLimit(req, query.limit));
  const int64_t now = deps_.clock->WallMs();
  query.from_ms = now - deps_.plates->read_retention_ms();
  query.to_ms = now;
  if (req.has_param("from")) {
    CUSTOS_ASSIGN_OR_RETURN(query.from_ms, ParseMs(req, "from"));
  }
  if (req.has_param("to")) {
    CUSTOS_ASSIGN_OR_RETURN(query.to_ms, ParseMs(req, "to"));
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<plate::StoredRead> reads, deps_.plates->Query(query));
  const bool truncated = static_cast<int>(reads.size()) >= query.limit;

  // On record before anything is answered (fail-closed).
  json ids = json::array();
  for (size_t i = 0; i < reads.size() && i < kMaxIdsInRecord; ++i) ids.push_back(reads[i].id);
  entry.object = query.pattern.empty() ? "*" : plate::NormalizePlate(query.pattern);
  if (!query.pattern.empty() && query.pattern.find_first_of("?*") != std::string::npos) {
    entry.object = query.pattern;
  }
  entry.result = "ok";
  entry.details = {{"pattern", query.pattern},
                   {"camera", query.camera},
                   {"from_ms", query.from_ms},
                   {"to_ms", query.to_ms},
                   {"max_confusions", query.max_confusions},
                   {"results", reads.size()},
                   {"read_ids", std::move(ids)}};
  absl::StatusOr<uint64_t> logged = deps_.audit->Append(entry);
  if (!logged.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the query was not answered: it could not be put on record in the audit "
                     "log (",
                     logged.status().message(), "); retry when the audit log is available"));
  }
  json out = json::array();
  for (const plate::StoredRead& r : reads) out.push_back(ReadJson(r, crop_query));
  WriteJson(res, 200,
            {{"query_id", *logged},
             {"case", case_ref},
             {"legal_basis", basis_ref},
             {"count", reads.size()},
             {"truncated", truncated},
             {"from_ms", query.from_ms},
             {"to_ms", query.to_ms},
             {"reads", std::move(out)}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandlePlates(const Route& route, const Caller& caller,
                                     const httplib::Request& req, httplib::Response& res) {
  if (deps_.plates == nullptr || deps_.hotlist == nullptr) {
    return absl::UnavailableError("this server keeps no plate hotlist");
  }
  plate::HotlistStore& hotlist = *deps_.hotlist;
  plate::PlateStore& plates = *deps_.plates;
  const auth::Principal& actor = caller.principal;
  const std::string id(PathParam(route.path, req.path, "id"));
  switch (route.id) {
    case RouteId::kHotlist: {
      CUSTOS_ASSIGN_OR_RETURN(std::vector<plate::HotlistEntry> entries, hotlist.List());
      json list = json::array();
      for (const plate::HotlistEntry& e : entries) list.push_back(EntryJson(e));
      WriteJson(res, 200, {{"entries", std::move(list)}});
      return absl::OkStatus();
    }
    case RouteId::kProposeHotlist: {
      const json model = {{"plate", ""},           {"label", ""},     {"reason", ""},
                          {"legal_basis_ref", ""}, {"expires_ms", 0}, {"max_confusions", 1}};
      CUSTOS_ASSIGN_OR_RETURN(json body, ParseRecord(req, model, {}, "the hotlist proposal"));
      plate::HotlistSpec spec;
      CUSTOS_ASSIGN_OR_RETURN(spec.plate, RequiredString(body, "plate", "the proposal"));
      CUSTOS_ASSIGN_OR_RETURN(spec.label, RequiredString(body, "label", "the proposal"));
      CUSTOS_ASSIGN_OR_RETURN(spec.reason, RequiredString(body, "reason", "the proposal"));
      CUSTOS_ASSIGN_OR_RETURN(spec.legal_basis_ref,
                              RequiredString(body, "legal_basis_ref", "the proposal"));
      if (!body["expires_ms"].is_number_integer() || body["expires_ms"].get<int64_t>() < 0) {
        return absl::InvalidArgumentError(
            "'expires_ms' must be a UTC time in ms (an integer), or 0 / absent for the default "
            "(7 days)");
      }
      spec.expires_ms = body["expires_ms"].get<int64_t>();
      if (!body["max_confusions"].is_number_integer()) {
        return absl::InvalidArgumentError("'max_confusions' must be 0, 1 or 2");
      }
      spec.max_confusions = body["max_confusions"].get<int>();
      CUSTOS_ASSIGN_OR_RETURN(plate::HotlistEntry entry, hotlist.Propose(actor, spec));
      WriteJson(res, 201, EntryJson(entry));
      return absl::OkStatus();
    }
    case RouteId::kApproveHotlist: {
      CUSTOS_ASSIGN_OR_RETURN(plate::HotlistEntry entry, hotlist.Approve(actor, id));
      WriteJson(res, 200, EntryJson(entry));
      return absl::OkStatus();
    }
    case RouteId::kRejectHotlist: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the rejection"));
      CUSTOS_ASSIGN_OR_RETURN(plate::HotlistEntry entry, hotlist.Reject(actor, id, reason));
      WriteJson(res, 200, EntryJson(entry));
      return absl::OkStatus();
    }
    case RouteId::kWithdrawHotlist: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the withdrawal"));
      CUSTOS_ASSIGN_OR_RETURN(plate::HotlistEntry entry, hotlist.Withdraw(actor, id, reason));
      WriteJson(res, 200, EntryJson(entry));
      return absl::OkStatus();
    }
    case RouteId::kPlateHits: {
      plate::HitFilter filter;
      if (req.has_param("status")) {
        const std::string status = req.get_param_value("status");
        filter.status = plate::HitStatusFromName(status);
        if (!filter.status) {
          return absl::InvalidArgumentError(
              absl::StrCat("'status' must be lead, confirmed or rejected, not '", status, "'"));
        }
      }
      if (req.has_param("camera")) {
        filter.camera = req.get_param_value("camera");
        CUSTOS_RETURN_IF_ERROR(CheckCamera(filter.camera));
      }
      if (req.has_param("from")) {
        CUSTOS_ASSIGN_OR_RETURN(filter.from_ms, ParseMs(req, "from"));
      }
      if (req.has_param("to")) {
        CUSTOS_ASSIGN_OR_RETURN(filter.to_ms, ParseMs(req, "to"));
      }
      CUSTOS_RETURN_IF_ERROR(ParseLimit(req, filter.limit));
      CUSTOS_ASSIGN_OR_RETURN(std::vector<plate::StoredHit> hits, plates.ListHits(filter));
      json out = json::array();
      for (const plate::StoredHit& h : hits) out.push_back(HitJson(h));
      WriteJson(res, 200, {{"hits", std::move(out)}});
      return absl::OkStatus();
    }
    case RouteId::kPlateHitCrop: {
      CUSTOS_ASSIGN_OR_RETURN(plate::StoredHit hit, plates.GetHit(id));
      res.status = 200;
      res.set_content(std::move(hit.read.crop_jpeg), "image/jpeg");
      return absl::OkStatus();
    }
    case RouteId::kConfirmPlateHit: {
      CUSTOS_ASSIGN_OR_RETURN(json body, ParseRecord(req, {{"note", ""}}, {}, "the confirmation"));
      CUSTOS_ASSIGN_OR_RETURN(plate::StoredHit hit,
                              plates.ConfirmHit(actor, id, body["note"].get<std::string>()));
      WriteJson(res, 200, HitJson(hit));
      return absl::OkStatus();
    }
    case RouteId::kRejectPlateHit: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the rejection"));
      CUSTOS_ASSIGN_OR_RETURN(plate::StoredHit hit, plates.RejectHit(actor, id, reason));
      WriteJson(res, 200, HitJson(hit));
      return absl::OkStatus();
    }
    default:
      break;
  }
  return absl::InternalError("not a plate route");
}

}  // namespace custos::api
