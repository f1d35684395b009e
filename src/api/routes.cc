#include "api/routes.h"

#include <array>

#include "api/strings.h"

namespace custos::api {
namespace {

using auth::AccessAction;
using auth::Permission;

constexpr std::string_view kSearchParams[] = {"camera", "type", "label", "zone",
                                              "from",   "to",   "limit", "after"};
constexpr std::string_view kStreamParams[] = {"camera", "type", "label", "zone"};

constexpr std::span<const std::string_view> kNone{};

// Video routes (live view, playback, download) slot in here, e.g.
// {RouteId::kLive, Method::kGet, "/api/cameras/{camera}/live", Access::kSignedIn,
//  Permission::kLiveViewBlurred, ..., AccessAction::kLiveView, ...}.
constexpr std::array kRoutes = {
    Route{RouteId::kLogin, Method::kPost, "/api/login", Access::kAnyone,
          Permission::kReadTransparency, kNone, true, false, std::nullopt,
          "Log in with a username and password; sets the session cookie."},
    Route{RouteId::kLogout, Method::kPost, "/api/logout", Access::kSignedIn,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "End the current session."},
    Route{RouteId::kMe, Method::kGet, "/api/me", Access::kSignedIn, Permission::kReadTransparency,
          kNone, false, false, std::nullopt, "Who the caller is and what their role may do."},
    Route{RouteId::kCameras, Method::kGet, "/api/cameras", Access::kSignedIn,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "The configured cameras; URLs (credentials redacted) only for manage_cameras."},
    Route{RouteId::kHealth, Method::kGet, "/api/health", Access::kSignedIn,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "Per-camera frame rate, drops and reconnects, and disk space."},
    Route{RouteId::kEvents, Method::kGet, "/api/events", Access::kSignedIn,
          Permission::kSearchEvents, kSearchParams, false, false, AccessAction::kSearch,
          "Search stored events, paged by id."},
    Route{RouteId::kEventStream, Method::kGet, "/api/events/stream", Access::kSignedIn,
          Permission::kViewAlerts, kStreamParams, false, true, std::nullopt,
          "New events as Server-Sent Events."},
    Route{RouteId::kOpenApi, Method::kGet, "/api/openapi.json", Access::kAnyone,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "This API as an OpenAPI 3.1 document."},
    Route{RouteId::kPublicRegister, Method::kGet, "/public/register.json", Access::kAnyone,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "The public camera register (DESIGN.md §1.7)."},
};

bool IsParamSegment(std::string_view segment) {
  if (segment.empty() || segment.size() > 64) return false;
  for (char c : segment) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kPost:
      return "POST";
  }
  return "GET";
}

bool IsStateChanging(Method method) {
  switch (method) {
    case Method::kGet:
      return false;
    case Method::kPost:
      return true;
  }
  return true;
}

bool PathMatches(std::string_view pattern, std::string_view request_path) {
  const std::vector<std::string_view> want = Split(pattern, '/');
  const std::vector<std::string_view> got = Split(request_path, '/');
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string_view w = want[i];
    if (w.size() >= 2 && w.front() == '{' && w.back() == '}') {
      if (!IsParamSegment(got[i])) return false;
    } else if (w != got[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace custos::api
