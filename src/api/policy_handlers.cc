// ApiServer's handlers for the policy engine (legal bases, face-recognition authorisations,
// protected assemblies, four-eyes approvals, evidence holds), the audit log (entries for the
// auditor, proofs) and the transparency pages (register, statistics, checkpoint). The engine
// decides and audits; these handlers only translate JSON. docs/api.md, docs/policy.md.
#include <httplib.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/api_server.h"
#include "api/request_json.h"
#include "api/responses.h"
#include "api/strings.h"
#include "audit/audit_log.h"
#include "custos/status.h"
#include "policy/policy_engine.h"
#include "policy/policy_json.h"

namespace custos::api {

using nlohmann::json;

namespace {

// Whether `value` may stand where `model` stands in a request (numbers are interchangeable;
// null matches an optional object).
bool SameKind(const json& model, const json& value) {
  if (model.is_number()) return value.is_number();
  if (model.is_null()) return value.is_null() || value.is_object();
  if (model.is_object()) return value.is_object();
  if (model.is_array()) return value.is_array();
  if (model.is_boolean()) return value.is_boolean();
  return model.type() == value.type();
}

}  // namespace

// Parses the request body as a JSON object whose keys are among `model`'s (minus
// `server_set`, which the server fills), with the same kinds of values, and lays it over
// `model`. `what` names the record in messages ("the legal basis").
absl::StatusOr<json> ParseRecord(const httplib::Request& req, const json& model,
                                 const std::set<std::string>& server_set, std::string_view what) {
  if (!absl::StartsWith(req.get_header_value("Content-Type"), "application/json")) {
    return absl::InvalidArgumentError(
        absl::StrCat("send ", Sv(what), " as JSON with 'Content-Type: application/json'"));
  }
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request body must be a JSON object: ", Sv(what)));
  }
  std::vector<std::string> accepted;
  for (const auto& [key, value] : model.items()) {
    if (!server_set.contains(key)) accepted.push_back(key);
  }
  json merged = model;
  for (const auto& [key, value] : body.items()) {
    if (!model.contains(key) || server_set.contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown key '", key, "' in ", Sv(what), "; accepted: ", absl::StrJoin(accepted, ", ")));
    }
    if (!SameKind(model[key], value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", key, "' of ", Sv(what), " must be a ",
                       model[key].is_null() ? "JSON object" : std::string(model[key].type_name())));
    }
    if (model[key].is_object() && value.is_object()) {
      merged[key].merge_patch(value);  // A partial scope keeps the defaults of the rest.
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

absl::StatusOr<std::string> RequiredString(const json& body, const char* key,
                                           std::string_view what) {
  if (!body.contains(key) || !body[key].is_string() || body[key].get<std::string>().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(what), " needs '", key, "' (a string)"));
  }
  return body[key].get<std::string>();
}

absl::StatusOr<std::string> RequiredReason(const httplib::Request& req, std::string_view what) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseRecord(req, {{"reason", ""}}, {}, what));
  return RequiredString(body, "reason", what);
}

namespace {

// Runs a record parser of policy_json.h over `merged`, turning its exceptions into a 400.
template <typename T, typename Parse>
absl::StatusOr<T> FromJson(const json& merged, Parse parse, std::string_view what) {
  try {
    return parse(merged);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " is not valid (", e.what(), "); docs/policy.md lists the fields"));
  }
}

const std::set<std::string> kCreatedFields = {"created_ms", "created_by", "revoked_ms",
                                              "revoked_by", "revoke_reason"};

