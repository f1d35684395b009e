#include "api/api_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "api/http_status.h"
#include "api/responses.h"
#include "api/strings.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "ingest/camera_url.h"
#include "spdlog/spdlog.h"
#include "store/event_json.h"

namespace custos::api {

using nlohmann::json;

namespace {

constexpr char kSessionCookie[] = "custos_session";
constexpr char kCsrfHeader[] = "X-CSRF-Token";
constexpr size_t kMaxFilterValueBytes = 128;

std::string SessionCookie(std::string_view value, int64_t max_age_s, bool secure) {
  return absl::StrCat(kSessionCookie, "=", Sv(value), "; Path=/; Max-Age=", max_age_s,
                      "; HttpOnly; SameSite=Strict", secure ? "; Secure" : "");
}

// The value of cookie `name` in the request's Cookie headers, or "".
std::string FindCookie(const httplib::Request& req, std::string_view name) {
  const size_t n = req.get_header_value_count("Cookie");
  for (size_t i = 0; i < n; ++i) {
    const std::string header = req.get_header_value("Cookie", i);
    for (std::string_view part : Split(header, ';')) {
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
      const size_t eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == name) {
        return std::string(part.substr(eq + 1));
      }
    }
  }
  return "";
}

bool IsCameraId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string AcceptedParams(const Route& route) {
  if (route.query_params.empty()) return "none";
  return Join({route.query_params.begin(), route.query_params.end()}, ", ");
}

// Every query parameter must be one the route declares, given once, with a value.
absl::Status CheckQueryParams(const Route& route, const httplib::Request& req) {
  for (const auto& [key, value] : req.params) {
    if (std::find(route.query_params.begin(), route.query_params.end(), key) ==
        route.query_params.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown query parameter '", key, "'; ", Sv(MethodName(route.method)), " ",
                       Sv(route.path), " accepts: ", AcceptedParams(route)));
    }
    if (req.params.count(key) > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("query parameter '", key, "' is given more than once; give it once"));
    }
    if (value.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("query parameter '", key, "' is empty; give it a value or leave it out"));
    }
  }
  return absl::OkStatus();
}

// The filters shared by the search and the stream; `paging` adds from, to, limit and after.
absl::StatusOr<EventQuery> ParseEventQuery(const httplib::Request& req, bool paging,
                                           int max_limit) {
  EventQuery query;
  if (req.has_param("camera")) {
    query.camera = req.get_param_value("camera");
    if (!IsCameraId(query.camera)) {
      return absl::InvalidArgumentError(
          "'camera' must be a camera id (1 to 64 of a-z, 0-9, '_', '-'); GET /api/cameras lists "
          "them");
    }
  }
  if (req.has_param("type")) {
    const std::string type = req.get_param_value("type");
    query.type = store::EventTypeFromName(type);
    if (!query.type) {
      return absl::InvalidArgumentError(
          absl::StrCat("'type' must be one of track_start, track_end, zone_enter, zone_leave, "
                       "line_cross, loiter, wrong_way, stopped_vehicle (got '",
                       type.substr(0, kMaxFilterValueBytes), "')"));
    }
  }
  for (const char* name : {"label", "zone"}) {
    if (!req.has_param(name)) continue;
    std::string value = req.get_param_value(name);
    if (value.size() > kMaxFilterValueBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", name, "' is longer than ", kMaxFilterValueBytes, " bytes"));
    }
    (std::string_view(name) == "label" ? query.label : query.zone) = std::move(value);
  }
  if (!paging) return query;
  if (req.has_param("from")) {
    CUSTOS_ASSIGN_OR_RETURN(query.from_ms, ParseMs(req, "from"));
  }
  if (req.has_param("to")) {
    CUSTOS_ASSIGN_OR_RETURN(query.to_ms, ParseMs(req, "to"));
  }
  if (query.from_ms > query.to_ms) {
    return absl::InvalidArgumentError("'from' is after 'to'; swap them");
  }
  query.limit = std::min(100, max_limit);
  if (req.has_param("limit")) {
    int limit = 0;
    if (!absl::SimpleAtoi(req.get_param_value("limit"), &limit) || limit < 1 || limit > max_limit) {
      return absl::InvalidArgumentError(
          absl::StrCat("'limit' must be an integer from 1 to ", max_limit));
    }
    query.limit = limit;
  }
  if (req.has_param("after")) {
    query.after_id = req.get_param_value("after");
    if (query.after_id.size() != 26 || UlidTimeMs(query.after_id) < 0) {
      return absl::InvalidArgumentError(
          "'after' must be an event id (a 26-character ULID), normally the 'next_after' of the "
          "previous page");
    }
  }
  return query;
}

