// The HTTP/JSON API of the live server (docs/api.md): login and sessions, cameras, health,
// event search, the live event stream (Server-Sent Events), the OpenAPI document and the
// public camera register. Routes and who may call them are in api/routes.h.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "api/event_bus.h"
#include "api/routes.h"
#include "auth/access_log.h"
#include "auth/authenticator.h"
#include "config/config.h"
#include "custos/clock.h"
#include "custos/event_store.h"
#include "nlohmann/json.hpp"
#include "record/segment_index.h"

namespace custos::audit {
class AuditLog;
}
namespace custos::policy {
class PolicyEngine;
}
namespace custos::plate {
class PlateStore;
class HotlistStore;
}  // namespace custos::plate
namespace custos::watchlist {
class WatchlistStore;
class MatchStore;
class FaceSource;
}  // namespace custos::watchlist

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace custos::api {

// How a camera is being recorded.
struct RecordingHealth {
  std::string mode = "continuous";  // config::RecordModeName: continuous, events, off.
  bool active = true;               // False while paused after a write error (disk full).
  int64_t segments = 0;             // Segments closed since the server started.
  int64_t bytes = 0;                // Bytes of those segments.
  int64_t packets_dropped = 0;      // Packets not recorded: queue full or recorder paused.
  std::string error = {};           // Why recording is paused; "" when it is not.
};

// What the camera supervisor knows about one camera's stream.
// Every member has an initializer so designated initializers compile warning-free.
struct CameraHealth {
  std::string camera = {};      // Camera id.
  bool connected = false;       // Frames are arriving.
  double fps = 0;               // Frames per second decoded for analytics, recently.
  int64_t frames_analysed = 0;  // Detect frames analysed since the server started.
  int64_t frames_dropped = 0;   // Detect frames dropped because analytics fell behind.
  int64_t reconnects = 0;       // Since the server started.
  int64_t last_frame_ms = 0;    // UTC wall-clock ms of the last frame; 0: none yet.
  std::string last_error = {};  // Latest problem with the stream, URL redacted; "" if none.
  RecordingHealth recording = {};
};

// A camera's newest detect frame, for live view.
struct LiveFrame {
  std::shared_ptr<const std::string> jpeg;  // JPEG bytes; never null.
  int64_t wall_ms = 0;                      // UTC ms of the frame.
  int64_t seq = 0;                          // Increases by one per frame of the camera.
  int width = 0;
  int height = 0;
};

// A storage volume the server writes to (recordings, databases).
struct DiskHealth {
  std::string name = {};  // What is stored there, e.g. "recordings"; never a path.
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
};

// The node's plate reader (docs/plates.md "Live reading"), when a camera reads plates.
struct PlateReadingHealth {
  int64_t crops_offered = 0;  // Vehicle crops the cameras handed over.
  int64_t crops_dropped = 0;  // Of those, dropped because the reader was behind.
  int64_t crops_read = 0;
  int64_t reads_stored = 0;
  int64_t hits = 0;
  int64_t errors = 0;
  std::string last_error = {};
};

struct HealthReport {
  std::vector<CameraHealth> cameras = {};
  std::vector<DiskHealth> disks = {};
  std::optional<PlateReadingHealth> plates = std::nullopt;  // None: no camera reads plates.
};

// A clip cut from the recordings into a temporary file, which the server streams and then
// deletes.
struct ClipFile {
  std::string path = {};  // Temporary file; the API deletes it once sent.
  int64_t bytes = 0;
  std::string sha256 = {};  // Hex.
  int64_t start_ms = 0;     // What the clip covers, UTC ms.
  int64_t end_ms = 0;
};

// How an export is made (ApiServerDeps::export_clip).
struct ExportRequest {
  std::string camera = {};
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::string export_id = {};  // Watermarked into every frame.
  bool blur = true;            // Faces (and plates) blurred; false only with an approval.
};

// What the web UI needs before login (GET /public/ui.json).
struct UiConfig {
  std::string site_name = "Custos";
  std::string tile_url = {};  // "" = no tile layer (offline map).
  std::string tile_attribution = {};
  std::optional<config::Location> center = std::nullopt;  // Unset: the middle of the cameras.
  int zoom = 16;
};

struct ApiServerOptions {
  // Address to listen on. The default serves this host only; put a TLS-terminating proxy in
  // front before listening elsewhere.
  std::string bind_address = "127.0.0.1";
  // 0 picks a free port; ApiServer::port() tells which.
  int port = 0;
  // The API is reached over HTTPS (directly or through a proxy): session cookies get Secure.
  bool tls = false;
  // Request bodies above this are refused with 413.
  size_t max_body_bytes = 64 * 1024;
  // The limit instead for routes that take uploads (POST /api/watchlist: up to 10 photos of at
  // most max_photo_bytes each, base64 in JSON). Checked against Content-Length before the body
  // is read, per route: every other route keeps max_body_bytes.
  size_t max_upload_body_bytes = 28 << 20;
  // Largest decoded enrolment photo.
  size_t max_photo_bytes = 2 << 20;
  // Enrolment photos per proposal.
  int max_photos = 10;
  // Largest `limit` of GET /api/matches.
  int max_page_matches = 1000;
  // Worker threads; each open event stream holds one.
  int threads = 16;
  // Event streams open at once; more get 503. At most threads - 2, so streams cannot starve
  // other requests.
  int max_event_streams = 8;
  // Events queued per stream client before it is dropped as too slow.
  size_t stream_queue_events = 256;
  // A comment line is sent on an idle event stream this often, so proxies keep it open and
  // dead clients are noticed.
  int64_t stream_heartbeat_ms = 15'000;
  // Largest `limit` of GET /api/events.
  int max_page_events = 1000;
  // Who operates the cameras, shown in the public register; "" shows null.
  std::string register_operator = {};
  // Seconds an idle keep-alive connection is held; also bounds how long Stop() may wait.
  int keep_alive_timeout_s = 2;
  // MJPEG live streams open at once; more get 503. Each holds a worker thread.
  int max_live_streams = 16;
  // Longest clip of GET .../clip.mp4 and .../download.mp4.
  int64_t max_clip_ms = 3'600'000;
  // Longest range of GET .../recordings.
  int64_t max_timeline_ms = 7 * 24 * 3'600'000LL;
};

struct ApiServerDeps {
  auth::Authenticator* authenticator = nullptr;  // Required.
  // Receives access records of the acts the API performs itself (searches, denials).
  auth::AccessLog* access_log = nullptr;  // Required.
  const Clock* clock = nullptr;           // Required.
  EventStore* events = nullptr;           // Optional: without it /api/events answers 503.
  EventBus* bus = nullptr;                // Optional: without it the stream answers 503.
  // The cameras of the current configuration. Required. Called on request threads.
  std::function<std::vector<config::CameraConfig>()> cameras = {};
  // Optional: without it /api/health answers 503. Called on request threads.
  std::function<HealthReport()> health = {};
  // Optional (live routes answer 503 without it): the camera's newest frame with a sequence
  // number above `after_seq`, waiting up to `timeout_ms` for one (0: do not wait). nullopt when
  // there is none (yet). Called on request threads.
  std::function<std::optional<LiveFrame>(const std::string& camera, int64_t after_seq,
                                         int64_t timeout_ms)>
      live = {};
  // Optional (the timeline answers 503 without it).
  record::SegmentIndex* recordings = nullptr;
  // Optional (clips answer 503 without it): cuts [from_ms, to_ms) of a camera into a file.
  std::function<absl::StatusOr<ClipFile>(const std::string& camera, int64_t from_ms, int64_t to_ms)>
      clip = {};
  // Optional (downloads answer 503 without it): cuts, masks, watermarks and encodes an export
  // into a file.
  std::function<absl::StatusOr<ClipFile>(const ExportRequest& request)> export_clip = {};
  // Where events' snapshot references resolve; "" = snapshots answer 404.
  std::string snapshot_dir = {};
  // Folder of the built web UI (index.html, assets/); "" = no UI, only the API.
  std::string web_root = {};
  UiConfig ui = {};
  // Optional (policy routes answer 503 without it): legal bases, authorisations, assemblies,
  // four-eyes approvals, evidence holds; also what the register says about face recognition.
  policy::PolicyEngine* policy = nullptr;
  // Optional (audit routes and the public checkpoint answer 503 without it).
  audit::AuditLog* audit = nullptr;
  // Retention defaults, for the register's per-camera retention.
  config::RetentionConfig retention = {};
  // Optional (/public/stats.json answers 503 without it): the public monthly statistics.
  std::function<absl::StatusOr<nlohmann::json>()> public_stats = {};
  // Optional (watchlist routes answer 503 without it): entries, four eyes, withdrawal.
  watchlist::WatchlistStore* watchlist = nullptr;
  // Optional (match routes answer 503 without it): the leads face recognition raised.
  watchlist::MatchStore* matches = nullptr;
  // Optional (plate routes answer 503 without them): reads and hits, hotlists.
  plate::PlateStore* plates = nullptr;
  plate::HotlistStore* hotlist = nullptr;
  // Optional (proposals answer 503 without it, saying `faces_unavailable`): the face models
  // that turn enrolment photos into embeddings, in memory.
  watchlist::FaceSource* faces = nullptr;
  // Why there are no face models (e.g. "the face models are not installed: ..."); shown in the
  // 503 of a proposal.
  std::string faces_unavailable = {};
};

// Owns an HTTP server (cpp-httplib) on its own threads. Thread-safe: Start(), Stop() and
// port() may be called from any thread; handlers run concurrently on the worker threads and
// share only thread-safe dependencies. No exception escapes a handler: each is wrapped and
// answers 500.
class ApiServer {
 public:
  // REQUIRES: the dependencies outlive the server.
  // Errors: kInvalidArgument (a required dependency missing, bad options, or the embedded
  // OpenAPI document is not JSON).
  static absl::StatusOr<std::unique_ptr<ApiServer>> Create(const ApiServerOptions& options,
                                                           const ApiServerDeps& deps);
  ~ApiServer();  // Stops.

  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving on a background thread.
  // Errors: kFailedPrecondition (already started); kUnavailable (cannot bind; the message
  // names the address and port).
  absl::Status Start();

  // Ends event streams, stops accepting, waits for running requests. Idempotent.
  void Stop();

  // The bound port once started (the chosen one when options.port was 0), else 0.
  int port() const;

  // The route table this server dispatches from.
  static std::span<const Route> routes() { return Routes(); }

 private:
  struct Caller {
    enum class Via { kNone, kSession, kApiToken };
    auth::Principal principal;
    Via via = Via::kNone;
    std::string session_token;  // Via::kSession only.
    auth::Session session;      // Via::kSession only.
  };

  ApiServer(const ApiServerOptions& options, const ApiServerDeps& deps, nlohmann::json openapi);

  void Dispatch(const httplib::Request& req, httplib::Response& res);
  absl::Status Handle(const Route& route, const httplib::Request& req, const Caller& caller,
                      httplib::Response& res);
  absl::StatusOr<Caller> Authenticate(const httplib::Request& req) const;

  absl::Status HandleLogin(const httplib::Request& req, httplib::Response& res);
  absl::Status HandleLogout(const httplib::Request& req, const Caller& caller,
                            httplib::Response& res);
  absl::Status HandleMe(const Caller& caller, httplib::Response& res);
  absl::Status HandleCameras(const Caller& caller, httplib::Response& res);
  absl::Status HandleHealth(httplib::Response& res);
  absl::Status HandleEvents(const httplib::Request& req, httplib::Response& res);
  absl::Status HandleEventStream(const httplib::Request& req, httplib::Response& res);
  absl::Status HandlePublicRegister(httplib::Response& res);
  // Video, statistics, users and the UI: api/media_handlers.cc.
  absl::Status CheckCamera(std::string_view camera) const;
  absl::Status HandleLiveJpeg(std::string_view camera, httplib::Response& res);
  absl::Status HandleLiveMjpeg(std::string_view camera, httplib::Response& res);
  absl::Status HandleRecordings(std::string_view camera, const httplib::Request& req,
                                httplib::Response& res);
  absl::Status HandleClip(std::string_view camera, bool download, const Caller& caller,
                          const httplib::Request& req, httplib::Response& res);
  // Playback older than 24 h needs a legal basis (`legal_basis` parameter) in force.
  absl::Status CheckOldPlayback(std::string_view camera, int64_t from_ms, const Caller& caller,
                                const httplib::Request& req, std::string* legal_basis) const;
  absl::Status HandleSnapshot(std::string_view event_id, httplib::Response& res);
  // The window of a counts request (GET /api/stats/counts, /api/traffic/counts): `camera`
  // (checked), `bucket_s` (60..86400, default 3600), `from`/`to` (default the last 24 h, at
  // most 1000 buckets), `from` aligned down to a whole bucket. Sets query.camera, from_ms and
  // to_ms; returns the bucket length in ms. Errors: kInvalidArgument, kNotFound (camera).
  absl::StatusOr<int64_t> ParseCountWindow(const httplib::Request& req, EventQuery& query) const;
  absl::Status HandleCounts(const httplib::Request& req, httplib::Response& res);
  // Line crossings per bucket, line, direction and class: api/traffic_handlers.cc.
  absl::Status HandleTrafficCounts(const httplib::Request& req, httplib::Response& res);
  absl::Status HandleUsers(const Caller& caller, httplib::Response& res);
  absl::Status HandleCreateUser(const Caller& caller, const httplib::Request& req,
                                httplib::Response& res);
  absl::Status HandleSetDisabled(const Caller& caller, std::string_view username, bool disabled,
                                 httplib::Response& res);
  absl::Status HandleUiConfig(httplib::Response& res);
  // Policy, audit log and transparency: api/policy_handlers.cc.
  nlohmann::json PublicRegister() const;
  absl::Status HandlePublicRegisterCsv(httplib::Response& res);
  absl::Status HandlePublicStats(httplib::Response& res);
  absl::Status HandlePublicCheckpoint(httplib::Response& res);
  absl::Status HandlePublicConsistency(const httplib::Request& req, httplib::Response& res);
  absl::Status HandleAuditEntries(const Caller& caller, const httplib::Request& req,
                                  httplib::Response& res);
  absl::Status HandleAuditProof(const httplib::Request& req, httplib::Response& res);
  absl::Status HandlePolicy(httplib::Response& res);
  absl::Status HandlePolicyChange(const Route& route, const Caller& caller,
                                  const httplib::Request& req, httplib::Response& res);
  // Watchlists and face matches: api/watchlist_handlers.cc.
  // Plate reads, hotlists and hits: api/plate_handlers.cc.
  absl::Status HandlePlateReads(const Route& route, const Caller& caller,
                                const httplib::Request& req, httplib::Response& res);
  absl::Status HandlePlates(const Route& route, const Caller& caller, const httplib::Request& req,
                            httplib::Response& res);
  absl::Status HandleWatchlist(const Route& route, const Caller& caller,
                               const httplib::Request& req, httplib::Response& res);
  absl::Status HandleMatches(const Route& route, const Caller& caller, const httplib::Request& req,
                             httplib::Response& res);
  // GET of a path outside the API: a file of the web UI, or index.html for client routes.
  void ServeUi(const httplib::Request& req, httplib::Response& res);

  void RecordAccess(const Route& route, const Caller& caller, const httplib::Request& req,
                    auth::AccessResult result) const;

  const ApiServerOptions options_;
  const ApiServerDeps deps_;
  const nlohmann::json openapi_;
  std::unique_ptr<httplib::Server> server_;

  std::atomic<bool> listen_returned_{false};
  std::atomic<bool> shutting_down_{false};  // Ends MJPEG streams.
  std::atomic<int> live_streams_{0};
  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
  // Open event-stream subscriptions, cancelled by Stop() so their handlers return.
  absl::flat_hash_set<std::shared_ptr<EventSubscription>> streams_ ABSL_GUARDED_BY(mu_);
};

// The object an unblurred export's approval request must name: "<camera>/<from_ms>-<to_ms>",
// the exact range of the export.
std::string ExportObject(std::string_view camera, int64_t from_ms, int64_t to_ms);

// The OpenAPI 3.1 document, src/api/openapi.json as embedded at build time.
std::string_view OpenApiJson();

}  // namespace custos::api
