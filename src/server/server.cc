#include "server/server.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "infer/openvino_detector.h"
#include "ingest/camera_url.h"
#include "privacy/clip_export.h"
#include "record/clip_writer.h"
#include "spdlog/spdlog.h"

namespace custos::server {
namespace {

namespace fs = std::filesystem;

absl::Status MakeDir(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", path, ": ", ec.message(), "; choose another --data-dir"));
  }
  ::chmod(path.c_str(), 0700);
  return absl::OkStatus();
}

int64_t HoursToMs(double h) { return static_cast<int64_t>(h * 3'600'000.0); }
int64_t DaysToMs(double d) { return static_cast<int64_t>(d * 86'400'000.0); }

}  // namespace

absl::Status CheckCameraUrl(const std::string& url, const std::vector<std::string>& roots) {
  CUSTOS_ASSIGN_OR_RETURN(ingest::ParsedUrl parsed, ingest::ParseUrl(url));
  if (parsed.kind != ingest::UrlKind::kFile) return absl::OkStatus();
  std::error_code ec;
  const fs::path file = fs::weakly_canonical(parsed.path, ec);
  for (const std::string& root : roots) {
    const fs::path canonical_root = fs::weakly_canonical(root, ec);
    if (ec) continue;
    const std::string prefix = canonical_root.string() + "/";
    if (file.string().rfind(prefix, 0) == 0) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("camera file ", ingest::RedactUrl(url), " is outside the media roots (",
                   roots.empty() ? "none configured" : absl::StrJoin(roots, ", "),
                   "); add its folder to server.media_roots or use an rtsp/http URL"));
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server(options));
  CUSTOS_RETURN_IF_ERROR(server->Init());
  return server;
}