bool EventMatches(const EventQuery& query, const Event& event) {
  return (query.camera.empty() || event.camera == query.camera) &&
         (!query.type || event.type == *query.type) &&
         (query.label.empty() || event.label == query.label) &&
         (query.zone.empty() || event.zone == query.zone);
}

std::string_view HttpErrorMessage(int status) {
  switch (status) {
    case 400:
      return "the HTTP request is malformed";
    case 404:
      return "no such endpoint; GET /api/openapi.json lists them";
    case 413:
      return "the request body is too large";
    case 414:
      return "the request URI is too long";
    case 431:
      return "the request headers are too large";
    default:
      return "the request failed";
  }
}

absl::StatusCode CodeForHttp(int status) {
  switch (status) {
    case 404:
      return absl::StatusCode::kNotFound;
    case 413:
    case 414:
    case 431:
      return absl::StatusCode::kResourceExhausted;
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      return status >= 500 ? absl::StatusCode::kInternal : absl::StatusCode::kInvalidArgument;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Create(const ApiServerOptions& options,
                                                             const ApiServerDeps& deps) {
  if (deps.authenticator == nullptr || deps.access_log == nullptr || deps.clock == nullptr ||
      !deps.cameras) {
    return absl::InvalidArgumentError(
        "ApiServer needs an authenticator, an access log, a clock and a camera provider");
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", options.port, " is outside 0..65535 (0 picks a free port)"));
  }
  if (options.threads < 4 || options.max_event_streams < 1 ||
      options.max_event_streams > options.threads - 2) {
    return absl::InvalidArgumentError(
        "threads must be >= 4 and max_event_streams between 1 and threads - 2");
  }
  if (options.max_body_bytes < 1024 || options.stream_queue_events < 1 ||
      options.stream_heartbeat_ms < 10 || options.max_page_events < 1 ||
      options.max_page_events > EventQuery::kMaxLimit - 1 || options.keep_alive_timeout_s < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad ApiServerOptions: max_body_bytes >= 1024, stream_queue_events >= 1, "
                     "stream_heartbeat_ms >= 10, max_page_events in 1..",
                     EventQuery::kMaxLimit - 1, ", keep_alive_timeout_s >= 1"));
  }
  json openapi = json::parse(OpenApiJson(), nullptr, /*allow_exceptions=*/false);
  if (openapi.is_discarded() || !openapi.is_object()) {
    return absl::InvalidArgumentError(
        "the embedded OpenAPI document (src/api/openapi.json) is not a JSON object; fix it and "
        "rebuild");
  }
  return std::unique_ptr<ApiServer>(new ApiServer(options, deps, std::move(openapi)));
}

