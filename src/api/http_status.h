// The one place that maps absl::StatusCode to an HTTP status and to the machine-readable
// error code of the API's error body ({"error": {"code": "...", "message": "..."}}).
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace custos::api {

// The HTTP status for `code`, following google.rpc.Code's documented mapping: kOk 200,
// kInvalidArgument/kFailedPrecondition/kOutOfRange 400, kUnauthenticated 401,
// kPermissionDenied 403, kNotFound 404, kAlreadyExists/kAborted 409, kResourceExhausted 429,
// kCancelled 499, kUnimplemented 501, kUnavailable 503, kDeadlineExceeded 504, the rest 500.
// Pure, thread-safe.
int HttpStatusFor(absl::StatusCode code);

// "invalid_argument", "unauthenticated", ...: the lowercase name of `code`. Pure.
std::string_view ErrorCodeName(absl::StatusCode code);

}  // namespace custos::api