absl::Status Server::Init() {
  config::Config& cfg = options_.config;
  const config::ServerConfig& sc = cfg.server;
  data_dir_ = options_.data_dir.empty() ? config::ResolvePath(cfg, sc.data_dir) : options_.data_dir;
  std::error_code ec;
  data_dir_ = fs::absolute(data_dir_, ec).lexically_normal().string();
  if (!data_dir_.empty() && data_dir_.back() == '/') data_dir_.pop_back();
  for (const char* sub : {"", "/snapshots", "/tmp"}) {
    CUSTOS_RETURN_IF_ERROR(MakeDir(data_dir_ + sub));
  }
  // Clips of a previous run that died while sending.
  for (const auto& entry : fs::directory_iterator(data_dir_ + "/tmp", ec)) {
    fs::remove(entry.path(), ec);
  }

  std::vector<std::string> roots;
  for (const std::string& root : sc.media_roots) roots.push_back(config::ResolvePath(cfg, root));
  for (config::CameraConfig& camera : cfg.cameras) {
    camera.url = config::ResolvePath(cfg, camera.url);
    if (!camera.enabled) continue;
    if (absl::Status ok = CheckCameraUrl(camera.url, roots); !ok.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("camera '", camera.id, "': ", ok.message()));
    }
  }

  audit::AuditLogOptions audit_options;
  audit_options.data_dir = data_dir_;
  CUSTOS_ASSIGN_OR_RETURN(audit_, audit::AuditLog::Open(audit_options));
  CUSTOS_ASSIGN_OR_RETURN(index_, record::SegmentIndex::Open(data_dir_));
  CUSTOS_ASSIGN_OR_RETURN(record::ReconcileReport reconciled, index_->Reconcile());
  spdlog::info(
      "recordings reconciled: {} open segments recovered, {} damaged, {} orphan files added, {} "
      "missing files removed",
      reconciled.open_recovered, reconciled.open_damaged + reconciled.orphans_damaged,
      reconciled.orphans_recovered, reconciled.missing_removed);
  CUSTOS_ASSIGN_OR_RETURN(events_,
                          store::SqliteEventStore::Open({.path = data_dir_ + "/events.db"}));
  auth::AuthenticatorOptions auth_options;
  auth_options.path = data_dir_ + "/auth.db";
  CUSTOS_ASSIGN_OR_RETURN(auth_,
                          auth::Authenticator::Create(auth_options, Clock::Real(), audit_.get()));

  policy_auditor_ = std::make_unique<AuditLogPolicyAuditor>(audit_.get());
  policy::PolicyEngineOptions policy_options;
  policy_options.path = data_dir_ + "/policy.db";
  policy_options.cameras = policy::CamerasFromConfig(cfg);
  CUSTOS_ASSIGN_OR_RETURN(
      policy_, policy::PolicyEngine::Create(policy_options, {.clock = Clock::Real(),
                                                             .auditor = policy_auditor_.get(),
                                                             .segments = index_.get()}));
  // Watchlists (docs/face.md "Watchlists"): every step audited through the same log.
  watchlist::WatchlistOptions wo;
  wo.path = data_dir_ + "/watchlist.db";
  wo.key_path = data_dir_ + "/keys/watchlist.key";
  CUSTOS_ASSIGN_OR_RETURN(
      watchlist_,
      watchlist::WatchlistStore::Create(
          wo, {.clock = Clock::Real(), .policy = policy_.get(), .auditor = policy_auditor_.get()}));
  watchlist::MatchStoreOptions mo;
  mo.path = data_dir_ + "/face_matches.db";
  mo.key_path = wo.key_path;
  CUSTOS_ASSIGN_OR_RETURN(matches_,
                          watchlist::MatchStore::Create(
                              mo, {.clock = Clock::Real(), .auditor = policy_auditor_.get()}));
  watchlist::MatcherOptions matcher_options;
  if (!options_.face_manifest.empty()) {
    absl::StatusOr<std::unique_ptr<face::FaceAnalyzer>> analyzer =
        face::FaceAnalyzer::Create(options_.face_manifest, options_.face_models_dir,
                                   face::kDefaultDetector, face::kDefaultEmbedder, {});
    if (analyzer.ok()) {
      face_analyzer_ = *std::move(analyzer);
      face_models_ = std::make_unique<watchlist::AnalyzerFaceSource>(face_analyzer_.get());
      face_source_ = face_models_.get();
      matcher_options.match_threshold = face_analyzer_->match_threshold();
    } else {
      faces_unavailable_ = absl::StrCat(
          "the face models (", face::kDefaultDetector, ", ", face::kDefaultEmbedder,
          ") did not load: ", analyzer.status().message(), "; tools/setup.sh provisions them");
    }
  } else {
    faces_unavailable_ = "no face models were configured for this server";
  }
  if (face_source_ == nullptr) {
    spdlog::warn("face recognition is off: {}", faces_unavailable_);
  }
  CUSTOS_ASSIGN_OR_RETURN(matcher_,
                          watchlist::WatchlistMatcher::Create(matcher_options, watchlist_.get()));

  int recording = 0;
  int registered = 0;
  for (const config::CameraConfig& camera : cfg.cameras) {
    ++registered;
    if (camera.enabled && camera.record.mode != config::RecordMode::kOff) ++recording;
  }
  stats_ = std::make_unique<PublicStatistics>(PublicStatistics::Sources{
      .audit = audit_.get(),
      .policy = policy_.get(),
      .clock = Clock::Real(),
      .cameras = registered,
      .cameras_recording = recording,
      .watchlist_size = [this]() -> int64_t {
        absl::StatusOr<std::vector<watchlist::WatchlistEntry>> entries = watchlist_->List();
        if (!entries.ok()) return 0;
        const int64_t now = Clock::Real()->WallMs();
        int64_t active = 0;
        for (const watchlist::WatchlistEntry& e : *entries) {
          if (watchlist::StatusAt(e, now) == watchlist::EntryStatus::kActive) ++active;
        }
        return active;
      },
  });

  // Plates (docs/plates.md): reads kept briefly, hotlists under four eyes, all audited.
  CUSTOS_ASSIGN_OR_RETURN(plates_, plate::PlateStore::Create(
                                       {.path = data_dir_ + "/plates.db",
                                        .read_retention_ms = static_cast<int64_t>(
                                            cfg.retention.plate_reads_hours * 3'600'000.0)},
                                       {.clock = Clock::Real(), .auditor = policy_auditor_.get()}));
  CUSTOS_ASSIGN_OR_RETURN(
      hotlist_,
      plate::HotlistStore::Create(
          {.path = data_dir_ + "/hotlist.db"},
          {.clock = Clock::Real(), .policy = policy_.get(), .auditor = policy_auditor_.get()}));
  std::vector<std::string> plate_cameras;
  for (const config::CameraConfig& camera : cfg.cameras) {
    if (camera.enabled && camera.read_plates) plate_cameras.push_back(camera.id);
  }
  if (!plate_cameras.empty()) {
    plate::PlateReaderOptions pro;
    pro.manifest = options_.plate_manifest;
    pro.models_dir = options_.plate_models_dir;
    pro.country = absl::AsciiStrToUpper(cfg.plates.country);
    pro.patterns = cfg.plates.patterns;
    absl::StatusOr<std::unique_ptr<plate::PlateReader>> reader = plate::PlateReader::Create(pro);
    if (!reader.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "camera '", plate_cameras[0], "' has read_plates, but the plate models do not load: ",
          reader.status().message(), " (run tools/setup.sh, or turn read_plates off)"));
    }
    plate_reader_ = *std::move(reader);
    plate::PlateServiceOptions pso;
    pso.sample_interval_ms = static_cast<int64_t>(cfg.plates.sample_interval_s * 1000.0);
    pso.max_reads_per_track = cfg.plates.max_reads_per_track;
    pso.min_vehicle_height_px = cfg.plates.min_vehicle_height_px;
    CUSTOS_ASSIGN_OR_RETURN(
        plate_service_,
        plate::PlateService::Create(
            pso, plate_reader_.get(), plates_.get(), hotlist_.get(),
            [this](const plate::StoredHit& hit) { OnPlateHit(hit); }, Clock::Real()));
  }

  infer::DetectorOptions detector_options;
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<infer::OpenVinoDetector> detector,
                          infer::OpenVinoDetector::Create(options_.model, detector_options));
  CUSTOS_ASSIGN_OR_RETURN(inference_, infer::InferenceService::Create(std::move(detector), {}));

  if (options_.face_detector) {
    face::FaceDetectorOptions fo;
    // The masker asks for faces down to its own threshold.
    fo.score_threshold = std::min(fo.score_threshold, options_.masker.score_threshold);
    CUSTOS_ASSIGN_OR_RETURN(face_detector_,
                            face::FaceDetector::Create(*options_.face_detector, fo));
  } else {
    spdlog::warn("no face detector: live view is withheld and exports are refused");
  }
  options_.plate_masker.sample_interval_ms = cfg.privacy.plate_sample_ms;
  if (cfg.privacy.mask_plates) {
    if (options_.plate_mask_detector) {
      absl::StatusOr<std::unique_ptr<plate::TextDetector>> text =
          plate::TextDetector::Create(*options_.plate_mask_detector, {});
      if (!text.ok()) {
        return absl::Status(
            text.status().code(),
            absl::StrCat("plate masking (privacy.mask_plates) needs the text detector: ",
                         text.status().message(),
                         " (or set privacy.mask_plates: false to show plates in live view and "
                         "exports)"));
      }
      plate_mask_detector_ = *std::move(text);
    } else {
      spdlog::warn(
          "privacy.mask_plates is on but no text detector is loaded: live view is withheld "
          "and blurred exports are refused");
    }
  }

  retention::RetentionOptions ro;
  ro.data_dir = data_dir_;
  ro.snapshot_dir = data_dir_ + "/snapshots";
  ro.defaults.video_max_age_ms = HoursToMs(cfg.retention.video_hours);
  ro.defaults.events_max_age_ms = DaysToMs(cfg.retention.events_days);
  if (cfg.retention.snapshots_days) {
    ro.defaults.snapshots_max_age_ms = DaysToMs(*cfg.retention.snapshots_days);
  }
  ro.video_quota_bytes = static_cast<int64_t>(cfg.retention.video_quota_gb * 1e9);
  ro.min_free_bytes = static_cast<int64_t>(cfg.retention.min_free_gb * 1e9);
  // The policy store's overrides are later, audited decisions: they win over the file's.
  const std::map<std::string, retention::CameraRetention> overrides = policy_->RetentionOverrides();
  for (const config::CameraConfig& camera : cfg.cameras) {
    retention::CameraRetention cr;
    if (camera.retention.video_hours)
      cr.video_max_age_ms = HoursToMs(*camera.retention.video_hours);
    if (camera.retention.events_days)
      cr.events_max_age_ms = DaysToMs(*camera.retention.events_days);
    if (camera.retention.snapshots_days) {
      cr.snapshots_max_age_ms = DaysToMs(*camera.retention.snapshots_days);
    }
    if (auto it = overrides.find(camera.id); it != overrides.end()) {
      const retention::CameraRetention& o = it->second;
      if (o.video_max_age_ms) cr.video_max_age_ms = o.video_max_age_ms;
      if (o.events_max_age_ms) cr.events_max_age_ms = o.events_max_age_ms;
      if (o.snapshots_max_age_ms) cr.snapshots_max_age_ms = o.snapshots_max_age_ms;
    }
    ro.cameras[camera.id] = cr;
  }
  CUSTOS_ASSIGN_OR_RETURN(retention_,
                          retention::RetentionEnforcer::Create(ro, index_.get(), events_.get(),
                                                               audit_.get(), Clock::Real()));

  for (const config::CameraConfig& camera : cfg.cameras) {
    if (!camera.enabled) continue;
    CameraRunnerOptions co;
    co.camera = camera;
    co.detector = cfg.detector;
    co.motion = cfg.motion;
    co.tracker = cfg.tracker;
    co.data_dir = data_dir_;
    co.snapshot_dir = data_dir_ + "/snapshots";
    co.realtime_files = options_.realtime_files;
    co.face_detector = face_detector_.get();
    co.masker = options_.masker;
    co.mask_plates = cfg.privacy.mask_plates;
    co.plate_mask_detector = plate_mask_detector_.get();
    co.plate_masker = options_.plate_masker;
    if (face_source_ != nullptr) {
      co.face_policy = policy_.get();
      co.watchlist_matcher = matcher_.get();
      co.face_source = face_source_;
      co.recognizer = options_.recognizer;
    }
    if (camera.read_plates) {
      co.plates = plate_service_.get();
      co.full_frame_max_width = cfg.plates.full_frame_max_width;
    }
    CUSTOS_ASSIGN_OR_RETURN(
        std::unique_ptr<CameraRunner> runner,
        CameraRunner::Create(
            co, inference_.get(),
            camera.record.mode == config::RecordMode::kOff ? nullptr : index_.get(),
            [this](const std::vector<Event>& events) { OnEvents(events); }, Clock::Real(),
            [this](const watchlist::FaceMatch& match, const BoxF& box) {
              OnFaceMatch(match, box);
            }));
    cameras_.push_back(std::move(runner));
  }

  api::ApiServerOptions ao;
  ao.bind_address = options_.bind.empty() ? sc.bind : options_.bind;
  ao.port = options_.port >= 0 ? options_.port : sc.port;
  ao.threads = options_.api_threads;
  ao.max_event_streams = 16;
  ao.register_operator = sc.operator_name;
  api::ApiServerDeps deps;
  deps.authenticator = auth_.get();
  deps.access_log = audit_.get();
  deps.clock = Clock::Real();
  deps.events = events_.get();
  deps.bus = &bus_;
  const std::vector<config::CameraConfig> camera_list = cfg.cameras;
  deps.cameras = [camera_list] { return camera_list; };
  deps.health = [this] { return Health(); };
  deps.live = [this](const std::string& camera, int64_t after_seq,
                     int64_t timeout_ms) -> std::optional<api::LiveFrame> {
    for (const auto& runner : cameras_) {
      if (runner->id() != camera) continue;
      if (timeout_ms > 0) return runner->WaitNewer(after_seq, timeout_ms);
      // Live frames are made only while someone watches: after a pause, wait for a fresh one.
      std::optional<api::LiveFrame> latest = runner->Latest();
      if (latest && latest->wall_ms >= Clock::Real()->WallMs() - 2000) return latest;
      std::optional<api::LiveFrame> fresh = runner->WaitNewer(latest ? latest->seq : 0, 2000);
      return fresh ? fresh : latest;
    }
    return std::nullopt;
  };
  deps.recordings = index_.get();
  deps.clip = [this](const std::string& camera, int64_t from_ms, int64_t to_ms) {
    return Clip(camera, from_ms, to_ms);
  };
  if (face_detector_ != nullptr) {
    deps.export_clip = [this](const api::ExportRequest& request) { return Export(request); };
  }
  deps.snapshot_dir = data_dir_ + "/snapshots";
  deps.policy = policy_.get();
  deps.audit = audit_.get();
  deps.retention = cfg.retention;
  deps.public_stats = [this] { return stats_->Json(); };
  deps.watchlist = watchlist_.get();
  deps.matches = matches_.get();
  deps.plates = plates_.get();
  deps.hotlist = hotlist_.get();
  deps.faces = face_source_;
  deps.faces_unavailable = faces_unavailable_;
  std::string web_root = options_.web_root;
  if (web_root.empty() && !sc.web_root.empty()) web_root = config::ResolvePath(cfg, sc.web_root);
  if (web_root.empty()) web_root = std::string(CUSTOS_SOURCE_DIR) + "/web/dist";
  if (!fs::exists(fs::path(web_root) / "index.html", ec)) {
    spdlog::warn("no web UI in {} (run tools/setup.sh to build it); serving the API only",
                 web_root);
  }
  deps.web_root = web_root;
  deps.ui = {.site_name = sc.site_name,
             .tile_url = sc.map.tile_url,
             .tile_attribution = sc.map.attribution,
             .center = sc.map.center,
             .zoom = sc.map.zoom};
  CUSTOS_ASSIGN_OR_RETURN(api_, api::ApiServer::Create(ao, deps));
  return absl::OkStatus();
}

