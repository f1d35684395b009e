// The embedded single-node server (`custos serve`, `custos demo`): every camera of the
// configuration recorded and analysed live (CameraRunner), events stored in SQLite and pushed
// to the API's event bus, retention enforced every minute, and the HTTP API with the web UI.
// Everything lives under one data directory (docs/server.md):
//
//   DATA_DIR/events.db          events (SQLite)
//   DATA_DIR/auth.db            users, sessions, API tokens
//   DATA_DIR/policy.db          legal bases, authorisations, assemblies, approvals, holds
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
#include "infer/inference_service.h"
#include "infer/model_manifest.h"
#include "policy/policy_engine.h"
#include "record/segment_index.h"
#include "retention/retention_enforcer.h"
#include "server/camera_runner.h"
#include "server/transparency.h"
#include "store/sqlite_event_store.h"

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

 private:
  explicit Server(const ServerOptions& options) : options_(options) {}
  absl::Status Init();
  void OnEvents(const std::vector<Event>& events);
  void RetentionLoop();
  // Signs the audit log's size if it grew (every minute and at shutdown).
  void Checkpoint();
  absl::StatusOr<api::ClipFile> Clip(const std::string& camera, int64_t from_ms, int64_t to_ms);

  ServerOptions options_;
  std::string data_dir_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<record::SegmentIndex> index_;
  std::unique_ptr<store::SqliteEventStore> events_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<AuditLogPolicyAuditor> policy_auditor_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::unique_ptr<PublicStatistics> stats_;
  api::EventBus bus_;
  std::unique_ptr<infer::InferenceService> inference_;
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

// Whether `url` may be a camera: rtsp/rtsps/http/https URLs, or a file inside one of `roots`
// (after resolving symlinks and ".."). Errors: kInvalidArgument naming the url (redacted) and
// the roots.
absl::Status CheckCameraUrl(const std::string& url, const std::vector<std::string>& roots);

}  // namespace custos::server