ApiServer::ApiServer(const ApiServerOptions& options, const ApiServerDeps& deps, json openapi)
    : options_(options),
      deps_(deps),
      openapi_(std::move(openapi)),
      server_(std::make_unique<httplib::Server>()) {
  const size_t threads = static_cast<size_t>(options_.threads);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // httplib's default socket options add SO_REUSEPORT, with which a second server (another
  // `custos serve`) binds the same port and silently takes half of its connections. Keep only
  // SO_REUSEADDR, so a restart can bind while old connections are in TIME_WAIT.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // httplib's own cap is the largest route's; each route's own limit is checked against
  // Content-Length before the body is read (pre-routing) and against the body after.
  server_->set_payload_max_length(
      std::max(options_.max_body_bytes, options_.max_upload_body_bytes));
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_header("Content-Length")) return httplib::Server::HandlerResponse::Unhandled;
    uint64_t length = 0;
    if (!absl::SimpleAtoi(req.get_header_value("Content-Length"), &length)) {
      return httplib::Server::HandlerResponse::Unhandled;  // httplib refuses it itself.
    }
    size_t limit = options_.max_body_bytes;
    for (const Route& route : Routes()) {
      if (MethodName(route.method) == req.method && PathMatches(route.path, req.path)) {
        limit = MaxBodyBytes(route, options_.max_body_bytes, options_.max_upload_body_bytes);
      }
    }
    if (length <= limit) return httplib::Server::HandlerResponse::Unhandled;
    WriteJson(res, 413, ErrorBody(absl::StatusCode::kResourceExhausted, HttpErrorMessage(413)));
    res.set_header("Connection", "close");  // The unread body must not be taken as a request.
    return httplib::Server::HandlerResponse::Handled;
  });
  server_->set_keep_alive_timeout(options_.keep_alive_timeout_s);
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  server_->set_default_headers({
      {"X-Content-Type-Options", "nosniff"},
      {"Cache-Control", "no-store"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
  });
  // Every method and path goes through Dispatch, which matches the route table itself, so
  // unknown paths, wrong methods and path parameters are all handled in one place.
  auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
    Dispatch(req, res);
  };
  server_->Get(".*", dispatch);
  server_->Post(".*", dispatch);
  server_->Put(".*", dispatch);
  server_->Patch(".*", dispatch);
  server_->Delete(".*", dispatch);
  server_->Options(".*", dispatch);
  // Errors httplib produces itself (413, 414, malformed requests) get the JSON error body.
  server_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&,
                                                                     httplib::Response& res) {
    if (!res.body.empty() || res.is_chunked_content_provider_) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    WriteJson(res, res.status, ErrorBody(CodeForHttp(res.status), HttpErrorMessage(res.status)));
    return httplib::Server::HandlerResponse::Handled;
  }));
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        WriteError(res, absl::InternalError("unexpected exception in an API handler"));
      });
}

ApiServer::~ApiServer() { Stop(); }

absl::Status ApiServer::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) {
    return absl::FailedPreconditionError(
        "the API server was started already; create a new one to serve again");
  }
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.bind_address);
  } else if (!server_->bind_to_port(options_.bind_address, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options_.bind_address, ":", options_.port,
        "; is another process using the port, or is the address not one of this host's?"));
  }
  started_ = true;
  port_ = port;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  return absl::OkStatus();
}

void ApiServer::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
    shutting_down_ = true;
    for (const std::shared_ptr<EventSubscription>& stream : streams_) stream->Cancel();
    thread = std::move(thread_);
  }
  // httplib's stop() does nothing before its loop runs; wait for that (or for the loop to
  // have ended) so that Stop() right after Start() cannot leave the server listening.
  while (!server_->is_running() && !listen_returned_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_->stop();
  if (thread.joinable()) thread.join();
}

int ApiServer::port() const {
  absl::MutexLock lock(&mu_);
  return port_;
}