Server::~Server() { Stop(); }

absl::Status Server::Start() {
  CUSTOS_RETURN_IF_ERROR(api_->Start());
  started_ = true;
  for (const auto& camera : cameras_) camera->Start();
  retention_thread_ = std::thread([this] { RetentionLoop(); });
  return absl::OkStatus();
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (api_) api_->Stop();
  for (const auto& camera : cameras_) camera->Stop();
  if (plate_service_) plate_service_->Stop();  // Votes and stores the tracks still open.
  if (retention_thread_.joinable()) retention_thread_.join();
  if (audit_) Checkpoint();  // Sign what the last minute added.
}

int Server::port() const { return api_ ? api_->port() : 0; }

void Server::OnEvents(const std::vector<Event>& events) {
  if (absl::Status stored = events_->Append(events); !stored.ok()) {
    events_lost_ += static_cast<int64_t>(events.size());
    spdlog::error("{} events not stored: {}", events.size(), std::string(stored.message()));
  }
  for (const Event& event : events) bus_.Publish(event);
}

absl::StatusOr<Event> RecordFaceMatch(watchlist::MatchStore& matches, api::EventBus& bus,
                                      const watchlist::FaceMatch& match, const BoxF& box) {
  CUSTOS_ASSIGN_OR_RETURN(watchlist::StoredMatch stored, matches.Record(match));
  Event alert;
  alert.id = stored.id;
  alert.camera = match.camera;
  alert.time_ms = match.time_ms;
  alert.type = EventType::kFaceMatch;
  alert.label = "person";
  alert.track_id = match.track_id;
  alert.score = match.score;
  alert.box = box;
  alert.watchlist_entry = match.entry_id;
  alert.watchlist_label = match.label;
  bus.Publish(alert);
  return alert;
}