std::string CsvField(std::string_view value) {
  // A leading =, +, - or @ would be a formula in a spreadsheet: prefix it with '.
  const bool formula =
      !value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@');
  std::string out = formula ? "\"'" : "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

json ApiServer::PublicRegister() const {
  const int64_t now = deps_.clock->WallMs();
  std::vector<policy::LegalBasis> bases;
  if (deps_.policy != nullptr) bases = deps_.policy->ListLegalBases();
  json cameras = json::array();
  for (const config::CameraConfig& camera : deps_.cameras()) {
    json zones = json::array();
    bool loitering = false;
    for (const config::ZoneConfig& zone : camera.zones) {
      zones.push_back(zone.name);
      loitering = loitering || zone.loiter_s > 0;
    }
    json lines = json::array();
    for (const config::LineConfig& line : camera.lines) lines.push_back(line.name);
    // Face recognition is on exactly when the policy engine would let it run now.
    bool face = false;
    if (deps_.policy != nullptr && camera.enabled) {
      face =
          deps_.policy
              ->FaceRecognitionAllowed({.camera = camera.id, .time_ms = now, .zones = std::nullopt})
              .allowed;
    }
    // The legal bases in force whose scope names this camera or every camera.
    json legal = json::array();
    for (const policy::LegalBasis& basis : bases) {
      if (basis.revoked_ms != 0 || now < basis.valid_from_ms || now >= basis.expires_ms) continue;
      const auto& scoped = basis.scope.cameras;
      if (!scoped.empty() && std::find(scoped.begin(), scoped.end(), camera.id) == scoped.end())
        continue;
      json acts = json::array();
      for (policy::Act act : basis.scope.acts) acts.push_back(policy::ActName(act));
      legal.push_back({{"reference", basis.reference},
                       {"type", policy::LegalBasisTypeName(basis.type)},
                       {"issuing_authority", basis.issuing_authority},
                       {"acts", acts},
                       {"expires_ms", basis.expires_ms}});
    }
    const config::RetentionConfig& r = deps_.retention;
    const double events_days = camera.retention.events_days.value_or(r.events_days);
    cameras.push_back(
        {{"id", camera.id},
         {"name", camera.name},
         {"enabled", camera.enabled},
         {"location", LocationJson(camera.location)},
         {"purpose", camera.purpose.empty() ? json(nullptr) : json(camera.purpose)},
         {"recording", config::RecordModeName(camera.record.mode)},
         {"retention",
          {{"video_hours", camera.retention.video_hours.value_or(r.video_hours)},
           {"events_days", events_days},
           {"snapshots_days",
            camera.retention.snapshots_days.value_or(r.snapshots_days.value_or(events_days))},
           {"plate_reads_hours", camera.read_plates ? json(r.plate_reads_hours) : json(nullptr)}}},
         {"legal_bases", std::move(legal)},
         {"capabilities",
          {{"object_detection", camera.enabled},
           {"zones", std::move(zones)},
           {"counting_lines", std::move(lines)},
           {"loitering_alerts", loitering},
           {"face_recognition", face},
           {"plate_recognition", camera.enabled && camera.read_plates}}}});
  }
  json body = {{"operator", nullptr}, {"generated_ms", now}, {"cameras", std::move(cameras)}};
  if (!options_.register_operator.empty()) body["operator"] = options_.register_operator;
  return body;
}

absl::Status ApiServer::HandlePublicRegisterCsv(httplib::Response& res) {
  const json reg = PublicRegister();
  std::string csv =
      "id,name,enabled,lat,lon,operator,purpose,recording,video_hours,events_days,"
      "object_detection,face_recognition,plate_recognition,legal_bases\r\n";
  const std::string op = reg["operator"].is_string() ? reg["operator"].get<std::string>() : "";
  for (const json& c : reg["cameras"]) {
    std::vector<std::string> refs;
    for (const json& b : c["legal_bases"]) refs.push_back(b["reference"].get<std::string>());
    const json& loc = c["location"];
    absl::StrAppend(
        &csv, CsvField(c["id"].get<std::string>()), ",", CsvField(c["name"].get<std::string>()),
        ",", c["enabled"].get<bool>() ? "true" : "false", ",",
        loc.is_null() ? "" : absl::StrCat(loc["lat"].get<double>()), ",",
        loc.is_null() ? "" : absl::StrCat(loc["lon"].get<double>()), ",", CsvField(op), ",",
        CsvField(c["purpose"].is_string() ? c["purpose"].get<std::string>() : ""), ",",
        c["recording"].get<std::string>(), ",", c["retention"]["video_hours"].get<double>(), ",",
        c["retention"]["events_days"].get<double>(), ",",
        c["capabilities"]["object_detection"].get<bool>() ? "true" : "false", ",",
        c["capabilities"]["face_recognition"].get<bool>() ? "true" : "false", ",",
        c["capabilities"]["plate_recognition"].get<bool>() ? "true" : "false", ",",
        CsvField(absl::StrJoin(refs, "; ")), "\r\n");
  }
  res.status = 200;
  res.set_header("Content-Disposition", "inline; filename=\"custos-register.csv\"");
  res.set_content(csv, "text/csv; charset=utf-8");
  return absl::OkStatus();
}

absl::Status ApiServer::HandlePublicStats(httplib::Response& res) {
  if (!deps_.public_stats) return absl::UnavailableError("this server keeps no statistics");
  CUSTOS_ASSIGN_OR_RETURN(json stats, deps_.public_stats());
  WriteJson(res, 200, stats);
  return absl::OkStatus();
}

absl::Status ApiServer::HandlePublicCheckpoint(httplib::Response& res) {
  if (deps_.audit == nullptr) return absl::UnavailableError("this server has no audit log");
  CUSTOS_ASSIGN_OR_RETURN(audit::SignedCheckpoint checkpoint, deps_.audit->LatestCheckpoint());
  WriteJson(res, 200,
            {{"size", checkpoint.checkpoint.size},
             {"checkpoint", checkpoint.note},
             {"verifier_key", deps_.audit->verifier_key()}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandlePublicConsistency(const httplib::Request& req,
                                                httplib::Response& res) {
  if (deps_.audit == nullptr) return absl::UnavailableError("this server has no audit log");
  uint64_t from = 0;
  uint64_t to = 0;
  if (!absl::SimpleAtoi(req.get_param_value("from"), &from) ||
      (req.has_param("to") && !absl::SimpleAtoi(req.get_param_value("to"), &to))) {
    return absl::InvalidArgumentError(
        "give 'from' (and optionally 'to', default the latest) as tree sizes of signed "
        "checkpoints, e.g. from=120");
  }
  CUSTOS_ASSIGN_OR_RETURN(audit::ConsistencyProof proof, deps_.audit->ProveConsistency(from, to));
  WriteJson(res, 200, audit::ToJson(proof));
  return absl::OkStatus();
}

absl::Status ApiServer::HandleAuditEntries(const Caller& caller, const httplib::Request& req,
                                           httplib::Response& res) {
  if (deps_.audit == nullptr) return absl::UnavailableError("this server has no audit log");
  uint64_t from = 0;
  uint64_t limit = 100;
  if ((req.has_param("from") && !absl::SimpleAtoi(req.get_param_value("from"), &from)) ||
      (req.has_param("limit") &&
       (!absl::SimpleAtoi(req.get_param_value("limit"), &limit) || limit == 0 || limit > 1000))) {
    return absl::InvalidArgumentError(
        "'from' is an entry index (>= 0) and 'limit' 1..1000, e.g. from=0&limit=100");
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<audit::StoredEntry> entries,
                          deps_.audit->Read(from, limit, caller.principal.name,
                                            caller.principal.role, req.remote_addr));
  json out = json::array();
  for (const audit::StoredEntry& e : entries) {
    json entry = json::parse(e.json, nullptr, /*allow_exceptions=*/false);
    out.push_back({{"index", e.index}, {"entry", entry}});
  }
  WriteJson(res, 200, {{"size", deps_.audit->size()}, {"entries", std::move(out)}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandleAuditProof(const httplib::Request& req, httplib::Response& res) {
  if (deps_.audit == nullptr) return absl::UnavailableError("this server has no audit log");
  uint64_t index = 0;
  uint64_t size = 0;
  if (!absl::SimpleAtoi(req.get_param_value("index"), &index) ||
      (req.has_param("size") && !absl::SimpleAtoi(req.get_param_value("size"), &size))) {
    return absl::InvalidArgumentError(
        "give the entry's 'index' (and optionally 'size', a signed checkpoint's tree size; "
        "default the latest)");
  }
  CUSTOS_ASSIGN_OR_RETURN(audit::InclusionProof proof, deps_.audit->ProveInclusion(index, size));
  WriteJson(res, 200, audit::ToJson(proof));
  return absl::OkStatus();
}

absl::Status ApiServer::HandlePolicy(httplib::Response& res) {
  if (deps_.policy == nullptr) return absl::UnavailableError("this server has no policy engine");
  const policy::PolicyEngine& engine = *deps_.policy;
  json bases = json::array();
  for (const auto& b : engine.ListLegalBases()) bases.push_back(policy::BasisJson(b));
  json faces = json::array();
  for (const auto& a : engine.ListFaceAuthorisations()) faces.push_back(policy::FaceJson(a));
  json assemblies = json::array();
  for (const auto& a : engine.ListProtectedAssemblies()) {
    assemblies.push_back(policy::AssemblyJson(a));
  }
  json approvals = json::array();
  for (const auto& a : engine.ListApprovals()) {
    json j = policy::ApprovalJson(a);
    // Expiry is computed, never stored: report what Status() says.
    absl::StatusOr<policy::ApprovalRequest> now = engine.Status(a.id);
    if (now.ok()) j["status"] = policy::ApprovalStatusName(now->status);
    approvals.push_back(std::move(j));
  }
  json holds = json::array();
  for (const auto& h : engine.ListEvidenceHolds()) holds.push_back(policy::HoldJson(h));
  WriteJson(res, 200,
            {{"legal_bases", bases},
             {"face_authorisations", faces},
             {"assemblies", assemblies},
             {"approvals", approvals},
             {"holds", holds}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandlePolicyChange(const Route& route, const Caller& caller,
                                           const httplib::Request& req, httplib::Response& res) {
  if (deps_.policy == nullptr) return absl::UnavailableError("this server has no policy engine");
  policy::PolicyEngine& engine = *deps_.policy;
  const auth::Principal& actor = caller.principal;
  const std::string id(PathParam(route.path, req.path, "id"));
  switch (route.id) {
    case RouteId::kAddLegalBasis: {
      CUSTOS_ASSIGN_OR_RETURN(
          json merged, ParseRecord(req, policy::BasisJson({}), kCreatedFields, "the legal basis"));
      CUSTOS_ASSIGN_OR_RETURN(
          policy::LegalBasis basis,
          FromJson<policy::LegalBasis>(merged, &policy::BasisFrom, "the legal basis"));
      CUSTOS_ASSIGN_OR_RETURN(policy::LegalBasis stored, engine.AddLegalBasis(actor, basis));
      WriteJson(res, 201, policy::BasisJson(stored));
      return absl::OkStatus();
    }
    case RouteId::kRevokeLegalBasis: {
      CUSTOS_ASSIGN_OR_RETURN(
          json body, ParseRecord(req, {{"reference", ""}, {"reason", ""}}, {}, "the revocation"));
      CUSTOS_ASSIGN_OR_RETURN(std::string reference,
                              RequiredString(body, "reference", "the revocation"));
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredString(body, "reason", "the revocation"));
      CUSTOS_RETURN_IF_ERROR(engine.RevokeLegalBasis(actor, reference, reason));
      std::optional<policy::LegalBasis> basis = engine.FindLegalBasis(reference);
      WriteJson(res, 200, basis ? policy::BasisJson(*basis) : json::object());
      return absl::OkStatus();
    }
    case RouteId::kAddFaceAuthorisation: {
      std::set<std::string> server_set = kCreatedFields;
      server_set.insert("id");
      CUSTOS_ASSIGN_OR_RETURN(json merged, ParseRecord(req, policy::FaceJson({}), server_set,
                                                       "the face-recognition authorisation"));
      CUSTOS_ASSIGN_OR_RETURN(policy::FaceAuthorisation authorisation,
                              FromJson<policy::FaceAuthorisation>(
                                  merged, &policy::FaceFrom, "the face-recognition authorisation"));
      CUSTOS_ASSIGN_OR_RETURN(policy::FaceAuthorisation stored,
                              engine.AddFaceAuthorisation(actor, authorisation));
      WriteJson(res, 201, policy::FaceJson(stored));
      return absl::OkStatus();
    }
    case RouteId::kRevokeFaceAuthorisation: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the revocation"));
      CUSTOS_RETURN_IF_ERROR(engine.RevokeFaceAuthorisation(actor, id, reason));
      WriteJson(res, 200, {{"id", id}, {"revoked", true}});
      return absl::OkStatus();
    }
    case RouteId::kAddAssembly: {
      std::set<std::string> server_set = kCreatedFields;
      server_set.insert("id");
      CUSTOS_ASSIGN_OR_RETURN(json merged, ParseRecord(req, policy::AssemblyJson({}), server_set,
                                                       "the protected assembly"));
      // A circle needs no polygon, and a target no zone (its camera's whole view).
      if (merged["area"].is_object() && !merged["area"].contains("polygon")) {
        merged["area"]["polygon"] = json::array();
      }
      if (merged["targets"].is_array()) {
        for (json& target : merged["targets"]) {
          if (target.is_object() && !target.contains("zone")) target["zone"] = "";
        }
      }
      CUSTOS_ASSIGN_OR_RETURN(policy::ProtectedAssembly assembly,
                              FromJson<policy::ProtectedAssembly>(merged, &policy::AssemblyFrom,
                                                                  "the protected assembly"));
      CUSTOS_ASSIGN_OR_RETURN(policy::ProtectedAssembly stored,
                              engine.AddProtectedAssembly(actor, assembly));
      WriteJson(res, 201, policy::AssemblyJson(stored));
      return absl::OkStatus();
    }
    case RouteId::kRevokeAssembly: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the revocation"));
      CUSTOS_RETURN_IF_ERROR(engine.RevokeProtectedAssembly(actor, id, reason));
      WriteJson(res, 200, {{"id", id}, {"revoked", true}});
      return absl::OkStatus();
    }
    case RouteId::kRequestApproval: {
      const json model = {
          {"kind", ""}, {"object_id", ""}, {"legal_basis_ref", ""}, {"camera", ""}, {"reason", ""}};
      CUSTOS_ASSIGN_OR_RETURN(json body, ParseRecord(req, model, {}, "the approval request"));
      policy::ApprovalRequestSpec spec;
      CUSTOS_ASSIGN_OR_RETURN(std::string kind, RequiredString(body, "kind", "the request"));
      std::optional<policy::ApprovalKind> parsed = policy::ApprovalKindFromName(kind);
      if (!parsed) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown kind '", kind,
            "'; use watchlist_entry, unblurred_export, evidence_hold or face_authorisation"));
      }
      spec.kind = *parsed;
      spec.object_id = body["object_id"].get<std::string>();
      spec.legal_basis_ref = body["legal_basis_ref"].get<std::string>();
      spec.camera = body["camera"].get<std::string>();
      spec.reason = body["reason"].get<std::string>();
      CUSTOS_ASSIGN_OR_RETURN(policy::ApprovalRequest request, engine.RequestApproval(actor, spec));
      WriteJson(res, 201, policy::ApprovalJson(request));
      return absl::OkStatus();
    }
    case RouteId::kApprove: {
      CUSTOS_ASSIGN_OR_RETURN(policy::ApprovalRequest request, engine.Approve(actor, id));
      WriteJson(res, 200, policy::ApprovalJson(request));
      return absl::OkStatus();
    }
    case RouteId::kReject: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the rejection"));
      CUSTOS_ASSIGN_OR_RETURN(policy::ApprovalRequest request, engine.Reject(actor, id, reason));
      WriteJson(res, 200, policy::ApprovalJson(request));
      return absl::OkStatus();
    }
    case RouteId::kPlaceHold: {
      const json model = {
          {"segment_ids", json::array()}, {"camera", ""},         {"from_ms", 0},     {"to_ms", 0},
          {"legal_basis_ref", ""},        {"case_reference", ""}, {"approval_id", ""}};
      CUSTOS_ASSIGN_OR_RETURN(json body, ParseRecord(req, model, {}, "the evidence hold"));
      policy::EvidenceHoldSpec spec;
      try {
        spec.segment_ids = body["segment_ids"].get<std::vector<int64_t>>();
        spec.camera = body["camera"].get<std::string>();
        spec.from_ms = body["from_ms"].get<int64_t>();
        spec.to_ms = body["to_ms"].get<int64_t>();
      } catch (const json::exception&) {
        return absl::InvalidArgumentError(
            "'segment_ids' must be a list of integers and from_ms/to_ms UTC ms integers");
      }
      spec.legal_basis_ref = body["legal_basis_ref"].get<std::string>();
      spec.case_reference = body["case_reference"].get<std::string>();
      spec.approval_id = body["approval_id"].get<std::string>();
      CUSTOS_ASSIGN_OR_RETURN(policy::EvidenceHold hold, engine.PlaceEvidenceHold(actor, spec));
      WriteJson(res, 201, policy::HoldJson(hold));
      return absl::OkStatus();
    }
    case RouteId::kReleaseHold: {
      CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredReason(req, "the release"));
      CUSTOS_RETURN_IF_ERROR(engine.ReleaseEvidenceHold(actor, id, reason));
      WriteJson(res, 200, {{"id", id}, {"released", true}});
      return absl::OkStatus();
    }
    default:
      break;
  }
  return absl::InternalError("not a policy route");
}

}  // namespace custos::api
