// Parsing of JSON request bodies shared by the API's handler files. Internal to the api module.
#pragma once

#include <httplib.h>

#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace custos::api {

// Parses the request body as a JSON object whose keys are among `model`'s (minus
// `server_set`, which the server fills), with the same kinds of values, and lays it over
// `model`. `what` names the record in messages ("the legal basis").
// Errors: kInvalidArgument naming the key and what it must be.
absl::StatusOr<nlohmann::json> ParseRecord(const httplib::Request& req, const nlohmann::json& model,
                                           const std::set<std::string>& server_set,
                                           std::string_view what);

// `body[key]` as a non-empty string. Errors: kInvalidArgument naming the key.
absl::StatusOr<std::string> RequiredString(const nlohmann::json& body, const char* key,
                                           std::string_view what);

// The body {"reason": "..."} of a revocation, rejection, withdrawal or release: its reason,
// required. Errors: kInvalidArgument as ParseRecord and RequiredString.
absl::StatusOr<std::string> RequiredReason(const httplib::Request& req, std::string_view what);

}  // namespace custos::api
