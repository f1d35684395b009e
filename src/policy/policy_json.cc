#include "policy/policy_json.h"

#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace custos::policy {
namespace {

using json = nlohmann::json;

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

[[noreturn]] void Corrupt(std::string_view what) {
  throw std::runtime_error(absl::StrCat("unreadable ", Sv(what)));
}

template <typename E>
E EnumFrom(const json& j, const char* key, std::optional<E> (*parse)(std::string_view)) {
  std::optional<E> value = parse(j.at(key).get<std::string>());
  if (!value) Corrupt(absl::StrCat(key, " '", j.at(key).get<std::string>(), "'"));
  return *value;
}

std::optional<ApprovalStatus> StoredStatusFromName(std::string_view name) {
  if (name == "pending") return ApprovalStatus::kPending;
  if (name == "approved") return ApprovalStatus::kApproved;
  if (name == "rejected") return ApprovalStatus::kRejected;
  return std::nullopt;  // kExpired is never stored.
}

}  // namespace

json LocationJson(const config::Location& l) { return json{{"lat", l.lat}, {"lon", l.lon}}; }
config::Location LocationFrom(const json& j) {
  return config::Location{j.at("lat").get<double>(), j.at("lon").get<double>()};
}

json BasisJson(const LegalBasis& b) {
  json acts = json::array();
  for (Act act : b.scope.acts) acts.push_back(std::string(ActName(act)));
  return json{
      {"reference", b.reference},
      {"type", std::string(LegalBasisTypeName(b.type))},
      {"issuing_authority", b.issuing_authority},
      {"scope",
       {{"description", b.scope.description}, {"cameras", b.scope.cameras}, {"acts", acts}}},
      {"valid_from_ms", b.valid_from_ms},
      {"expires_ms", b.expires_ms},
      {"created_ms", b.created_ms},
      {"created_by", b.created_by},
      {"revoked_ms", b.revoked_ms},
      {"revoked_by", b.revoked_by},
      {"revoke_reason", b.revoke_reason}};
}

LegalBasis BasisFrom(const json& j) {
  LegalBasis b;
  b.reference = j.at("reference").get<std::string>();
  b.type = EnumFrom<LegalBasisType>(j, "type", &LegalBasisTypeFromName);
  b.issuing_authority = j.at("issuing_authority").get<std::string>();
  const json& scope = j.at("scope");
  b.scope.description = scope.at("description").get<std::string>();
  b.scope.cameras = scope.at("cameras").get<std::vector<std::string>>();
  for (const std::string& name : scope.at("acts").get<std::vector<std::string>>()) {
    std::optional<Act> act = ActFromName(name);
    if (!act) Corrupt(absl::StrCat("act '", name, "'"));
    b.scope.acts.push_back(*act);
  }
  b.valid_from_ms = j.at("valid_from_ms").get<int64_t>();
  b.expires_ms = j.at("expires_ms").get<int64_t>();
  b.created_ms = j.at("created_ms").get<int64_t>();
  b.created_by = j.at("created_by").get<std::string>();
  b.revoked_ms = j.at("revoked_ms").get<int64_t>();
  b.revoked_by = j.at("revoked_by").get<std::string>();
  b.revoke_reason = j.at("revoke_reason").get<std::string>();
  return b;
}

json FaceJson(const FaceAuthorisation& a) {
  return json{{"id", a.id},
              {"name", a.name},
              {"legal_basis_ref", a.legal_basis_ref},
              {"approval_id", a.approval_id},
              {"all_cameras", a.all_cameras},
              {"cameras", a.cameras},
              {"start_ms", a.start_ms},
              {"end_ms", a.end_ms},
              {"purpose", std::string(FacePurposeName(a.purpose))},
              {"issuing_authority", a.issuing_authority},
              {"expires_ms", a.expires_ms},
              {"created_ms", a.created_ms},
              {"created_by", a.created_by},
              {"revoked_ms", a.revoked_ms},
              {"revoked_by", a.revoked_by},
              {"revoke_reason", a.revoke_reason}};
}

FaceAuthorisation FaceFrom(const json& j) {
  FaceAuthorisation a;
  a.id = j.at("id").get<std::string>();
  a.name = j.at("name").get<std::string>();
  a.legal_basis_ref = j.at("legal_basis_ref").get<std::string>();
  a.approval_id = j.at("approval_id").get<std::string>();
  a.all_cameras = j.at("all_cameras").get<bool>();
  a.cameras = j.at("cameras").get<std::vector<std::string>>();
  a.start_ms = j.at("start_ms").get<int64_t>();
  a.end_ms = j.at("end_ms").get<int64_t>();
  a.purpose = EnumFrom<FacePurpose>(j, "purpose", &FacePurposeFromName);
  a.issuing_authority = j.at("issuing_authority").get<std::string>();
  a.expires_ms = j.at("expires_ms").get<int64_t>();
  a.created_ms = j.at("created_ms").get<int64_t>();
  a.created_by = j.at("created_by").get<std::string>();
  a.revoked_ms = j.at("revoked_ms").get<int64_t>();
  a.revoked_by = j.at("revoked_by").get<std::string>();
  a.revoke_reason = j.at("revoke_reason").get<std::string>();
  return a;
}