void Server::OnFaceMatch(const watchlist::FaceMatch& match, const BoxF& box) {
  absl::StatusOr<Event> raised = RecordFaceMatch(*matches_, bus_, match, box);
  if (!raised.ok()) {
    ++matches_lost_;
    // Names the entry and camera only: nothing biometric in the log.
    spdlog::error("camera {}: a face match of watchlist entry {} was not stored (no alert): {}",
                  match.camera, match.entry_id, std::string(raised.status().message()));
    return;
  }
  spdlog::info("camera {}: face match {} of watchlist entry {} (a lead to verify)", match.camera,
               raised->id, match.entry_id);
}

void Server::OnPlateHit(const plate::StoredHit& hit) {
  bus_.Publish(PlateHitAlert(hit));
  spdlog::info("camera {}: plate hit {} of hotlist entry {} (a lead to verify)", hit.read.camera,
               hit.id, hit.entry_id);
}

Event PlateHitAlert(const plate::StoredHit& hit) {
  Event alert;
  alert.id = hit.id;
  alert.camera = hit.read.camera;
  alert.time_ms = hit.read.time_ms;
  alert.type = EventType::kPlateHit;
  alert.label = hit.read.label;
  alert.track_id = hit.read.track_id;
  alert.score = hit.read.confidence;
  alert.watchlist_entry = hit.entry_id;
  alert.watchlist_label = hit.entry_label;
  alert.plate = hit.read.plate;
  alert.plate_read = hit.read.id;
  return alert;
}

