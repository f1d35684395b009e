// The JSON forms of the policy records: what the policy store keeps in its `record` columns,
// what the auditor receives as a change's details, and what the API sends (docs/policy.md,
// docs/api.md). The *From functions read a complete record and throw (nlohmann::json
// exceptions or std::runtime_error naming the bad value) when it is not one.
#pragma once

#include "config/config.h"
#include "nlohmann/json.hpp"
#include "policy/policy_types.h"

namespace custos::policy {

nlohmann::json LocationJson(const config::Location& location);
config::Location LocationFrom(const nlohmann::json& j);

nlohmann::json BasisJson(const LegalBasis& basis);
LegalBasis BasisFrom(const nlohmann::json& j);

nlohmann::json FaceJson(const FaceAuthorisation& authorisation);
FaceAuthorisation FaceFrom(const nlohmann::json& j);

nlohmann::json AssemblyJson(const ProtectedAssembly& assembly);
ProtectedAssembly AssemblyFrom(const nlohmann::json& j);

// `status` of a stored request is pending, approved or rejected (expired is computed).
nlohmann::json ApprovalJson(const ApprovalRequest& request);
ApprovalRequest ApprovalFrom(const nlohmann::json& j);

nlohmann::json HoldJson(const EvidenceHold& hold);
EvidenceHold HoldFrom(const nlohmann::json& j);

}  // namespace custos::policy