json AssemblyJson(const ProtectedAssembly& a) {
  json targets = json::array();
  for (const AssemblyTarget& t : a.targets)
    targets.push_back({{"camera", t.camera}, {"zone", t.zone}});
  json area = nullptr;
  if (a.area) {
    json polygon = json::array();
    for (const config::Location& l : a.area->polygon) polygon.push_back(LocationJson(l));
    area = json{{"polygon", polygon}};
    if (a.area->circle_center) {
      area["circle_center"] = LocationJson(*a.area->circle_center);
      area["circle_radius_m"] = a.area->circle_radius_m;
    }
  }
  return json{{"id", a.id},
              {"name", a.name},
              {"kind", std::string(AssemblyKindName(a.kind))},
              {"targets", targets},
              {"area", area},
              {"start_ms", a.start_ms},
              {"end_ms", a.end_ms},
              {"created_ms", a.created_ms},
              {"created_by", a.created_by},
              {"revoked_ms", a.revoked_ms},
              {"revoked_by", a.revoked_by},
              {"revoke_reason", a.revoke_reason}};
}

ProtectedAssembly AssemblyFrom(const json& j) {
  ProtectedAssembly a;
  a.id = j.at("id").get<std::string>();
  a.name = j.at("name").get<std::string>();
  a.kind = EnumFrom<AssemblyKind>(j, "kind", &AssemblyKindFromName);
  for (const json& t : j.at("targets")) {
    a.targets.push_back({t.at("camera").get<std::string>(), t.at("zone").get<std::string>()});
  }
  const json& area = j.at("area");
  if (!area.is_null()) {
    GeoArea g;
    for (const json& l : area.at("polygon")) g.polygon.push_back(LocationFrom(l));
    if (area.contains("circle_center")) {
      g.circle_center = LocationFrom(area.at("circle_center"));
      g.circle_radius_m = area.at("circle_radius_m").get<double>();
    }
    a.area = std::move(g);
  }
  a.start_ms = j.at("start_ms").get<int64_t>();
  a.end_ms = j.at("end_ms").get<int64_t>();
  a.created_ms = j.at("created_ms").get<int64_t>();
  a.created_by = j.at("created_by").get<std::string>();
  a.revoked_ms = j.at("revoked_ms").get<int64_t>();
  a.revoked_by = j.at("revoked_by").get<std::string>();
  a.revoke_reason = j.at("revoke_reason").get<std::string>();
  return a;
}

json ApprovalJson(const ApprovalRequest& r) {
  return json{{"id", r.id},
              {"kind", std::string(ApprovalKindName(r.spec.kind))},
              {"object_id", r.spec.object_id},
              {"legal_basis_ref", r.spec.legal_basis_ref},
              {"camera", r.spec.camera},
              {"reason", r.spec.reason},
              {"requester", r.requester},
              {"requester_user_id", r.requester_user_id},
              {"created_ms", r.created_ms},
              {"expires_ms", r.expires_ms},
              {"status", std::string(ApprovalStatusName(r.status))},
              {"decided_by", r.decided_by},
              {"decided_ms", r.decided_ms},
              {"decision_reason", r.decision_reason}};
}

ApprovalRequest ApprovalFrom(const json& j) {
  ApprovalRequest r;
  r.id = j.at("id").get<std::string>();
  r.spec.kind = EnumFrom<ApprovalKind>(j, "kind", &ApprovalKindFromName);
  r.spec.object_id = j.at("object_id").get<std::string>();
  r.spec.legal_basis_ref = j.at("legal_basis_ref").get<std::string>();
  r.spec.camera = j.at("camera").get<std::string>();
  r.spec.reason = j.at("reason").get<std::string>();
  r.requester = j.at("requester").get<std::string>();
  r.requester_user_id = j.at("requester_user_id").get<int64_t>();
  r.created_ms = j.at("created_ms").get<int64_t>();
  r.expires_ms = j.at("expires_ms").get<int64_t>();
  r.status = EnumFrom<ApprovalStatus>(j, "status", &StoredStatusFromName);
  r.decided_by = j.at("decided_by").get<std::string>();
  r.decided_ms = j.at("decided_ms").get<int64_t>();
  r.decision_reason = j.at("decision_reason").get<std::string>();
  return r;
}

json HoldJson(const EvidenceHold& h) {
  return json{{"id", h.id},
              {"segment_ids", h.spec.segment_ids},
              {"camera", h.spec.camera},
              {"from_ms", h.spec.from_ms},
              {"to_ms", h.spec.to_ms},
              {"legal_basis_ref", h.spec.legal_basis_ref},
              {"case_reference", h.spec.case_reference},
              {"approval_id", h.spec.approval_id},
              {"segments", h.segments},
              {"placed_ms", h.placed_ms},
              {"placed_by", h.placed_by},
              {"released_ms", h.released_ms},
              {"released_by", h.released_by},
              {"release_reason", h.release_reason}};
}

EvidenceHold HoldFrom(const json& j) {
  EvidenceHold h;
  h.id = j.at("id").get<std::string>();
  h.spec.segment_ids = j.at("segment_ids").get<std::vector<int64_t>>();
  h.spec.camera = j.at("camera").get<std::string>();
  h.spec.from_ms = j.at("from_ms").get<int64_t>();
  h.spec.to_ms = j.at("to_ms").get<int64_t>();
  h.spec.legal_basis_ref = j.at("legal_basis_ref").get<std::string>();
  h.spec.case_reference = j.at("case_reference").get<std::string>();
  h.spec.approval_id = j.at("approval_id").get<std::string>();
  h.segments = j.at("segments").get<std::vector<int64_t>>();
  h.placed_ms = j.at("placed_ms").get<int64_t>();
  h.placed_by = j.at("placed_by").get<std::string>();
  h.released_ms = j.at("released_ms").get<int64_t>();
  h.released_by = j.at("released_by").get<std::string>();
  h.release_reason = j.at("release_reason").get<std::string>();
  return h;
}

}  // namespace custos::policy
