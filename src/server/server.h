// The embedded single-node server (`custos serve`, `custos demo`): every camera of the
// configuration recorded and analysed live (CameraRunner), events stored in SQLite and pushed
// to the API's event bus, retention enforced every minute, and the HTTP API with the web UI.
// Everything lives under one data directory (docs/server.md):
//
//   DATA_DIR/events.db          events (SQLite)
//   DATA_DIR/auth.db            users, sessions, API tokens
//   DATA_DIR/policy.db          legal bases, authorisations, assemblies, approvals, holds
//   DATA_DIR/watchlist.db       watchlist entries, enrolment embeddings sealed (docs/face.md)
//   DATA_DIR/face_matches.db    face matches (leads), crops sealed
//   DATA_DIR/keys/watchlist.key the sealing key of both (0600); back it up apart
//   DATA_DIR/recordings/        segments and their index
//   DATA_DIR/snapshots/         best snapshots of tracks
//   DATA_DIR/retention/         deletion receipts
//   DATA_DIR/audit/             the tamper-evident audit log (docs/audit.md)
//   DATA_DIR/tmp/               clips being sent
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "api/api_server.h"
#include "api/event_bus.h"
#include "audit/audit_log.h"
#include "auth/authenticator.h"
#include "config/config.h"
#include "face/face_analyzer.h"
#include "face/face_detector.h"
#include "face/face_models.h"
#include "infer/inference_service.h"
#include "infer/model_manifest.h"
#include "plate/hotlist.h"
#include "plate/ocr_model.h"
#include "plate/plate_reader.h"
#include "plate/plate_service.h"
#include "plate/plate_store.h"
#include "policy/policy_engine.h"
#include "privacy/face_masker.h"
#include "privacy/plate_masker.h"
#include "record/segment_index.h"
#include "retention/retention_enforcer.h"
#include "server/camera_runner.h"
#include "server/transparency.h"
#include "store/sqlite_event_store.h"
#include "watchlist/match_store.h"
#include "watchlist/track_face_recognizer.h"
#include "watchlist/watchlist_matcher.h"
#include "watchlist/watchlist_store.h"

namespace custos::server {

struct ServerOptions {
  // The configuration, validated; camera urls are resolved against config.base_dir here.
  config::Config config;
  // Overrides of config.server; empty / -1 keep the config's.
  std::string data_dir;
  std::string bind;
  int port = -1;
  infer::ModelSpec model;  // The detector named by config.detector.model.
  // Folder of the built web UI; "" uses config.server.web_root, else CUSTOS_SOURCE_DIR/web/dist.
  std::string web_root;
  // File cameras play in real time and loop (a live camera); false reads them once, fast
  // (tests).
  bool realtime_files = true;
  int64_t retention_interval_ms = 60'000;
  int api_threads = 48;
  // The face detector for privacy masking (live view, exports). Unset: live view shows a
  // notice instead of the picture and exports are refused (fail-closed).
  std::optional<face::FaceModel> face_detector;
  privacy::FaceMaskerOptions masker;
  // The text detector that finds licence plates to mask while config.privacy.mask_plates
  // (plate::kDefaultTextDetector). Unset then: live view shows a notice instead of the
  // picture and blurred exports are refused (fail-closed); a model that does not load refuses
  // the start. `plate_masker.sample_interval_ms` is taken from config.privacy.
  std::optional<plate::OcrModel> plate_mask_detector = {};
  privacy::PlateMaskerOptions plate_masker = {};
  // The face models of watchlist recognition: face::FaceAnalyzer with the manifest's default
  // detector and embedder (face::kDefaultDetector, kDefaultEmbedder). "" manifest, or models
  // that do not load: the server runs without face recognition, and enrolment (POST
  // /api/watchlist) answers 503 saying why.
  std::string face_manifest = {};
  std::string face_models_dir = {};
  watchlist::RecognizerOptions recognizer = {};
  // The plate models' manifest and folder ("": infer's defaults). Loaded only when a camera
  // has read_plates; models that do not load then refuse the start (the message says why).
  std::string plate_manifest = {};
  std::string plate_models_dir = {};
};

class Server {
 public:
  // Opens the data directory (creating it, mode 0700), reconciles recordings with their
  // index, opens the stores, loads the model and prepares every enabled camera.
  // Errors: kInvalidArgument (a camera's url is not allowed: the message names it and says
  // which roots are), kFailedPrecondition / kPermissionDenied (data directory), and those of
  // the stores and the model.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options);
  ~Server();  // Stop()s.

  // Starts cameras, retention and the API. Errors: kUnavailable (the port is taken).
  absl::Status Start();
  // Stops the API (ending streams), the cameras (closing open tracks and segments) and
  // retention. Idempotent.
  void Stop();

