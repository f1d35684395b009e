// The route table: every endpoint of the API, with who may call it. The server dispatches
// from it, the OpenAPI test compares src/api/openapi.json with it, and the role test calls
// every row as every role, so a route added here cannot escape either.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "auth/access_log.h"
#include "auth/role.h"

namespace custos::api {

// One per route; ApiServer's dispatch switch has no default, so a new id without a handler
// does not compile (-Wswitch under -Werror).
enum class RouteId {
  kLogin,
  kLogout,
  kMe,
  kCameras,
  kHealth,
  kEvents,
  kEventStream,
  kOpenApi,
  kPublicRegister,
  kLiveJpeg,
  kLiveMjpeg,
  kRecordings,
  kClip,
  kDownload,
  kSnapshot,
  kCounts,
  kTrafficCounts,  // api/traffic_handlers.cc, docs/traffic.md.
  kUsers,
  kCreateUser,
  kDisableUser,
  kEnableUser,
  kUiConfig,
  // Policy (api/policy_handlers.cc).
  kPolicy,
  kAddLegalBasis,
  kRevokeLegalBasis,
  kAddFaceAuthorisation,
  kRevokeFaceAuthorisation,
  kAddAssembly,
  kRevokeAssembly,
  kRequestApproval,
  kApprove,
  kReject,
  kPlaceHold,
  kReleaseHold,
  // Audit log and transparency.
  kAuditEntries,
  kAuditProof,
  kPublicConsistency,
  kPublicCheckpoint,
  kPublicRegisterCsv,
  kPublicStats,
  // Watchlists and face matches (api/watchlist_handlers.cc, docs/face.md "Watchlists").
  kWatchlist,
  kProposeWatchlist,
  kApproveWatchlist,
  kRejectWatchlist,
  kWithdrawWatchlist,
  kMatches,
  kMatchCrop,
  kConfirmMatch,
  kRejectMatch,
  // Plates: reads, hotlists, hits (api/plate_handlers.cc, docs/plates.md).
  kPlateReads,
  kPlateReadCrop,
  kHotlist,
  kProposeHotlist,
  kApproveHotlist,
  kRejectHotlist,
  kWithdrawHotlist,
  kPlateHits,
  kPlateHitCrop,
  kConfirmPlateHit,
  kRejectPlateHit,
};

enum class Method { kGet, kPost };

enum class Access {
  kAnyone,    // No login needed (login itself, the OpenAPI document, the public register).
  kSignedIn,  // A session or an API token; anonymous callers get 401.
};

struct Route {
  RouteId id;
  Method method;
  // As in OpenAPI: literal segments, and "{name}" for a path parameter, which matches one
  // segment of [A-Za-z0-9_-]{1,64} and is only ever used as an id, never as a file path.
  std::string_view path;
  Access access;
  // Checked with auth::Authenticator::Authorize for every caller, after Access.
  auth::Permission permission;
  // The query parameters the route accepts; any other is a 400.
  std::span<const std::string_view> query_params;
  bool json_body;  // Takes a JSON object body (Content-Type: application/json); else none.
  bool streams;    // Answers with a stream that stays open (Server-Sent Events, MJPEG).
  // Access-record action written for every allowed or denied call; nullopt: none.
  std::optional<auth::AccessAction> audit_action;
  std::string_view summary;
};

// Every route, in a stable order.
std::span<const Route> Routes();

// The largest request body `route` accepts: `default_limit` (ApiServerOptions::max_body_bytes)
// except for routes that take uploads (a watchlist proposal's photos), which get
// `upload_limit` (ApiServerOptions::max_upload_body_bytes).
size_t MaxBodyBytes(const Route& route, size_t default_limit, size_t upload_limit);

std::string_view MethodName(Method method);  // "GET", "POST"

// Whether `method` changes state, so that session callers must send X-CSRF-Token.
bool IsStateChanging(Method method);

// Whether `request_path` matches `pattern` (see Route::path). Pure.
bool PathMatches(std::string_view pattern, std::string_view request_path);

// The segment of `request_path` at `pattern`'s "{name}"; "" when there is none.
// REQUIRES: PathMatches(pattern, request_path).
std::string_view PathParam(std::string_view pattern, std::string_view request_path,
                           std::string_view name);

}  // namespace custos::api