void Server::Checkpoint() {
  if (auto signed_head = audit_->Checkpoint(); !signed_head.ok()) {
    spdlog::error("audit checkpoint: {}", std::string(signed_head.status().message()));
  }
}

void Server::RetentionLoop() {
  for (;;) {
    Checkpoint();
    if (absl::StatusOr<plate::PurgeResult> purged = plates_->Purge(); !purged.ok()) {
      spdlog::error("retention: plate reads: {}", std::string(purged.status().message()));
    } else if (purged->reads > 0 || purged->hits > 0) {
      spdlog::info("retention: erased {} plate reads and {} hits", purged->reads, purged->hits);
    }
    absl::StatusOr<retention::RetentionSummary> summary = retention_->RunOnce();
    if (!summary.ok()) {
      spdlog::error("retention: {}", std::string(summary.status().message()));
    } else if (!summary->receipts.empty()) {
      spdlog::info("retention: deleted {} segments ({} bytes), {} events, {} snapshots",
                   summary->segments_deleted, summary->segment_bytes_deleted,
                   summary->events_deleted, summary->snapshots_deleted);
    }
    std::unique_lock<std::mutex> lock(stop_mu_);
    if (stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.retention_interval_ms),
                          [this] { return stopping_; })) {
      return;
    }
  }
}

