// JSON responses and request parsing shared by the API's handler files. Internal to the api
// module.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/http_status.h"
#include "config/config.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace custos::api {

inline constexpr char kJsonType[] = "application/json; charset=utf-8";

inline std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline void WriteJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(Dump(body), kJsonType);
}

inline nlohmann::json ErrorBody(absl::StatusCode code, std::string_view message) {
  return {{"error", {{"code", ErrorCodeName(code)}, {"message", message}}}};
}

inline void WriteError(httplib::Response& res, const absl::Status& status) {
  std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      // Internal details (paths, SQL) stay in the server log.
      spdlog::error("api: {}", status.ToString());
      message = "the server could not answer this request; the server log has the details";
      break;
    default:
      break;
  }
  WriteJson(res, HttpStatusFor(status.code()), ErrorBody(status.code(), message));
}

// {"lat", "lon"} or null.
inline nlohmann::json LocationJson(const std::optional<config::Location>& location) {
  if (!location) return nullptr;
  return {{"lat", location->lat}, {"lon", location->lon}};
}

inline absl::StatusOr<int64_t> ParseMs(const httplib::Request& req, const char* name) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(req.get_param_value(name), &value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name,
                     "' must be a UTC time in milliseconds since 1970 (an integer >= 0), "
                     "e.g. ",
                     name, "=1700000000000"));
  }
  return value;
}

}  // namespace custos::api