absl::StatusOr<ApiServer::Caller> ApiServer::Authenticate(const httplib::Request& req) const {
  Caller caller;
  if (req.has_header("Authorization")) {
    const std::string header = req.get_header_value("Authorization");
    std::string_view token = header;
    constexpr std::string_view kBearer = "Bearer ";
    if (token.substr(0, kBearer.size()) != kBearer || token.size() == kBearer.size()) {
      return absl::UnauthenticatedError(
          "the Authorization header must be 'Bearer <API token>' (a token starting with cst_)");
    }
    token.remove_prefix(kBearer.size());
    CUSTOS_ASSIGN_OR_RETURN(caller.principal, deps_.authenticator->AuthenticateApiToken(token));
    caller.via = Caller::Via::kApiToken;
    return caller;
  }
  std::string cookie = FindCookie(req, kSessionCookie);
  if (!cookie.empty()) {
    absl::StatusOr<auth::Session> session = deps_.authenticator->AuthenticateSession(cookie);
    if (!session.ok()) {
      if (session.status().code() == absl::StatusCode::kUnauthenticated) {
        return absl::UnauthenticatedError(
            "your session has ended or is not known; log in again with POST /api/login");
      }
      return session.status();
    }
    caller.principal = session->principal;
    caller.session = *std::move(session);
    caller.session_token = std::move(cookie);
    caller.via = Caller::Via::kSession;
  }
  return caller;
}

void ApiServer::RecordAccess(const Route& route, const Caller& caller, const httplib::Request& req,
                             auth::AccessResult result) const {
  if (!route.audit_action) return;
  std::vector<std::string> params;
  for (const auto& [key, value] : req.params) params.push_back(absl::StrCat(key, "=", value));
  deps_.access_log->Record({.time_ms = deps_.clock->WallMs(),
                            .actor = caller.principal.name,
                            .role = caller.principal.role,
                            .action = *route.audit_action,
                            // The path as called: it names the camera, event or match.
                            .object = absl::StrCat(req.path, "?", absl::StrJoin(params, "&")),
                            .result = result,
                            .client = req.remote_addr});
}

void ApiServer::Dispatch(const httplib::Request& req, httplib::Response& res) {
  try {
    const bool head = req.method == "HEAD";
    if ((head || req.method == "GET") && !absl::StartsWith(req.path, "/api/") &&
        !absl::StartsWith(req.path, "/public/")) {
      ServeUi(req, res);
      return;
    }
    const std::string_view method = head ? std::string_view("GET") : std::string_view(req.method);
    const Route* route = nullptr;
    std::vector<std::string_view> allowed;
    for (const Route& candidate : Routes()) {
      if (!PathMatches(candidate.path, req.path)) continue;
      allowed.push_back(MethodName(candidate.method));
      if (MethodName(candidate.method) == method) route = &candidate;
    }
    if (route == nullptr || (head && route->streams)) {
      if (allowed.empty()) {
        WriteError(res, absl::NotFoundError(
                            "no such endpoint; GET /api/openapi.json lists the API's endpoints"));
        return;
      }
      res.set_header("Allow", Join(allowed, ", "));
      WriteJson(res, 405,
                ErrorBody(absl::StatusCode::kInvalidArgument,
                          absl::StrCat(req.path, " accepts only ", Join(allowed, ", "))));
      return;
    }
    if (absl::Status params = CheckQueryParams(*route, req); !params.ok()) {
      WriteError(res, params);
      return;
    }
    if (req.body.size() >
        MaxBodyBytes(*route, options_.max_body_bytes, options_.max_upload_body_bytes)) {
      // A chunked body without Content-Length is only capped by the largest route's limit
      // while it is read (see the pre-routing handler).
      WriteJson(res, 413, ErrorBody(absl::StatusCode::kResourceExhausted, HttpErrorMessage(413)));
      return;
    }
    if (!route->json_body && !req.body.empty()) {
      WriteError(
          res, absl::InvalidArgumentError(absl::StrCat(Sv(MethodName(route->method)), " ",
                                                       Sv(route->path), " takes no request body")));
      return;
    }

    Caller caller;
    if (route->access == Access::kSignedIn) {
      absl::StatusOr<Caller> authenticated = Authenticate(req);
      if (!authenticated.ok()) {
        if (authenticated.status().code() == absl::StatusCode::kUnauthenticated &&
            !FindCookie(req, kSessionCookie).empty()) {
          res.set_header("Set-Cookie", SessionCookie("", 0, options_.tls));
        }
        WriteError(res, authenticated.status());
        return;
      }
      caller = *std::move(authenticated);
      if (caller.via == Caller::Via::kNone) {
        WriteError(res, absl::UnauthenticatedError(
                            "log in first: POST /api/login, or send 'Authorization: Bearer <API "
                            "token>'"));
        return;
      }
    }
    if (absl::Status allowed_status =
            auth::Authenticator::Authorize(caller.principal, route->permission);
        !allowed_status.ok()) {
      RecordAccess(*route, caller, req, auth::AccessResult::kDenied);
      WriteError(res, allowed_status);
      return;
    }
    if (IsStateChanging(route->method) && caller.via == Caller::Via::kSession &&
        !auth::Authenticator::CheckCsrf(caller.session, req.get_header_value(kCsrfHeader)).ok()) {
      WriteError(res, absl::PermissionDeniedError(absl::StrCat(
                          "missing or wrong ", kCsrfHeader,
                          " header; send the csrf_token from POST /api/login or GET /api/me")));
      return;
    }
    absl::Status status = Handle(*route, req, caller, res);
    RecordAccess(*route, caller, req,
                 status.ok() ? auth::AccessResult::kOk : auth::AccessResult::kError);
    if (!status.ok()) WriteError(res, status);
  } catch (const std::exception& e) {
    spdlog::error("api: {} {}: exception: {}", req.method, req.path, e.what());
    WriteError(res, absl::InternalError("exception in an API handler"));
  } catch (...) {
    spdlog::error("api: {} {}: unknown exception", req.method, req.path);
    WriteError(res, absl::InternalError("exception in an API handler"));
  }
}