absl::StatusOr<api::ClipFile> Server::Clip(const std::string& camera, int64_t from_ms,
                                           int64_t to_ms) {
  const std::string path =
      absl::StrCat(data_dir_, "/tmp/", NewUlid(Clock::Real()->WallMs()), ".mp4");
  CUSTOS_ASSIGN_OR_RETURN(record::ClipInfo info,
                          record::WriteClip(*index_, camera, from_ms, to_ms, path));
  return api::ClipFile{.path = path,
                       .bytes = info.bytes,
                       .sha256 = info.sha256_hex,
                       .start_ms = info.start_ms,
                       .end_ms = info.end_ms};
}

absl::StatusOr<api::ClipFile> Server::Export(const api::ExportRequest& request) {
  std::unique_lock<std::mutex> lock(export_mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    return absl::UnavailableError("another export is being made; try again when it is done");
  }
  if (request.blur && options_.config.privacy.mask_plates && plate_mask_detector_ == nullptr) {
    // Fail-closed, before anything is cut: ExportClip would refuse it too.
    return absl::UnavailableError(absl::StrCat(
        "exports are refused: licence plates must be masked (privacy.mask_plates) but the text "
        "detector '",
        plate::kDefaultTextDetector,
        "' is not loaded; provision it (tools/models/provision.py) and restart the server"));
  }
  const std::string base = absl::StrCat(data_dir_, "/tmp/", request.export_id);
  const std::string source = base + "-source.mp4";
  const std::string output = base + ".mp4";
  CUSTOS_ASSIGN_OR_RETURN(
      record::ClipInfo info,
      record::WriteClip(*index_, request.camera, request.from_ms, request.to_ms, source));
  privacy::ExportOptions eo;
  eo.export_id = request.export_id;
  eo.blur_faces = request.blur;
  eo.masker = options_.masker;
  eo.mask_plates = options_.config.privacy.mask_plates;
  eo.plates = options_.plate_masker;
  eo.start_utc_ms = info.start_ms;
  eo.sync = false;  // Sent and deleted; what is kept is its hash in the audit log.
  const int64_t started = Clock::Real()->MonotonicMs();
  absl::StatusOr<privacy::ExportResult> result =
      privacy::ExportClip(source, output, {face_detector_.get(), plate_mask_detector_.get()}, eo);
  std::error_code ec;
  fs::remove(source, ec);
  if (!result.ok()) return result.status();
  spdlog::info("export {} of {}: {} frames, {} with regions obscured, {} plates found, {} ms",
               request.export_id, request.camera, result->frames_out, result->frames_obscured,
               result->plates_detected, Clock::Real()->MonotonicMs() - started);
  return api::ClipFile{.path = output,
                       .bytes = result->bytes,
                       .sha256 = result->sha256_hex,
                       .start_ms = info.start_ms,
                       .end_ms = info.end_ms};
}

api::HealthReport Server::Health() const {
  api::HealthReport report;
  for (const auto& camera : cameras_) report.cameras.push_back(camera->Health());
  struct statvfs vfs {};
  if (::statvfs(data_dir_.c_str(), &vfs) == 0) {
    report.disks.push_back({.name = "data",
                            .total_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize,
                            .free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize});
  }
  if (plate_service_ != nullptr) {
    const plate::PlateServiceStats s = plate_service_->stats();
    report.plates = api::PlateReadingHealth{.crops_offered = s.crops_offered,
                                            .crops_dropped = s.crops_dropped,
                                            .crops_read = s.crops_read,
                                            .reads_stored = s.reads_stored,
                                            .hits = s.hits,
                                            .errors = s.errors,
                                            .last_error = s.last_error};
  }
  return report;
}

}  // namespace custos::server
