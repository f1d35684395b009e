// ApiServer's handlers for video (live view, timeline, clips, snapshots), statistics, user
// administration and the web UI's files. The routes are in routes.cc; docs/api.md.
#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/api_server.h"
#include "api/responses.h"
#include "api/strings.h"
#include "audit/audit_log.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "policy/policy_engine.h"
#include "store/event_json.h"

namespace custos::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kBoundary[] = "custosframe";
// A live frame older than this is not shown as live.
constexpr int64_t kLiveMaxAgeMs = 5000;
// Recordings that follow each other within this gap are one span of the timeline.
constexpr int64_t kSpanJoinMs = 2000;
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kMaxBuckets = 1000;
constexpr int64_t kOldPlaybackMs = 24 * kHourMs;

}  // namespace

// What an unblurred export's approval names: "<camera>/<from_ms>-<to_ms>".
std::string ExportObject(std::string_view camera, int64_t from_ms, int64_t to_ms) {
  return absl::StrCat(Sv(camera), "/", from_ms, "-", to_ms);
}

namespace {

// The [from, to) range of a request: `from`/`to` UTC ms, defaulting to the `default_ms`
// before now; at most `max_ms` long.
absl::StatusOr<std::pair<int64_t, int64_t>> ParseRange(const httplib::Request& req, int64_t now,
                                                       int64_t default_ms, int64_t max_ms) {
  int64_t to = now;
  if (req.has_param("to")) {
    CUSTOS_ASSIGN_OR_RETURN(to, ParseMs(req, "to"));
  }
  int64_t from = to - default_ms;
  if (req.has_param("from")) {
    CUSTOS_ASSIGN_OR_RETURN(from, ParseMs(req, "from"));
  }
  if (from >= to) return absl::InvalidArgumentError("'from' must be before 'to'");
  if (to - from > max_ms) {
    return absl::InvalidArgumentError(absl::StrCat("the range is ", (to - from) / 1000,
                                                   " s long; ask for at most ", max_ms / 1000,
                                                   " s at a time"));
  }
  return std::make_pair(from, to);
}

std::string ContentTypeFor(const fs::path& path) {
  static const auto* const kTypes = new std::map<std::string, std::string>{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  };
  auto it = kTypes->find(path.extension().string());
  return it == kTypes->end() ? "application/octet-stream" : it->second;
}

// The origin ("https://host:port") of an http(s) URL template, or "".
std::string OriginOf(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const size_t path = url.find('/', scheme + 3);
  std::string origin = url.substr(0, path);
  // Tile templates often use a {s} subdomain placeholder: allow any subdomain then.
  const size_t s = origin.find("{s}.");
  if (s != std::string::npos) origin.replace(s, 4, "*.");
  return origin;
}

bool ReadFile(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

absl::Status ApiServer::CheckCamera(std::string_view camera) const {
  for (const config::CameraConfig& c : deps_.cameras()) {
    if (c.id == camera) return absl::OkStatus();
  }
  return absl::NotFoundError(
      absl::StrCat("no camera '", Sv(camera), "'; GET /api/cameras lists the cameras"));
}

absl::Status ApiServer::HandleLiveJpeg(std::string_view camera, httplib::Response& res) {
  CUSTOS_RETURN_IF_ERROR(CheckCamera(camera));
  if (!deps_.live) return absl::UnavailableError("this server has no live video");
  std::optional<LiveFrame> frame = deps_.live(std::string(camera), -1, 0);
  const int64_t now = deps_.clock->WallMs();
  if (!frame) {
    return absl::UnavailableError(absl::StrCat(
        "camera '", Sv(camera), "' has delivered no frame yet; GET /api/health says why"));
  }
  if (now - frame->wall_ms > kLiveMaxAgeMs) {
    return absl::UnavailableError(
        absl::StrCat("camera '", Sv(camera), "' has delivered no frame for ",
                     (now - frame->wall_ms) / 1000, " s; GET /api/health says why"));
  }
  res.set_header("X-Frame-Time-Ms", std::to_string(frame->wall_ms));
  res.set_content(*frame->jpeg, "image/jpeg");
  return absl::OkStatus();
}

absl::Status ApiServer::HandleLiveMjpeg(std::string_view camera, httplib::Response& res) {
  CUSTOS_RETURN_IF_ERROR(CheckCamera(camera));
  if (!deps_.live) return absl::UnavailableError("this server has no live video");
  if (shutting_down_) return absl::UnavailableError("the server is shutting down");
  if (live_streams_.fetch_add(1) >= options_.max_live_streams) {
    live_streams_.fetch_sub(1);
    return absl::UnavailableError(
        "too many live streams are open on this server; close one or use live.jpg");
  }
  auto seq = std::make_shared<int64_t>(-1);
  auto live = deps_.live;
  const std::string id(camera);
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      absl::StrCat("multipart/x-mixed-replace; boundary=", kBoundary),
      [this, live, id, seq](size_t, httplib::DataSink& sink) {
        try {
          // Wait in short steps so that Stop() ends the stream promptly.
          for (int i = 0; i < 20; ++i) {
            if (shutting_down_) {
              sink.done();
              return true;
            }
            std::optional<LiveFrame> frame = live(id, *seq, 250);
            if (!frame) continue;
            *seq = frame->seq;
            const std::string head =
                absl::StrCat("--", kBoundary, "\r\nContent-Type: image/jpeg\r\nContent-Length: ",
                             frame->jpeg->size(), "\r\n\r\n");
            return sink.write(head.data(), head.size()) &&
                   sink.write(frame->jpeg->data(), frame->jpeg->size()) && sink.write("\r\n", 2);
          }
          return true;  // No frame for 5 s: keep the connection; the client shows it stale.
        } catch (...) {
          return false;
        }
      },
      [this](bool) { live_streams_.fetch_sub(1); });
  return absl::OkStatus();
}

absl::Status ApiServer::HandleRecordings(std::string_view camera, const httplib::Request& req,
                                         httplib::Response& res) {
  CUSTOS_RETURN_IF_ERROR(CheckCamera(camera));
  if (deps_.recordings == nullptr) return absl::UnavailableError("this server records nothing");
  CUSTOS_ASSIGN_OR_RETURN(
      auto range, ParseRange(req, deps_.clock->WallMs(), kHourMs, options_.max_timeline_ms));
  CUSTOS_ASSIGN_OR_RETURN(
      std::vector<record::Segment> segments,
      deps_.recordings->Overlapping(std::string(camera), range.first, range.second));
  json list = json::array();
  json spans = json::array();
  int64_t span_start = -1, span_end = -1;
  for (const record::Segment& s : segments) {
    if (s.state == record::SegmentState::kDamaged || s.end_ms <= s.start_ms) continue;
    list.push_back(
        {{"id", s.id}, {"start_ms", s.start_ms}, {"end_ms", s.end_ms}, {"bytes", s.bytes}});
    if (span_start >= 0 && s.start_ms <= span_end + kSpanJoinMs) {
      span_end = std::max(span_end, s.end_ms);
      continue;
    }
    if (span_start >= 0) spans.push_back({{"start_ms", span_start}, {"end_ms", span_end}});
    span_start = s.start_ms;
    span_end = s.end_ms;
  }
  if (span_start >= 0) spans.push_back({{"start_ms", span_start}, {"end_ms", span_end}});
  WriteJson(res, 200,
            {{"camera", camera},
             {"from_ms", range.first},
             {"to_ms", range.second},
             {"spans", std::move(spans)},
             {"segments", std::move(list)}});
  return absl::OkStatus();
}

absl::Status ApiServer::CheckOldPlayback(std::string_view camera, int64_t from_ms,
                                         const Caller& caller, const httplib::Request& req,
                                         std::string* legal_basis) const {
  *legal_basis = req.get_param_value("legal_basis");
  if (from_ms >= deps_.clock->WallMs() - kOldPlaybackMs) return absl::OkStatus();
  if (legal_basis->empty()) {
    return absl::PermissionDeniedError(
        "recordings older than 24 hours need a legal basis: add legal_basis=<reference> (GET "
        "/api/policy lists those in force)");
  }
  if (deps_.policy == nullptr) {
    return absl::UnavailableError("this server has no policy engine to check the legal basis");
  }
  return policy::DecisionToStatus(deps_.policy->CheckLegalBasis(caller.principal, *legal_basis,
                                                                policy::Act::kOldPlayback, camera));
}

absl::Status ApiServer::HandleClip(std::string_view camera, bool download, const Caller& caller,
                                   const httplib::Request& req, httplib::Response& res) {
  CUSTOS_RETURN_IF_ERROR(CheckCamera(camera));
  if (!req.has_param("from")) {
    return absl::InvalidArgumentError(
        "give 'from' (and 'to', default now) in UTC ms; GET .../recordings shows what exists");
  }
  CUSTOS_ASSIGN_OR_RETURN(auto range, ParseRange(req, deps_.clock->WallMs(), options_.max_clip_ms,
                                                 options_.max_clip_ms));
  std::string legal_basis;
  CUSTOS_RETURN_IF_ERROR(CheckOldPlayback(camera, range.first, caller, req, &legal_basis));
  ClipFile clip;
  std::string export_id;
  if (!download) {
    if (!deps_.clip) return absl::UnavailableError("this server has no recordings to play back");
    CUSTOS_ASSIGN_OR_RETURN(clip, deps_.clip(std::string(camera), range.first, range.second));
  } else {
    // An export leaves the system: a case reference, blurred unless a supervisor approved
    // otherwise, watermarked with its id, and on record (with its SHA-256) before it is sent.
    const std::string case_ref = req.get_param_value("case");
    if (case_ref.empty() || case_ref.size() > 200) {
      return absl::InvalidArgumentError(
          "an export needs the case it is for: add case=<case reference> (1..200 characters)");
    }
    const std::string unblurred_param = req.get_param_value("unblurred");
    if (!unblurred_param.empty() && unblurred_param != "0" && unblurred_param != "1") {
      return absl::InvalidArgumentError("'unblurred' is 0 or 1");
    }
    const bool unblurred = unblurred_param == "1";
    const std::string approval = req.get_param_value("approval");
    const std::string object = ExportObject(camera, range.first, range.second);
    if (unblurred) {
      if (approval.empty()) {
        return absl::PermissionDeniedError(absl::StrCat(
            "an unblurred export needs a supervisor's approval: request one (POST /api/approvals "
            "with kind unblurred_export and object_id '",
            object, "') and add approval=<request id>"));
      }
      if (deps_.policy == nullptr) {
        return absl::UnavailableError("this server has no policy engine to check the approval");
      }
      const policy::Decision decision =
          deps_.policy->CheckApproval(approval, policy::ApprovalKind::kUnblurredExport, object);
      CUSTOS_RETURN_IF_ERROR(policy::DecisionToStatus(decision));
      if (absl::StatusOr<policy::ApprovalRequest> request = deps_.policy->Status(approval);
          request.ok()) {
        legal_basis = request->spec.legal_basis_ref;
      }
    } else if (!approval.empty()) {
      return absl::InvalidArgumentError("'approval' is only for unblurred=1 exports");
    }
    if (!deps_.export_clip) {
      return absl::UnavailableError("this server cannot make exports (no privacy masking)");
    }
    if (deps_.audit == nullptr) {
      return absl::UnavailableError("exports are refused: this server has no audit log");
    }
    export_id = NewUlid(deps_.clock->WallMs());
    CUSTOS_ASSIGN_OR_RETURN(clip, deps_.export_clip({.camera = std::string(camera),
                                                     .from_ms = range.first,
                                                     .to_ms = range.second,
                                                     .export_id = export_id,
                                                     .blur = !unblurred}));
    audit::AuditEntry entry;
    entry.actor = caller.principal.name;
    entry.role = std::string(auth::RoleName(caller.principal.role));
    entry.action = "export";
    entry.object = export_id;
    entry.legal_basis = legal_basis;
    entry.purpose = case_ref;
    entry.result = "ok";
    entry.client = req.remote_addr;
    entry.details = {{"camera", std::string(camera)}, {"from_ms", clip.start_ms},
                     {"to_ms", clip.end_ms},          {"sha256", clip.sha256},
                     {"bytes", clip.bytes},           {"blurred", !unblurred},
                     {"approval", approval}};
    if (absl::StatusOr<uint64_t> logged = deps_.audit->Append(entry); !logged.ok()) {
      std::error_code ec;
      fs::remove(clip.path, ec);
      return absl::UnavailableError(
          absl::StrCat("the export was made but could not be put on record, so it is withheld: ",
                       logged.status().message()));
    }
    res.set_header("X-Custos-Export-Id", export_id);
  }
  auto file = std::make_shared<std::FILE*>(std::fopen(clip.path.c_str(), "rb"));
  if (*file == nullptr) {
    std::error_code ec;
    fs::remove(clip.path, ec);
    return absl::InternalError(absl::StrCat("cannot read the clip just written: ", clip.path));
  }
  res.set_header("X-Custos-SHA256", clip.sha256);
  res.set_header("X-Clip-Start-Ms", std::to_string(clip.start_ms));
  res.set_header("X-Clip-End-Ms", std::to_string(clip.end_ms));
  if (download) {
    res.set_header("Content-Disposition", absl::StrCat("attachment; filename=\"custos-", Sv(camera),
                                                       "-", range.first, "-", export_id, ".mp4\""));
  }
  const std::string path = clip.path;
  res.set_content_provider(
      static_cast<size_t>(clip.bytes), "video/mp4",
      [file](size_t offset, size_t length, httplib::DataSink& sink) {
        char buffer[64 * 1024];
        if (std::fseek(*file, static_cast<long>(offset), SEEK_SET) != 0) return false;
        size_t left = length;
        while (left > 0) {
          const size_t n = std::fread(buffer, 1, std::min(left, sizeof buffer), *file);
          if (n == 0) return false;
          if (!sink.write(buffer, n)) return false;
          left -= n;
        }
        return true;
      },
      [file, path](bool) {
        std::fclose(*file);
        std::error_code ec;
        fs::remove(path, ec);
      });
  return absl::OkStatus();
}

absl::Status ApiServer::HandleSnapshot(std::string_view event_id, httplib::Response& res) {
  if (event_id.size() != 26 || UlidTimeMs(std::string(event_id)) < 0) {
    return absl::InvalidArgumentError("the event id must be a 26-character ULID");
  }
  if (deps_.events == nullptr) return absl::UnavailableError("this server has no event store");
  CUSTOS_ASSIGN_OR_RETURN(std::optional<Event> found, deps_.events->Find(std::string(event_id)));
  if (!found) return absl::NotFoundError(absl::StrCat("no event '", Sv(event_id), "'"));
  const Event& event = *found;
  if (event.snapshot.empty() || deps_.snapshot_dir.empty()) {
    return absl::NotFoundError(absl::StrCat("event '", Sv(event_id), "' has no snapshot"));
  }
  // The reference comes from our own store, but is still confined to the snapshot folder.
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(deps_.snapshot_dir, ec);
  const fs::path file = fs::weakly_canonical(root / event.snapshot, ec);
  const std::string root_s = root.string() + "/";
  if (ec || !absl::StartsWith(file.string(), root_s)) {
    return absl::NotFoundError(absl::StrCat("event '", Sv(event_id), "' has no snapshot"));
  }
  std::string jpeg;
  if (!ReadFile(file, jpeg)) {
    return absl::NotFoundError(
        absl::StrCat("the snapshot of event '", Sv(event_id), "' is gone (deleted by retention?)"));
  }
  res.set_content(std::move(jpeg), "image/jpeg");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ApiServer::ParseCountWindow(const httplib::Request& req,
                                                    EventQuery& query) const {
  if (req.has_param("camera")) {
    query.camera = req.get_param_value("camera");
    CUSTOS_RETURN_IF_ERROR(CheckCamera(query.camera));
  }
  int64_t bucket_s = 3600;
  if (req.has_param("bucket_s") && (!absl::SimpleAtoi(req.get_param_value("bucket_s"), &bucket_s) ||
                                    bucket_s < 60 || bucket_s > 86400)) {
    return absl::InvalidArgumentError("'bucket_s' must be an integer from 60 to 86400");
  }
  const int64_t bucket_ms = bucket_s * 1000;
  CUSTOS_ASSIGN_OR_RETURN(
      auto range, ParseRange(req, deps_.clock->WallMs(), 24 * kHourMs, kMaxBuckets * bucket_ms));
  // Buckets aligned to whole bucket lengths (whole hours, minutes) in UTC.
  query.from_ms = range.first - range.first % bucket_ms;
  query.to_ms = range.second;
  return bucket_ms;
}

absl::Status ApiServer::HandleCounts(const httplib::Request& req, httplib::Response& res) {
  if (deps_.events == nullptr) return absl::UnavailableError("this server has no event store");
  EventQuery query;
  query.type = EventType::kTrackStart;
  CUSTOS_ASSIGN_OR_RETURN(const int64_t bucket_ms, ParseCountWindow(req, query));
  if (req.has_param("type")) {
    const std::string type = req.get_param_value("type");
    query.type = store::EventTypeFromName(type);
    if (!query.type) {
      return absl::InvalidArgumentError(
          "'type' must be one of track_start, track_end, zone_enter, zone_leave, line_cross, "
          "loiter");
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<BucketCount> counts,
                          deps_.events->CountBuckets(query, bucket_ms));
  std::set<std::string> labels;
  for (const BucketCount& c : counts) labels.insert(c.label);
  json buckets = json::array();
  size_t next = 0;
  for (int64_t start = query.from_ms; start < query.to_ms; start += bucket_ms) {
    json per_label = json::object();
    for (const std::string& label : labels) per_label[label] = 0;
    while (next < counts.size() && counts[next].start_ms == start) {
      per_label[counts[next].label] = counts[next].count;
      ++next;
    }
    buckets.push_back({{"start_ms", start}, {"counts", std::move(per_label)}});
  }
  WriteJson(res, 200,
            {{"type", EventTypeName(*query.type)},
             {"bucket_ms", bucket_ms},
             {"from_ms", query.from_ms},
             {"to_ms", query.to_ms},
             {"labels", labels},
             {"buckets", std::move(buckets)}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandleUsers(const Caller& caller, httplib::Response& res) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<auth::User> users,
                          deps_.authenticator->ListUsers(caller.principal));
  json list = json::array();
  for (const auth::User& u : users) {
    list.push_back({{"username", u.username},
                    {"role", auth::RoleName(u.role)},
                    {"disabled", u.disabled},
                    {"created_ms", u.created_ms}});
  }
  WriteJson(res, 200, {{"users", std::move(list)}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandleCreateUser(const Caller& caller, const httplib::Request& req,
                                         httplib::Response& res) {
  if (!absl::StartsWith(req.get_header_value("Content-Type"), "application/json")) {
    return absl::InvalidArgumentError(
        "send the new user as JSON with 'Content-Type: application/json'");
  }
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return absl::InvalidArgumentError(
        "the request body must be a JSON object {\"username\", \"password\", \"role\"}");
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "username" && key != "password" && key != "role") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown key '", key, "'; send username, password and role"));
    }
    if (!value.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("'", key, "' must be a string"));
    }
  }
  for (const char* key : {"username", "password", "role"}) {
    if (!body.contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat("the new user needs '", key, "'"));
    }
  }
  const std::string role_name = body["role"].get<std::string>();
  std::optional<auth::Role> role = auth::RoleFromName(role_name);
  if (!role || *role == auth::Role::kPublic) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown role '", role_name,
                     "'; use viewer, operator, investigator, supervisor, auditor or admin"));
  }
  CUSTOS_ASSIGN_OR_RETURN(auth::User user,
                          deps_.authenticator->CreateUser(
                              caller.principal, {.username = body["username"].get<std::string>(),
                                                 .password = body["password"].get<std::string>(),
                                                 .role = *role}));
  WriteJson(res, 201,
            {{"username", user.username},
             {"role", auth::RoleName(user.role)},
             {"disabled", user.disabled},
             {"created_ms", user.created_ms}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandleSetDisabled(const Caller& caller, std::string_view username,
                                          bool disabled, httplib::Response& res) {
  CUSTOS_RETURN_IF_ERROR(deps_.authenticator->SetDisabled(caller.principal, username, disabled));
  WriteJson(res, 200, {{"username", username}, {"disabled", disabled}});
  return absl::OkStatus();
}

absl::Status ApiServer::HandleUiConfig(httplib::Response& res) {
  const UiConfig& ui = deps_.ui;
  json center = nullptr;
  if (ui.center) {
    center = json::array({ui.center->lat, ui.center->lon});
  } else {
    double lat = 0, lon = 0;
    int n = 0;
    for (const config::CameraConfig& c : deps_.cameras()) {
      if (!c.location) continue;
      lat += c.location->lat;
      lon += c.location->lon;
      ++n;
    }
    if (n > 0) center = json::array({lat / n, lon / n});
  }
  WriteJson(res, 200,
            {{"site_name", ui.site_name},
             {"map",
              {{"tile_url", ui.tile_url},
               {"attribution", ui.tile_attribution},
               {"center", center},
               {"zoom", ui.zoom}}}});
  return absl::OkStatus();
}

void ApiServer::ServeUi(const httplib::Request& req, httplib::Response& res) {
  if (deps_.web_root.empty()) {
    WriteError(res,
               absl::NotFoundError(
                   "this server has no web UI; the API is under /api (GET /api/openapi.json)"));
    return;
  }
  // Only plain names: no "..", no hidden files, no backslashes; anything else is a client
  // route and gets index.html.
  const std::string& path = req.path;
  bool plain = path.size() < 256;
  for (std::string_view part : Split(std::string_view(path).substr(1), '/')) {
    if (part.empty() || part.front() == '.' || part.find('\\') != std::string_view::npos) {
      plain = false;
    }
  }
  fs::path file = fs::path(deps_.web_root) / "index.html";
  const std::string last = path.substr(path.rfind('/') + 1);
  if (plain && path != "/" && last.find('.') != std::string::npos) {
    file = fs::path(deps_.web_root) / fs::path(path.substr(1));
  } else if (path != "/" && last.find('.') != std::string::npos) {
    WriteError(res, absl::NotFoundError("no such file"));
    return;
  }
  std::string body;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec) || !ReadFile(file, body)) {
    WriteError(res, absl::NotFoundError(
                        file.filename() == "index.html"
                            ? "the web UI is not built; run tools/setup.sh (it runs npm run build)"
                            : "no such file"));
    return;
  }
  std::string img_src = "'self' data: blob:";
  const std::string tiles = OriginOf(deps_.ui.tile_url);
  if (!tiles.empty()) absl::StrAppend(&img_src, " ", tiles);
  res.headers.erase("Content-Security-Policy");  // Replaces the API's default-src 'none'.
  res.set_header(
      "Content-Security-Policy",
      absl::StrCat("default-src 'none'; script-src 'self'; style-src 'self'; img-src ", img_src,
                   "; connect-src 'self'; media-src 'self' blob:; font-src 'self'; "
                   "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"));
  // Vite's hashed assets never change; index.html must always be fresh.
  if (absl::StartsWith(path, "/assets/")) {
    res.headers.erase("Cache-Control");
    res.set_header("Cache-Control", "public, max-age=31536000, immutable");
  }
  res.set_content(std::move(body), ContentTypeFor(file).c_str());
}

}  // namespace custos::api