absl::Status ApiServer::Handle(const Route& route, const httplib::Request& req,
                               const Caller& caller, httplib::Response& res) {
  switch (route.id) {
    case RouteId::kLogin:
      return HandleLogin(req, res);
    case RouteId::kLogout:
      return HandleLogout(req, caller, res);
    case RouteId::kMe:
      return HandleMe(caller, res);
    case RouteId::kCameras:
      return HandleCameras(caller, res);
    case RouteId::kHealth:
      return HandleHealth(res);
    case RouteId::kEvents:
      return HandleEvents(req, res);
    case RouteId::kEventStream:
      return HandleEventStream(req, res);
    case RouteId::kOpenApi:
      WriteJson(res, 200, openapi_);
      return absl::OkStatus();
    case RouteId::kPublicRegister:
      return HandlePublicRegister(res);
    case RouteId::kLiveJpeg:
      return HandleLiveJpeg(PathParam(route.path, req.path, "camera"), res);
    case RouteId::kLiveMjpeg:
      return HandleLiveMjpeg(PathParam(route.path, req.path, "camera"), res);
    case RouteId::kRecordings:
      return HandleRecordings(PathParam(route.path, req.path, "camera"), req, res);
    case RouteId::kClip:
      return HandleClip(PathParam(route.path, req.path, "camera"), /*download=*/false, caller, req,
                        res);
    case RouteId::kDownload:
      return HandleClip(PathParam(route.path, req.path, "camera"), /*download=*/true, caller, req,
                        res);
    case RouteId::kSnapshot:
      return HandleSnapshot(PathParam(route.path, req.path, "event"), res);
    case RouteId::kCounts:
      return HandleCounts(req, res);
    case RouteId::kTrafficCounts:
      return HandleTrafficCounts(req, res);
    case RouteId::kUsers:
      return HandleUsers(caller, res);
    case RouteId::kCreateUser:
      return HandleCreateUser(caller, req, res);
    case RouteId::kDisableUser:
      return HandleSetDisabled(caller, PathParam(route.path, req.path, "username"), true, res);
    case RouteId::kEnableUser:
      return HandleSetDisabled(caller, PathParam(route.path, req.path, "username"), false, res);
    case RouteId::kUiConfig:
      return HandleUiConfig(res);
    case RouteId::kPolicy:
      return HandlePolicy(res);
    case RouteId::kAddLegalBasis:
    case RouteId::kRevokeLegalBasis:
    case RouteId::kAddFaceAuthorisation:
    case RouteId::kRevokeFaceAuthorisation:
    case RouteId::kAddAssembly:
    case RouteId::kRevokeAssembly:
    case RouteId::kRequestApproval:
    case RouteId::kApprove:
    case RouteId::kReject:
    case RouteId::kPlaceHold:
    case RouteId::kReleaseHold:
      return HandlePolicyChange(route, caller, req, res);
    case RouteId::kAuditEntries:
      return HandleAuditEntries(caller, req, res);
    case RouteId::kAuditProof:
      return HandleAuditProof(req, res);
    case RouteId::kPublicConsistency:
      return HandlePublicConsistency(req, res);
    case RouteId::kPublicCheckpoint:
      return HandlePublicCheckpoint(res);
    case RouteId::kPublicRegisterCsv:
      return HandlePublicRegisterCsv(res);
    case RouteId::kPublicStats:
      return HandlePublicStats(res);
    case RouteId::kWatchlist:
    case RouteId::kProposeWatchlist:
    case RouteId::kApproveWatchlist:
    case RouteId::kRejectWatchlist:
    case RouteId::kWithdrawWatchlist:
      return HandleWatchlist(route, caller, req, res);
    case RouteId::kMatches:
    case RouteId::kMatchCrop:
    case RouteId::kConfirmMatch:
    case RouteId::kRejectMatch:
      return HandleMatches(route, caller, req, res);
    case RouteId::kPlateReads:
    case RouteId::kPlateReadCrop:
      return HandlePlateReads(route, caller, req, res);
    case RouteId::kHotlist:
    case RouteId::kProposeHotlist:
    case RouteId::kApproveHotlist:
    case RouteId::kRejectHotlist:
    case RouteId::kWithdrawHotlist:
    case RouteId::kPlateHits:
    case RouteId::kPlateHitCrop:
    case RouteId::kConfirmPlateHit:
    case RouteId::kRejectPlateHit:
      return HandlePlates(route, caller, req, res);
  }
  return absl::InternalError("route without a handler");
}