  int port() const;
  const std::string& data_dir() const { return data_dir_; }
  auth::Authenticator& authenticator() { return *auth_; }
  policy::PolicyEngine& policy() { return *policy_; }
  api::HealthReport Health() const;
  const std::vector<std::unique_ptr<CameraRunner>>& cameras() const { return cameras_; }
  watchlist::WatchlistStore& watchlist() { return *watchlist_; }
  watchlist::MatchStore& matches() { return *matches_; }
  api::EventBus& bus() { return bus_; }
  // Face matches that could not be stored (and so raised no alert).
  int64_t matches_lost() const { return matches_lost_.load(); }
  plate::PlateStore& plates() { return *plates_; }
  plate::HotlistStore& hotlist() { return *hotlist_; }
  // Null unless a camera reads plates.
  plate::PlateService* plate_service() { return plate_service_.get(); }

 private:
  explicit Server(const ServerOptions& options) : options_(options) {}
  absl::Status Init();
  void OnEvents(const std::vector<Event>& events);
  void OnFaceMatch(const watchlist::FaceMatch& match, const BoxF& box);
  void OnPlateHit(const plate::StoredHit& hit);
  void RetentionLoop();
  // Signs the audit log's size if it grew (every minute and at shutdown).
  void Checkpoint();
  absl::StatusOr<api::ClipFile> Clip(const std::string& camera, int64_t from_ms, int64_t to_ms);
  // Cuts, masks, watermarks and encodes an export (privacy::ExportClip); one at a time.
  absl::StatusOr<api::ClipFile> Export(const api::ExportRequest& request);

  ServerOptions options_;
  std::string data_dir_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<record::SegmentIndex> index_;
  std::unique_ptr<store::SqliteEventStore> events_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<AuditLogPolicyAuditor> policy_auditor_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::unique_ptr<PublicStatistics> stats_;
  std::unique_ptr<watchlist::WatchlistStore> watchlist_;
  std::unique_ptr<watchlist::MatchStore> matches_;
  std::unique_ptr<face::FaceAnalyzer> face_analyzer_;  // Null: no face models.
  std::unique_ptr<watchlist::AnalyzerFaceSource> face_models_;
  watchlist::FaceSource* face_source_ = nullptr;  // face_models_.get(); null: none.
  std::string faces_unavailable_;                 // Why face_source_ is null.
  std::unique_ptr<watchlist::WatchlistMatcher> matcher_;
  std::atomic<int64_t> matches_lost_{0};
  std::unique_ptr<plate::PlateStore> plates_;
  std::unique_ptr<plate::HotlistStore> hotlist_;
  std::unique_ptr<plate::PlateReader> plate_reader_;    // Null: no camera reads plates.
  std::unique_ptr<plate::PlateService> plate_service_;  // Null: no camera reads plates.
  api::EventBus bus_;
  std::unique_ptr<infer::InferenceService> inference_;
  std::unique_ptr<face::FaceDetector> face_detector_;  // Null: no masking (see options).
  // Shared by the cameras' live view and exports; null: plates are not masked, or (while
  // config.privacy.mask_plates) no model, so live view and blurred exports are withheld.
  std::unique_ptr<plate::TextDetector> plate_mask_detector_;
  std::mutex export_mu_;
  std::unique_ptr<retention::RetentionEnforcer> retention_;
  std::vector<std::unique_ptr<CameraRunner>> cameras_;
  std::unique_ptr<api::ApiServer> api_;
  std::atomic<int64_t> events_lost_{0};

  std::thread retention_thread_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // Guarded by stop_mu_.
  bool started_ = false;
};

// Stores a face match as a lead (audited by the match store) and raises its alert on the
// live event stream: a face_match Event whose id is the stored match's id, marked as a lead.
// The alert is not kept in the event store: the match store is its record. `box` is the
// person's box on the frame. Errors: MatchStore::Record's; then nothing is published.
absl::StatusOr<Event> RecordFaceMatch(watchlist::MatchStore& matches, api::EventBus& bus,
                                      const watchlist::FaceMatch& match, const BoxF& box);

// The alert of a stored plate hit on the live event stream: a plate_hit Event whose id is the
// hit's, marked as a lead (not kept in the event store: the plate store is its record).
Event PlateHitAlert(const plate::StoredHit& hit);

// Whether `url` may be a camera: rtsp/rtsps/http/https URLs, or a file inside one of `roots`
// (after resolving symlinks and ".."). Errors: kInvalidArgument naming the url (redacted) and
// the roots.
absl::Status CheckCameraUrl(const std::string& url, const std::vector<std::string>& roots);

}  // namespace custos::server