absl::Status ApiServer::HandleLogin(const httplib::Request& req, httplib::Response& res) {
  const std::string content_type = absl::AsciiStrToLower(req.get_header_value("Content-Type"));
  if (!absl::StartsWith(content_type, "application/json")) {
    // Also keeps cross-site HTML forms, which cannot send this type, from logging anyone in.
    return absl::InvalidArgumentError(
        "send the login as JSON with 'Content-Type: application/json'");
  }
  json body;
  try {
    body = json::parse(req.body);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request body is not valid JSON (", e.what(),
                     "); send {\"username\": \"...\", \"password\": \"...\"}"));
  }
  if (!body.is_object()) {
    return absl::InvalidArgumentError(
        "the request body must be a JSON object {\"username\": \"...\", \"password\": \"...\"}");
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "username" && key != "password") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown key '", key, "' in the login; send only username and password"));
    }
  }
  for (const char* key : {"username", "password"}) {
    if (!body.contains(key) || !body[key].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("the login needs '", key, "' as a string"));
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(
      auth::LoginResult login,
      deps_.authenticator->Login({.username = body["username"].get<std::string>(),
                                  .password = body["password"].get<std::string>(),
                                  .client = req.remote_addr}));
  const int64_t max_age_s =
      std::max<int64_t>(0, (login.session.expires_ms - deps_.clock->WallMs()) / 1000);
  res.set_header("Set-Cookie", SessionCookie(login.session_token, max_age_s, options_.tls));
  WriteJson(res, 200,
            {{"user", login.session.principal.name},
             {"role", auth::RoleName(login.session.principal.role)},
             {"csrf_token", login.session.csrf_token},
             {"expires_ms", login.session.expires_ms}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandleLogout(const httplib::Request& req, const Caller& caller,
                                     httplib::Response& res) {
  if (caller.via != Caller::Via::kSession) {
    return absl::InvalidArgumentError(
        "API tokens have no session to end; an administrator revokes a token instead");
  }
  CUSTOS_RETURN_IF_ERROR(deps_.authenticator->Logout(caller.session_token, req.remote_addr));
  res.set_header("Set-Cookie", SessionCookie("", 0, options_.tls));
  WriteJson(res, 200, {{"logged_out", true}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandleMe(const Caller& caller, httplib::Response& res) {
  json permissions = json::array();
  for (auth::Permission permission : auth::AllPermissions()) {
    if (auth::Allows(caller.principal.role, permission)) {
      permissions.push_back(auth::PermissionName(permission));
    }
  }
  json body = {{"user", caller.principal.name},
               {"role", auth::RoleName(caller.principal.role)},
               {"kind", caller.via == Caller::Via::kSession ? "session" : "api_token"},
               {"permissions", std::move(permissions)}};
  if (caller.via == Caller::Via::kSession) {
    // Lets a reloaded page recover its CSRF token; same-origin policy keeps it from others.
    body["csrf_token"] = caller.session.csrf_token;
    body["expires_ms"] = caller.session.expires_ms;
  }
  WriteJson(res, 200, body);
  return absl::OkStatus();
}

absl::Status ApiServer::HandleCameras(const Caller& caller, httplib::Response& res) {
  const bool manager = auth::Allows(caller.principal.role, auth::Permission::kManageCameras);
  json cameras = json::array();
  for (const config::CameraConfig& camera : deps_.cameras()) {
    json entry = {{"id", camera.id},
                  {"name", camera.name},
                  {"enabled", camera.enabled},
                  {"location", LocationJson(camera.location)}};
    if (manager) {
      // Credentials never leave the server, not even to the administrator who typed them.
      entry["url"] = ingest::RedactUrl(camera.url);
      entry["rtsp_transport"] = config::RtspTransportName(camera.rtsp_transport);
    }
    cameras.push_back(std::move(entry));
  }
  WriteJson(res, 200, {{"cameras", std::move(cameras)}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandleHealth(httplib::Response& res) {
  if (!deps_.health) {
    return absl::UnavailableError("this server does not report health");
  }
  const HealthReport report = deps_.health();
  json cameras = json::array();
  bool all_connected = true;
  for (const CameraHealth& camera : report.cameras) {
    all_connected = all_connected && camera.connected;
    const RecordingHealth& rec = camera.recording;
    cameras.push_back({{"camera", camera.camera},
                       {"connected", camera.connected},
                       {"fps", camera.fps},
                       {"frames_analysed", camera.frames_analysed},
                       {"frames_dropped", camera.frames_dropped},
                       {"reconnects", camera.reconnects},
                       {"last_frame_ms", camera.last_frame_ms},
                       {"last_error", camera.last_error},
                       {"recording",
                        {{"mode", rec.mode},
                         {"active", rec.active},
                         {"segments", rec.segments},
                         {"bytes", rec.bytes},
                         {"packets_dropped", rec.packets_dropped},
                         {"error", rec.error}}}});
  }
  json disks = json::array();
  for (const DiskHealth& disk : report.disks) {
    disks.push_back(
        {{"name", disk.name}, {"total_bytes", disk.total_bytes}, {"free_bytes", disk.free_bytes}});
  }
  json plates = nullptr;
  if (report.plates) {
    const PlateReadingHealth& p = *report.plates;
    plates = {{"crops_offered", p.crops_offered},
              {"crops_dropped", p.crops_dropped},
              {"crops_read", p.crops_read},
              {"reads_stored", p.reads_stored},
              {"hits", p.hits},
              {"errors", p.errors},
              {"last_error", p.last_error}};
  }
  WriteJson(res, 200,
            {{"status", all_connected ? "ok" : "degraded"},
             {"time_ms", deps_.clock->WallMs()},
             {"cameras", std::move(cameras)},
             {"disks", std::move(disks)},
             {"plates", std::move(plates)}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandleEvents(const httplib::Request& req, httplib::Response& res) {
  if (deps_.events == nullptr) {
    return absl::UnavailableError("this server has no event store");
  }
  CUSTOS_ASSIGN_OR_RETURN(EventQuery query,
                          ParseEventQuery(req, /*paging=*/true, options_.max_page_events));
  const int limit = query.limit;
  query.limit = limit + 1;  // One more tells whether there is a next page.
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Event> events, deps_.events->Query(query));
  const bool more = static_cast<int>(events.size()) > limit;
  if (more) events.resize(static_cast<size_t>(limit));
  json list = json::array();
  for (const Event& event : events) list.push_back(store::EventToJson(event));
  json body = {{"events", std::move(list)}, {"next_after", nullptr}};
  if (more) body["next_after"] = events.back().id;
  WriteJson(res, 200, body);
  return absl::OkStatus();
}

absl::Status ApiServer::HandleEventStream(const httplib::Request& req, httplib::Response& res) {
  if (deps_.bus == nullptr) {
    return absl::UnavailableError("this server has no live event stream");
  }
  CUSTOS_ASSIGN_OR_RETURN(EventQuery filter,
                          ParseEventQuery(req, /*paging=*/false, options_.max_page_events));
  std::shared_ptr<EventSubscription> subscription;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the server is shutting down");
    if (static_cast<int>(streams_.size()) >= options_.max_event_streams) {
      return absl::UnavailableError(
          "too many event streams are open on this server; close one or retry later");
    }
    subscription =
        deps_.bus->Subscribe([filter](const Event& event) { return EventMatches(filter, event); },
                             options_.stream_queue_events);
    streams_.insert(subscription);
  }
  res.set_header("X-Accel-Buffering", "no");  // Tell nginx-style proxies not to buffer.
  auto greeted = std::make_shared<bool>(false);
  const absl::Duration heartbeat = absl::Milliseconds(options_.stream_heartbeat_ms);
  res.set_chunked_content_provider(
      "text/event-stream",
      [subscription, greeted, heartbeat](size_t, httplib::DataSink& sink) {
        try {
          if (!*greeted) {
            *greeted = true;
            static constexpr std::string_view kHello = "retry: 3000\n: connected\n\n";
            return sink.write(kHello.data(), kHello.size());
          }
          absl::StatusOr<std::vector<Event>> events = subscription->Next(heartbeat);
          if (!events.ok()) {
            if (events.status().code() == absl::StatusCode::kResourceExhausted) {
              const std::string message = absl::StrCat(
                  "event: dropped\ndata: ",
                  Dump(ErrorBody(events.status().code(), std::string(events.status().message()))),
                  "\n\n");
              sink.write(message.data(), message.size());
            }
            sink.done();
            return true;
          }
          std::string out;
          if (events->empty()) out = ": heartbeat\n\n";
          for (const Event& event : *events) {
            absl::StrAppend(&out, "id: ", event.id,
                            "\nevent: event\ndata: ", store::EventToJsonLine(event), "\n\n");
          }
          return sink.write(out.data(), out.size());
        } catch (...) {
          return false;
        }
      },
      [this, subscription](bool) {
        subscription->Cancel();
        absl::MutexLock lock(&mu_);
        streams_.erase(subscription);
      });
  return absl::OkStatus();
}

absl::Status ApiServer::HandlePublicRegister(httplib::Response& res) {
  WriteJson(res, 200, PublicRegister());
  return absl::OkStatus();
}

}  // namespace custos::api
