#include "api/api_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/routes.h"
#include "api/strings.h"
#include "audit/audit_log.h"
#include "core/testing.h"
#include "core/ulid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plate/hotlist.h"
#include "plate/plate_store.h"
#include "policy/policy_engine.h"
#include "store/sqlite_event_store.h"
#include "watchlist/match_store.h"
#include "watchlist/track_face_recognizer.h"
#include "watchlist/watchlist_store.h"

namespace custos::api {
namespace {

namespace fs = std::filesystem;
using auth::Role;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "a long enough password";
constexpr int64_t kT0 = 1'700'000'000'000;
const auth::Principal kRoot{auth::Principal::Kind::kUser, 1, "root", Role::kAdmin};

struct Reply {
  int status = 0;
  std::string body;
  httplib::Headers headers;

  json Json() const { return json::parse(body, nullptr, false); }
  std::string ErrorMessage() const {
    const json parsed = Json();
    if (!parsed.is_object() || !parsed.contains("error")) return "";
    return parsed["error"].value("message", "");
  }
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A logged-in browser-like client.
struct SessionCreds {
  std::string cookie;  // "custos_session=..."
  std::string csrf;
};

Event MakeEvent(int64_t time_ms, const std::string& camera, EventType type,
                const std::string& label, const std::string& zone = "") {
  Event event;
  event.id = NewUlid(time_ms);
  event.camera = camera;
  event.time_ms = time_ms;
  event.type = type;
  event.label = label;
  event.zone = zone;
  event.track_id = 7;
  event.score = 0.9f;
  event.box = {10, 20, 30, 40};
  return event;
}

face::Embedding RandomUnit(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0, 1);
  face::Embedding e(128);
  float norm = 0;
  for (float& v : e) {
    v = n(rng);
    norm += v * v;
  }
  for (float& v : e) v /= std::sqrt(norm);
  return e;
}

// Face models for tests (as in watchlist_test.cc): a photo's mean grey level says what is in
// it. 0: no face; 50: a face failing the quality gate; anything else: a face whose embedding
// is RandomUnit(level), so two photos of one level are the same person.
class FakeFaceSource final : public watchlist::FaceSource {
 public:
  absl::StatusOr<std::optional<face::AnalyzedFace>> LargestFace(const cv::Mat& image) override {
    ++calls;
    const int level = static_cast<int>(cv::mean(image)[0] + 0.5);
    if (level == 0) return std::nullopt;
    face::AnalyzedFace f;
    f.detection.score = 0.9f;
    f.detection.box =
        cv::Rect2f(0, 0, static_cast<float>(image.cols), static_cast<float>(image.rows));
    const bool passed = level != 50;
    f.quality = {120, 200, 0.05f, 0.45f, passed, passed ? "" : "blurred"};
    if (passed) f.embedding = RandomUnit(static_cast<uint32_t>(level));
    return f;
  }
  std::atomic<int> calls{0};
};

// A photo (PNG, base64) of mean grey level `level`; `noise` makes it large (~3 bytes a pixel).
std::string PhotoBase64(int level, int side = 64, bool noise = false) {
  cv::Mat image(side, side, CV_8UC3, cv::Scalar::all(level));
  if (noise) {
    cv::Mat n(side, side, CV_8UC3);
    cv::randu(n, cv::Scalar::all(0), cv::Scalar::all(2 * level + 1));
    image = n;
  }
  std::vector<uchar> png;
  cv::imencode(".png", image, png);
  return absl::Base64Escape(std::string(png.begin(), png.end()));
}

watchlist::FaceMatch SampleMatch(int64_t time_ms, const std::string& entry_id) {
  watchlist::FaceMatch m;
  m.entry_id = entry_id;
  m.label = "Case 114 - J. Doe";
  m.category = watchlist::SubjectCategory::kWantedSuspect;
  m.score = 0.95f;
  m.camera = "entrance";
  m.track_id = 7;
  m.time_ms = time_ms;
  m.attempts = 3;
  m.agreeing = 3;
  m.vote_share = 1;
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(40, 32, CV_8UC3, cv::Scalar(90, 120, 150)), jpeg);
  m.crop_jpeg.assign(jpeg.begin(), jpeg.end());
  return m;
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("custos-api");
    auth::AuthenticatorOptions auth_options;
    auth_options.path = (dir_ / "auth.db").string();
    auth_options.password_hash = {auth::PasswordHashOptions::kMinOpsLimit,
                                  auth::PasswordHashOptions::kMinMemLimit};
    absl::StatusOr<std::unique_ptr<auth::Authenticator>> auth =
        auth::Authenticator::Create(auth_options, &clock_, &log_);
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = *std::move(auth);
    for (Role role : auth::AllRoles()) {
      if (role == Role::kPublic) continue;
      const std::string name(auth::RoleName(role));
      absl::StatusOr<auth::User> user = auth_->CreateUser(kRoot, {name, kPassword, role});
      ASSERT_TRUE(user.ok()) << user.status();
    }
    absl::StatusOr<std::unique_ptr<store::SqliteEventStore>> store =
        store::SqliteEventStore::Open({.path = ":memory:"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);

    config::CameraConfig entrance;
    entrance.id = "entrance";
    entrance.name = "Main entrance";
    entrance.url = "rtsp://user:secret@10.0.0.5:554/stream1?password=secret";
    entrance.location = config::Location{52.52, 13.405};
    entrance.zones.push_back({.name = "door", .polygon = {}, .labels = {}, .loiter_s = 30});
    entrance.purpose = "safety at the main entrance";
    entrance.record.mode = config::RecordMode::kEvents;
    entrance.read_plates = true;
    config::CameraConfig yard;
    yard.id = "yard";
    yard.name = "Yard";
    yard.url = "rtsp://secret@10.0.0.6/live";
    yard.enabled = false;
    cameras_ = {entrance, yard};
    ASSERT_TRUE(auth_->CreateUser(kRoot, {"temp", kPassword, Role::kViewer}).ok());

    absl::StatusOr<std::unique_ptr<record::SegmentIndex>> index =
        record::SegmentIndex::Open(dir_.string());
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    for (int i = 0; i < 3; ++i) {  // Two spans: 0-20 s and 30-40 s.
      const int64_t start = kT0 + (i == 2 ? 30'000 : i * 10'000);
      record::Segment segment;
      segment.camera = "entrance";
      segment.path = absl::StrCat("recordings/entrance/", i, ".mp4");
      segment.start_ms = start;
      segment.end_ms = start + 10'000;
      segment.bytes = 1000;
      segment.state = record::SegmentState::kClosed;
      ASSERT_TRUE(index_->Add(segment).ok());
    }
    policy::PolicyEngineOptions policy_options;
    policy_options.path = ":memory:";
    config::Config config;
    config.cameras = cameras_;
    policy_options.cameras = policy::CamerasFromConfig(config);
    absl::StatusOr<std::unique_ptr<policy::PolicyEngine>> engine = policy::PolicyEngine::Create(
        policy_options, {.clock = &clock_, .auditor = &policy_auditor_, .segments = index_.get()});
    ASSERT_TRUE(engine.ok()) << engine.status();
    policy_ = *std::move(engine);
    watchlist::WatchlistOptions wo;
    wo.path = (dir_ / "watchlist.db").string();
    wo.key_path = (dir_ / "keys" / "watchlist.key").string();
    auto watchlist = watchlist::WatchlistStore::Create(
        wo, {.clock = &clock_, .policy = policy_.get(), .auditor = &policy_auditor_});
    ASSERT_TRUE(watchlist.ok()) << watchlist.status();
    watchlist_ = *std::move(watchlist);
    watchlist::MatchStoreOptions mo;
    mo.path = (dir_ / "face_matches.db").string();
    mo.key_path = wo.key_path;
    auto matches =
        watchlist::MatchStore::Create(mo, {.clock = &clock_, .auditor = &policy_auditor_});
    ASSERT_TRUE(matches.ok()) << matches.status();
    matches_ = *std::move(matches);
    auto recorded = matches_->Record(SampleMatch(kT0, "01ARZ3NDEKTSV4RRFFQ69G5FAV"));
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    match_id_ = recorded->id;
    // Plates: a basis for queries and hotlists, one read, and one hit of it.
    policy::LegalBasis plate_basis;
    plate_basis.reference = "PQ-1";
    plate_basis.issuing_authority = "Amtsgericht Musterstadt";
    plate_basis.scope.acts = {policy::Act::kPlateQuery, policy::Act::kPlateHotlist};
    plate_basis.valid_from_ms = kT0 - 86'400'000;
    plate_basis.expires_ms = kT0 + 30LL * 86'400'000;
    ASSERT_TRUE(policy_->AddLegalBasis(kRoot, plate_basis).ok());
    auto plates = plate::PlateStore::Create({.path = (dir_ / "plates.db").string()},
                                            {.clock = &clock_, .auditor = &policy_auditor_});
    ASSERT_TRUE(plates.ok()) << plates.status();
    plates_ = *std::move(plates);
    auto hotlist = plate::HotlistStore::Create(
        {.path = (dir_ / "hotlist.db").string()},
        {.clock = &clock_, .policy = policy_.get(), .auditor = &policy_auditor_});
    ASSERT_TRUE(hotlist.ok()) << hotlist.status();
    hotlist_ = *std::move(hotlist);
    plate::StoredRead read;
    read.camera = "entrance";
    read.time_ms = kT0 - 60'000;
    read.plate = "ABC1234";
    read.confidence = 0.9f;
    read.candidates = {{"ABC1234", 0.9f}, {"A8C1234", 0.2f}};
    read.label = "car";
    read.crop_jpeg = std::string("\xFF\xD8plate\xFF\xD9", 9);
    auto stored_read = plates_->AddRead(read);
    ASSERT_TRUE(stored_read.ok()) << stored_read.status();
    read_id_ = stored_read->id;
    plate::StoredHit hit;
    hit.read = *stored_read;
    hit.entry_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    hit.entry_plate = "ABC1234";
    hit.entry_label = "stolen car";
    hit.legal_basis_ref = "PQ-1";
    hit.keep_until_ms = kT0 + 86'400'000;
    auto stored_hit = plates_->AddHit(hit);
    ASSERT_TRUE(stored_hit.ok()) << stored_hit.status();
    hit_id_ = stored_hit->id;
    policy_auditor_.Clear();  // Tests count the records of their own acts.
    absl::StatusOr<std::unique_ptr<audit::AuditLog>> audit =
        audit::AuditLog::Open({.data_dir = dir_.string(), .origin = "", .clock = &clock_});
    ASSERT_TRUE(audit.ok()) << audit.status();
    audit_ = *std::move(audit);
    for (int i = 0; i < 5; ++i) {  // Checkpoints at sizes 3 and 5.
      audit::AuditEntry entry;
      entry.actor = "system";
      entry.action = "test";
      entry.object = std::to_string(i);
      entry.result = "ok";
      ASSERT_TRUE(audit_->Append(entry).ok());
      if (i == 2 || i == 4) {
        ASSERT_TRUE(audit_->Checkpoint().ok());
      }
    }
    fs::create_directories(dir_ / "snapshots" / "entrance");
    {
      std::ofstream jpeg(dir_ / "snapshots" / "entrance" / "7.jpg");
      jpeg << "snapshot-bytes";
    }
    fs::create_directories(dir_ / "web" / "assets");
    std::ofstream(dir_ / "web" / "index.html") << "<!doctype html><title>Custos</title>";
    std::ofstream(dir_ / "web" / "assets" / "app.js") << "console.log(1)";
    std::ofstream(dir_ / "secret.txt") << "outside the web root";
    ASSERT_NO_FATAL_FAILURE(StartServer(options_));
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    auth_.reset();
    matches_.reset();
    watchlist_.reset();
    policy_.reset();
    audit_.reset();
    fs::remove_all(dir_);
  }

  void StartServer(const ApiServerOptions& options) {
    if (server_) server_->Stop();
    server_.reset();
    ApiServerDeps deps;
    deps.authenticator = auth_.get();
    deps.access_log = &log_;
    deps.clock = &clock_;
    deps.events = store_.get();
    deps.bus = &bus_;
    deps.cameras = [this] { return cameras_; };
    deps.health = [] {
      return HealthReport{
          .cameras = {{.camera = "entrance",
                       .connected = true,
                       .fps = 4.5,
                       .frames_dropped = 3,
                       .reconnects = 1,
                       .last_frame_ms = kT0}},
          .disks = {{.name = "recordings", .total_bytes = 1000, .free_bytes = 400}},
          .plates = PlateReadingHealth{.crops_offered = 40, .crops_dropped = 2, .reads_stored = 5}};
    };
    deps.live = [this](const std::string& camera, int64_t after_seq,
                       int64_t timeout_ms) -> std::optional<LiveFrame> {
      if (camera != "entrance") return std::nullopt;
      if (after_seq >= 0) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms / 5));
      return LiveFrame{.jpeg = std::make_shared<const std::string>("\xff\xd8jpeg\xff\xd9"),
                       .wall_ms = clock_.WallMs(),
                       .seq = after_seq + 1,
                       .width = 4,
                       .height = 2};
    };
    deps.recordings = index_.get();
    deps.clip = [this](const std::string& camera, int64_t from_ms,
                       int64_t to_ms) -> absl::StatusOr<ClipFile> {
      if (camera != "entrance" || from_ms >= kT0 + 40'000 || to_ms <= kT0) {
        return absl::NotFoundError("nothing was recorded then");
      }
      const fs::path path = dir_ / absl::StrCat("clip-", ++clips_, ".mp4");
      std::ofstream(path) << "0123456789";
      return ClipFile{.path = path.string(),
                      .bytes = 10,
                      .sha256 = "abc",
                      .start_ms = from_ms,
                      .end_ms = to_ms};
    };
    deps.export_clip = [this](const ExportRequest& request) -> absl::StatusOr<ClipFile> {
      exports_.push_back(request);
      const fs::path path = dir_ / absl::StrCat("export-", request.export_id, ".mp4");
      std::ofstream(path) << (request.blur ? "blurred:" : "clear:") << request.export_id;
      return ClipFile{.path = path.string(),
                      .bytes = static_cast<int64_t>(fs::file_size(path)),
                      .sha256 = std::string(64, 'e'),
                      .start_ms = request.from_ms,
                      .end_ms = request.to_ms};
    };
    deps.snapshot_dir = (dir_ / "snapshots").string();
    deps.web_root = (dir_ / "web").string();
    deps.ui = {.site_name = "Test City", .tile_url = "https://{s}.tiles.example/{z}/{x}/{y}.png"};
    deps.policy = policy_.get();
    deps.audit = audit_.get();
    deps.retention.video_hours = 48;
    deps.public_stats = []() -> absl::StatusOr<json> {
      return json{{"months", json::array({{{"month", "2023-11"}, {"searches", 4}}})}};
    };
    deps.watchlist = watchlist_.get();
    deps.matches = matches_.get();
    deps.plates = plates_.get();
    deps.hotlist = hotlist_.get();
    deps.faces = faces_;
    deps.faces_unavailable = "the face models are not installed (test)";
    absl::StatusOr<std::unique_ptr<ApiServer>> server = ApiServer::Create(options, deps);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started;
    ASSERT_GT(server_->port(), 0);
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(5, 0);
    return client;
  }

  // Sends a request; for streaming answers, stops after the headers.
  Reply Call(const std::string& method, const std::string& target, httplib::Headers headers = {},
             const std::string& body = "", bool stop_after_headers = false) {
    httplib::Client client = Client();
    Reply reply;
    httplib::Result result{nullptr, httplib::Error::Unknown};
    if (method == "GET") {
      result = client.Get(
          target, headers,
          [&](const httplib::Response& res) {
            reply.status = res.status;
            reply.headers = res.headers;
            return !stop_after_headers;
          },
          [&](const char* data, size_t size) {
            reply.body.append(data, size);
            return true;
          });
    } else if (method == "POST") {
      result = client.Post(target, headers, body, "application/json");
    } else if (method == "DELETE") {
      result = client.Delete(target, headers);
    }
    if (result && method != "GET") {  // GET bodies arrive through the content receiver.
      reply.status = result->status;
      reply.body = result->body;
      reply.headers = result->headers;
    }
    EXPECT_NE(reply.status, 0) << method << " " << target << ": "
                               << httplib::to_string(result.error());
    return reply;
  }

  Reply Login(const std::string& username, const std::string& password = kPassword) {
    return Call("POST", "/api/login", {},
                json({{"username", username}, {"password", password}}).dump());
  }

  SessionCreds LoginAs(Role role) {
    Reply reply = Login(std::string(auth::RoleName(role)));
    EXPECT_EQ(reply.status, 200) << reply.body;
    SessionCreds creds;
    const std::string set_cookie = reply.Header("Set-Cookie");
    creds.cookie = set_cookie.substr(0, set_cookie.find(';'));
    creds.csrf = reply.Json().value("csrf_token", "");
    return creds;
  }

  static httplib::Headers WithSession(const SessionCreds& creds, bool csrf = true) {
    httplib::Headers headers = {{"Cookie", creds.cookie}};
    if (csrf) headers.emplace("X-CSRF-Token", creds.csrf);
    return headers;
  }

  void FillStore() {
    std::vector<Event> events;
    for (int i = 0; i < 10; ++i) {
      events.push_back(MakeEvent(kT0 + i * 1000, "entrance",
                                 i % 2 ? EventType::kZoneEnter : EventType::kTrackStart,
                                 i % 3 ? "person" : "car", i % 2 ? "door" : ""));
      events.push_back(MakeEvent(kT0 + i * 1000 + 1, "yard", EventType::kTrackStart, "person"));
    }
    events[0].snapshot = "entrance/7.jpg";
    events[2].snapshot = "../secret.txt";  // A bad reference must not escape the folder.
    snapshot_event_ = events[0].id;
    escaping_event_ = events[2].id;
    ASSERT_TRUE(store_->Append(events).ok());
  }

  fs::path dir_;
  FakeClock clock_;
  auth::InMemoryAccessLog log_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<store::SqliteEventStore> store_;
  EventBus bus_;
  std::vector<config::CameraConfig> cameras_;
  std::unique_ptr<record::SegmentIndex> index_;
  std::atomic<int> clips_{0};
  std::vector<ExportRequest> exports_;
  ApiServerOptions options_{.threads = 8, .max_event_streams = 4, .stream_heartbeat_ms = 100};
  policy::InMemoryPolicyAuditor policy_auditor_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<watchlist::WatchlistStore> watchlist_;
  std::unique_ptr<watchlist::MatchStore> matches_;
  std::unique_ptr<plate::PlateStore> plates_;
  std::unique_ptr<plate::HotlistStore> hotlist_;
  FakeFaceSource fake_faces_;
  watchlist::FaceSource* faces_ = &fake_faces_;
  std::unique_ptr<ApiServer> server_;
  std::string escaping_event_;

 public:
  static inline std::string snapshot_event_;
  static inline std::string match_id_;
  static inline std::string read_id_;
  static inline std::string hit_id_;
};

TEST_F(ApiServerTest, LoginSetsAHardenedCookieAndLogoutNeedsTheCsrfToken) {
  Reply login = Login("investigator");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.Json()["user"], "investigator");
  EXPECT_EQ(login.Json()["role"], "investigator");
  const std::string csrf = login.Json()["csrf_token"];
  EXPECT_FALSE(csrf.empty());
  const std::string cookie = login.Header("Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("custos_session="));
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  EXPECT_THAT(cookie, HasSubstr("Path=/"));
  EXPECT_THAT(cookie, ::testing::Not(HasSubstr("Secure")));
  const SessionCreds creds{cookie.substr(0, cookie.find(';')), csrf};

  Reply me = Call("GET", "/api/me", WithSession(creds, /*csrf=*/false));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json()["user"], "investigator");
  EXPECT_EQ(me.Json()["kind"], "session");
  EXPECT_EQ(me.Json()["csrf_token"], csrf);
  EXPECT_THAT(me.Json()["permissions"].dump(), HasSubstr("search_events"));

  Reply no_csrf = Call("POST", "/api/logout", WithSession(creds, /*csrf=*/false));
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_THAT(no_csrf.ErrorMessage(), HasSubstr("X-CSRF-Token"));
  Reply wrong_csrf = Call("POST", "/api/logout", {{"Cookie", creds.cookie}, {"X-CSRF-Token", "x"}});
  EXPECT_EQ(wrong_csrf.status, 403);
  EXPECT_EQ(Call("GET", "/api/me", WithSession(creds)).status, 200) << "still logged in";

  Reply logout = Call("POST", "/api/logout", WithSession(creds));
  EXPECT_EQ(logout.status, 200) << logout.body;
  EXPECT_THAT(logout.Header("Set-Cookie"), HasSubstr("Max-Age=0"));
  Reply after = Call("GET", "/api/me", WithSession(creds));
  EXPECT_EQ(after.status, 401);
  EXPECT_THAT(after.ErrorMessage(), HasSubstr("log in again"));

  // Every login went through the Authenticator, which recorded it.
  int logins = 0;
  for (const auth::AccessRecord& record : log_.records()) {
    if (record.action == auth::AccessAction::kLogin && record.actor == "investigator") ++logins;
  }
  EXPECT_EQ(logins, 1);
}

TEST_F(ApiServerTest, CookieIsSecureWhenServedOverTls) {
  ApiServerOptions tls = options_;
  tls.tls = true;
  ASSERT_NO_FATAL_FAILURE(StartServer(tls));
  EXPECT_THAT(Login("viewer").Header("Set-Cookie"), HasSubstr("; Secure"));
}

// What a valid request to each route looks like. No default: a new route does not compile
// until it has a sample here, and the role test then covers it.
std::string SampleTarget(const Route& route) {
  switch (route.id) {
    case RouteId::kEvents:
      return "/api/events?camera=entrance&limit=5";
    case RouteId::kEventStream:
      return "/api/events/stream?camera=entrance";
    case RouteId::kRecordings:
      return absl::StrCat("/api/cameras/entrance/recordings?from=", kT0, "&to=", kT0 + 60'000);
    case RouteId::kClip:
      return absl::StrCat("/api/cameras/entrance/clip.mp4?from=", kT0, "&to=", kT0 + 20'000);
    case RouteId::kDownload:
      return absl::StrCat("/api/cameras/entrance/download.mp4?from=", kT0, "&to=", kT0 + 20'000,
                          "&case=C-1");
    case RouteId::kSnapshot:
      return absl::StrCat("/api/events/", ApiServerTest::snapshot_event_, "/snapshot.jpg");
    case RouteId::kCounts:
      return absl::StrCat("/api/stats/counts?from=", kT0, "&to=", kT0 + 3'600'000, "&bucket_s=600");
    case RouteId::kTrafficCounts:
      return absl::StrCat("/api/traffic/counts?camera=entrance&line=gate&from=", kT0,
                          "&to=", kT0 + 3'600'000, "&bucket_s=600");
    case RouteId::kLiveJpeg:
      return "/api/cameras/entrance/live.jpg";
    case RouteId::kLiveMjpeg:
      return "/api/cameras/entrance/live.mjpeg";
    case RouteId::kDisableUser:
      return "/api/users/temp/disable";
    case RouteId::kEnableUser:
      return "/api/users/temp/enable";
    case RouteId::kRevokeFaceAuthorisation:
      return "/api/face-authorisations/01ARZ3NDEKTSV4RRFFQ69G5FAV/revoke";
    case RouteId::kRevokeAssembly:
      return "/api/assemblies/01ARZ3NDEKTSV4RRFFQ69G5FAV/revoke";
    case RouteId::kApprove:
      return "/api/approvals/01ARZ3NDEKTSV4RRFFQ69G5FAV/approve";
    case RouteId::kReject:
      return "/api/approvals/01ARZ3NDEKTSV4RRFFQ69G5FAV/reject";
    case RouteId::kReleaseHold:
      return "/api/holds/01ARZ3NDEKTSV4RRFFQ69G5FAV/release";
    case RouteId::kAuditEntries:
      return "/api/audit/entries?from=0&limit=2";
    case RouteId::kAuditProof:
      return "/api/audit/proof?index=1";
    case RouteId::kPublicConsistency:
      return "/public/audit/consistency?from=3";
    case RouteId::kApproveWatchlist:
      return "/api/watchlist/01ARZ3NDEKTSV4RRFFQ69G5FAV/approve";
    case RouteId::kRejectWatchlist:
      return "/api/watchlist/01ARZ3NDEKTSV4RRFFQ69G5FAV/reject";
    case RouteId::kWithdrawWatchlist:
      return "/api/watchlist/01ARZ3NDEKTSV4RRFFQ69G5FAV/withdraw";
    case RouteId::kMatches:
      return "/api/matches?status=lead&camera=entrance&limit=5";
    case RouteId::kMatchCrop:
      return absl::StrCat("/api/matches/", ApiServerTest::match_id_, "/crop.jpg");
    case RouteId::kConfirmMatch:
      return absl::StrCat("/api/matches/", ApiServerTest::match_id_, "/confirm");
    case RouteId::kRejectMatch:
      return absl::StrCat("/api/matches/", ApiServerTest::match_id_, "/reject");
    case RouteId::kPlateReads:
      return "/api/plates/reads?case=C-1&legal_basis=PQ-1&plate=ABC*&camera=entrance&limit=5";
    case RouteId::kPlateReadCrop:
      return absl::StrCat("/api/plates/reads/", ApiServerTest::read_id_,
                          "/crop.jpg?case=C-1&legal_basis=PQ-1");
    case RouteId::kApproveHotlist:
      return "/api/plates/hotlist/01ARZ3NDEKTSV4RRFFQ69G5FAV/approve";
    case RouteId::kRejectHotlist:
      return "/api/plates/hotlist/01ARZ3NDEKTSV4RRFFQ69G5FAV/reject";
    case RouteId::kWithdrawHotlist:
      return "/api/plates/hotlist/01ARZ3NDEKTSV4RRFFQ69G5FAV/withdraw";
    case RouteId::kPlateHits:
      return absl::StrCat("/api/plates/hits?status=lead&camera=entrance&from=0&to=", kT0,
                          "&limit=5");
    case RouteId::kPlateHitCrop:
      return absl::StrCat("/api/plates/hits/", ApiServerTest::hit_id_, "/crop.jpg");
    case RouteId::kConfirmPlateHit:
      return absl::StrCat("/api/plates/hits/", ApiServerTest::hit_id_, "/confirm");
    case RouteId::kRejectPlateHit:
      return absl::StrCat("/api/plates/hits/", ApiServerTest::hit_id_, "/reject");
    case RouteId::kHotlist:
    case RouteId::kProposeHotlist:
    case RouteId::kWatchlist:
    case RouteId::kProposeWatchlist:
    case RouteId::kPolicy:
    case RouteId::kAddLegalBasis:
    case RouteId::kRevokeLegalBasis:
    case RouteId::kAddFaceAuthorisation:
    case RouteId::kAddAssembly:
    case RouteId::kRequestApproval:
    case RouteId::kPlaceHold:
    case RouteId::kPublicCheckpoint:
    case RouteId::kPublicRegisterCsv:
    case RouteId::kPublicStats:
    case RouteId::kUsers:
    case RouteId::kCreateUser:
    case RouteId::kUiConfig:
    case RouteId::kLogin:
    case RouteId::kLogout:
    case RouteId::kMe:
    case RouteId::kCameras:
    case RouteId::kHealth:
    case RouteId::kOpenApi:
    case RouteId::kPublicRegister:
      return std::string(route.path);
  }
  return std::string(route.path);
}

TEST_F(ApiServerTest, EveryRouteAllowsExactlyTheRolesItsPermissionAllows) {
  ASSERT_NO_FATAL_FAILURE(FillStore());
  std::vector<std::optional<Role>> callers = {std::nullopt};
  for (Role role : auth::AllRoles()) {
    if (role != Role::kPublic) callers.push_back(role);
  }
  for (const Route& route : ApiServer::routes()) {
    for (const std::optional<Role>& caller : callers) {
      const std::string who = caller ? std::string(auth::RoleName(*caller)) : "anonymous";
      SCOPED_TRACE(absl::StrCat(Sv(MethodName(route.method)), " ", Sv(route.path), " as ", who));
      httplib::Headers headers;
      if (caller) headers = WithSession(LoginAs(*caller));
      std::string body;
      if (route.id == RouteId::kLogin) {
        body = json({{"username", caller ? who : "viewer"}, {"password", kPassword}}).dump();
      }
      if (route.id == RouteId::kCreateUser) {
        body =
            json({{"username", "new-" + who}, {"password", kPassword}, {"role", "viewer"}}).dump();
      }
      const Reply reply = Call(std::string(MethodName(route.method)), SampleTarget(route), headers,
                               body, route.streams);
      // Allowed callers of policy changes send an empty body here (400) or name an unknown
      // request (404): what matters is that they pass the route's permission check.
      int expected = route.id == RouteId::kCreateUser ? 201 : 200;
      if (route.method == Method::kPost && route.json_body && route.path != "/api/login" &&
          route.id != RouteId::kCreateUser) {
        expected = 400;
      }
      if (route.id == RouteId::kApprove || route.id == RouteId::kApproveWatchlist ||
          route.id == RouteId::kApproveHotlist) {
        expected = 404;
      }
      if (!caller) {
        expected = route.access == Access::kAnyone ? 200 : 401;
      } else if (!auth::Allows(*caller, route.permission)) {
        expected = 403;
      }
      EXPECT_EQ(reply.status, expected) << reply.body;
      if (reply.status >= 400 && !route.streams) {
        EXPECT_FALSE(reply.ErrorMessage().empty()) << reply.body;
      }
    }
  }
}

TEST_F(ApiServerTest, OpenApiDocumentListsExactlyTheRoutesOfTheTable) {
  Reply reply = Call("GET", "/api/openapi.json");
  ASSERT_EQ(reply.status, 200);
  const json doc = reply.Json();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, operations] : doc["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      documented.emplace(absl::AsciiStrToUpper(method), path);
    }
  }
  std::set<std::pair<std::string, std::string>> table;
  for (const Route& route : ApiServer::routes()) {
    table.emplace(std::string(MethodName(route.method)), std::string(route.path));
    SCOPED_TRACE(route.path);
    const std::string method = absl::AsciiStrToLower(std::string(MethodName(route.method)));
    ASSERT_TRUE(doc["paths"].contains(route.path));
    const json& operation = doc["paths"][std::string(route.path)][method];
    // The document states the same access rule and permission as the table...
    EXPECT_EQ(operation["x-custos-access"],
              route.access == Access::kAnyone ? "anyone" : "signed_in");
    EXPECT_EQ(operation["x-custos-permission"], auth::PermissionName(route.permission));
    // ...and the same query parameters.
    std::set<std::string> params;
    for (const json& param : operation.value("parameters", json::array())) {
      if (param["in"] == "query") params.insert(param["name"].get<std::string>());
    }
    EXPECT_EQ(params, std::set<std::string>(route.query_params.begin(), route.query_params.end()));
  }
  EXPECT_EQ(documented, table);
}

TEST_F(ApiServerTest, EventSearchFiltersByCameraTypeLabelZoneAndTime) {
  ASSERT_NO_FATAL_FAILURE(FillStore());
  const httplib::Headers session = WithSession(LoginAs(Role::kInvestigator));
  auto count = [&](const std::string& query) {
    Reply reply = Call("GET", "/api/events?" + query, session);
    EXPECT_EQ(reply.status, 200) << query << ": " << reply.body;
    return reply.Json()["events"].size();
  };
  EXPECT_EQ(count("limit=1000"), 20u);
  EXPECT_EQ(count("camera=yard"), 10u);
  EXPECT_EQ(count("camera=entrance&type=zone_enter"), 5u);
  EXPECT_EQ(count("zone=door"), 5u);
  EXPECT_EQ(count("label=car"), 4u);  // i = 0, 3, 6, 9
  EXPECT_EQ(count(absl::StrCat("from=", kT0 + 2000, "&to=", kT0 + 4000)), 4u);
  EXPECT_EQ(count("camera=nowhere"), 0u);

  Reply one = Call("GET", "/api/events?camera=entrance&type=zone_enter&limit=1", session);
  const json event = one.Json()["events"][0];
  EXPECT_EQ(event["camera"], "entrance");
  EXPECT_EQ(event["type"], "zone_enter");
  EXPECT_EQ(event["zone"], "door");
  EXPECT_EQ(event["time"], "2023-11-14T22:13:21.000Z");
}

TEST_F(ApiServerTest, EventSearchPagesByIdWithoutGapsOrRepeats) {
  ASSERT_NO_FATAL_FAILURE(FillStore());
  const httplib::Headers session = WithSession(LoginAs(Role::kInvestigator));
  std::vector<std::string> ids;
  std::string after;
  int pages = 0;
  while (true) {
    Reply reply =
        Call("GET", "/api/events?limit=6" + (after.empty() ? "" : "&after=" + after), session);
    ASSERT_EQ(reply.status, 200) << reply.body;
    ++pages;
    const json page = reply.Json();
    for (const json& event : page["events"]) ids.push_back(event["id"]);
    if (page["next_after"].is_null()) break;
    after = page["next_after"];
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 4);  // 6 + 6 + 6 + 2
  ASSERT_EQ(ids.size(), 20u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 20u);
}

TEST_F(ApiServerTest, SearchesAndRefusedSearchesAreRecordedInTheAccessLog) {
  EXPECT_EQ(
      Call("GET", "/api/events?camera=yard", WithSession(LoginAs(Role::kInvestigator))).status,
      200);
  EXPECT_EQ(Call("GET", "/api/events", WithSession(LoginAs(Role::kViewer))).status, 403);
  std::vector<std::tuple<std::string, auth::AccessResult, std::string>> searches;
  for (const auth::AccessRecord& record : log_.records()) {
    if (record.action == auth::AccessAction::kSearch) {
      searches.emplace_back(record.actor, record.result, record.object);
    }
  }
  ASSERT_EQ(searches.size(), 2u);
  EXPECT_EQ(std::get<0>(searches[0]), "investigator");
  EXPECT_EQ(std::get<1>(searches[0]), auth::AccessResult::kOk);
  EXPECT_EQ(std::get<2>(searches[0]), "/api/events?camera=yard");
  EXPECT_EQ(std::get<0>(searches[1]), "viewer");
  EXPECT_EQ(std::get<1>(searches[1]), auth::AccessResult::kDenied);
}

TEST_F(ApiServerTest, MalformedRequestsGetA400ThatSaysWhatToFix) {
  const httplib::Headers session = WithSession(LoginAs(Role::kInvestigator));
  struct Case {
    std::string method, target, body, message;
  };
  const std::vector<Case> cases = {
      {"POST", "/api/login", "{\"username\": ", "not valid JSON"},
      {"POST", "/api/login", "[1, 2]", "must be a JSON object"},
      {"POST", "/api/login", "{\"username\": \"viewer\"}", "'password' as a string"},
      {"POST", "/api/login", "{\"username\": \"viewer\", \"password\": 5}", "'password'"},
      {"POST", "/api/login",
       json({{"username", "viewer"}, {"password", kPassword}, {"admin", true}}).dump(),
       "unknown key 'admin'"},
      {"GET", "/api/events?cam=entrance", "", "unknown query parameter 'cam'"},
      {"GET", "/api/me?debug=1", "", "accepts: none"},
      {"GET", "/api/events?limit=0", "", "'limit' must be an integer from 1 to 1000"},
      {"GET", "/api/events?limit=1001", "", "from 1 to 1000"},
      {"GET", "/api/events?limit=ten", "", "'limit'"},
      {"GET", "/api/events?limit=5&limit=6", "", "more than once"},
      {"GET", "/api/events?camera=", "", "is empty"},
      {"GET", "/api/events?camera=../etc", "", "camera id"},
      {"GET", "/api/events?type=explosion", "", "'type' must be one of"},
      {"GET", "/api/events?from=yesterday", "", "milliseconds"},
      {"GET", "/api/events?from=5&to=4", "", "'from' is after 'to'"},
      {"GET", "/api/events?after=not-a-ulid", "", "'after' must be an event id"},
      {"GET", "/api/events/stream?limit=5", "", "unknown query parameter 'limit'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target + " " + c.body);
    Reply reply = Call(c.method, c.target, session, c.body);
    EXPECT_EQ(reply.status, 400) << reply.body;
    EXPECT_EQ(reply.Json()["error"]["code"], "invalid_argument");
    EXPECT_THAT(reply.ErrorMessage(), HasSubstr(c.message));
  }
  // A login body sent as a form (what a cross-site form could send) is refused.
  httplib::Client client = Client();
  httplib::Result form = client.Post("/api/login", "username=viewer", "text/plain");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 400);
  EXPECT_THAT(form->body, HasSubstr("Content-Type: application/json"));
}

TEST_F(ApiServerTest, UnknownPathsWrongMethodsAndHugeBodiesGetJsonErrors) {
  Reply missing = Call("GET", "/api/etc/passwd");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.ErrorMessage(), HasSubstr("/api/openapi.json"));
  Reply traversal = Call("GET", "/public/../api/me");
  EXPECT_NE(traversal.status, 200);
  Reply wrong_method = Call("DELETE", "/api/events");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.Header("Allow"), "GET");
  Reply huge = Call("POST", "/api/login", {}, std::string(200 * 1024, 'x'));
  EXPECT_EQ(huge.status, 413);
  EXPECT_THAT(huge.ErrorMessage(), HasSubstr("too large"));
}

TEST_F(ApiServerTest, LiveViewServesTheNewestFrameAndMjpegPartsAndRecordsTheAccess) {
  const httplib::Headers session = WithSession(LoginAs(Role::kViewer));
  Reply jpeg = Call("GET", "/api/cameras/entrance/live.jpg", session);
  ASSERT_EQ(jpeg.status, 200) << jpeg.body;
  EXPECT_EQ(jpeg.Header("Content-Type"), "image/jpeg");
  EXPECT_EQ(jpeg.body, "\xff\xd8jpeg\xff\xd9");
  EXPECT_EQ(Call("GET", "/api/cameras/yard/live.jpg", session).status, 503);  // No frame.
  EXPECT_EQ(Call("GET", "/api/cameras/nowhere/live.jpg", session).status, 404);

  // Two MJPEG parts arrive, each with its headers and the JPEG.
  httplib::Client client = Client();
  std::string body;
  std::string content_type;
  client.Get(
      "/api/cameras/entrance/live.mjpeg", session,
      [&](const httplib::Response& res) {
        content_type = res.get_header_value("Content-Type");
        return true;
      },
      [&](const char* data, size_t size) {
        body.append(data, size);
        return body.find("--custosframe", body.find("--custosframe") + 1) == std::string::npos ||
               body.size() < 200;
      });
  EXPECT_EQ(content_type, "multipart/x-mixed-replace; boundary=custosframe");
  EXPECT_THAT(body, HasSubstr("--custosframe\r\nContent-Type: image/jpeg\r\nContent-Length: 8\r\n"
                              "\r\n\xff\xd8jpeg\xff\xd9\r\n"));
  int live_records = 0;
  for (const auth::AccessRecord& r : log_.records()) {
    if (r.action == auth::AccessAction::kLiveView && r.actor == "viewer" &&
        r.result == auth::AccessResult::kOk) {
      ++live_records;
    }
  }
  EXPECT_GE(live_records, 2);
}

TEST_F(ApiServerTest, TimelineMergesSegmentsIntoSpans) {
  const httplib::Headers session = WithSession(LoginAs(Role::kInvestigator));
  Reply reply =
      Call("GET",
           absl::StrCat("/api/cameras/entrance/recordings?from=", kT0 - 1000, "&to=", kT0 + 60'000),
           session);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json doc = reply.Json();
  ASSERT_EQ(doc["spans"].size(), 2u);
  EXPECT_EQ(doc["spans"][0]["start_ms"], kT0);
  EXPECT_EQ(doc["spans"][0]["end_ms"], kT0 + 20'000);
  EXPECT_EQ(doc["spans"][1]["start_ms"], kT0 + 30'000);
  EXPECT_EQ(doc["segments"].size(), 3u);
  Reply too_long =
      Call("GET", absl::StrCat("/api/cameras/entrance/recordings?from=0&to=", kT0), session);
  EXPECT_EQ(too_long.status, 400);
  EXPECT_THAT(too_long.ErrorMessage(), HasSubstr("at most"));
}

TEST_F(ApiServerTest, ClipsStreamTheFileWithRangesAndDownloadsAreAttachments) {
  const httplib::Headers session = WithSession(LoginAs(Role::kInvestigator));
  const std::string range = absl::StrCat("?from=", kT0, "&to=", kT0 + 20'000);
  Reply clip = Call("GET", "/api/cameras/entrance/clip.mp4" + range, session);
  ASSERT_EQ(clip.status, 200) << clip.body;
  EXPECT_EQ(clip.body, "0123456789");
  EXPECT_EQ(clip.Header("Content-Type"), "video/mp4");
  EXPECT_EQ(clip.Header("X-Custos-SHA256"), "abc");
  EXPECT_EQ(clip.Header("Content-Disposition"), "");
  httplib::Headers ranged = session;
  ranged.emplace("Range", "bytes=2-5");
  Reply part = Call("GET", "/api/cameras/entrance/clip.mp4" + range, ranged);
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "2345");
  Reply download = Call("GET", "/api/cameras/entrance/download.mp4" + range + "&case=C-1", session);
  ASSERT_EQ(download.status, 200) << download.body;
  const std::string export_id = download.Header("X-Custos-Export-Id");
  EXPECT_EQ(export_id.size(), 26u);
  EXPECT_THAT(download.Header("Content-Disposition"),
              HasSubstr(absl::StrCat("attachment; filename=\"custos-entrance-", kT0, "-", export_id,
                                     ".mp4\"")));
  EXPECT_EQ(download.body, "blurred:" + export_id);
  // The temporary files are gone once sent.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_FALSE(absl::StartsWith(entry.path().filename().string(), "clip-")) << entry.path();
    EXPECT_FALSE(absl::StartsWith(entry.path().filename().string(), "export-")) << entry.path();
  }
  Reply nothing =
      Call("GET",
           absl::StrCat("/api/cameras/entrance/clip.mp4?from=", kT0 - 99'000, "&to=", kT0 - 90'000),
           session);
  EXPECT_EQ(nothing.status, 404);
  EXPECT_EQ(Call("GET", "/api/cameras/entrance/clip.mp4", session).status, 400);  // No from.
  std::set<auth::AccessAction> actions;
  for (const auth::AccessRecord& r : log_.records()) {
    if (r.actor == "investigator") actions.insert(r.action);
  }
  EXPECT_TRUE(actions.contains(auth::AccessAction::kPlayback));
  EXPECT_TRUE(actions.contains(auth::AccessAction::kDownload));
}

TEST_F(ApiServerTest, SnapshotsComeFromTheSnapshotFolderOnly) {
  ASSERT_NO_FATAL_FAILURE(FillStore());
  const httplib::Headers session = WithSession(LoginAs(Role::kOperator));
  Reply ok = Call("GET", absl::StrCat("/api/events/", snapshot_event_, "/snapshot.jpg"), session);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, "snapshot-bytes");
  Reply escaping =
      Call("GET", absl::StrCat("/api/events/", escaping_event_, "/snapshot.jpg"), session);
  EXPECT_EQ(escaping.status, 404);
  EXPECT_THAT(escaping.body, Not(HasSubstr("outside the web root")));
  EXPECT_EQ(Call("GET", "/api/events/not-a-ulid/snapshot.jpg", session).status, 400);
}

TEST_F(ApiServerTest, CountsFillEveryBucketPerLabel) {
  ASSERT_NO_FATAL_FAILURE(FillStore());
  const httplib::Headers session = WithSession(LoginAs(Role::kOperator));
  // FillStore: track_start at kT0 + 0, 2, 4, 6, 8 s on entrance (car at 0 and 6) and at every
  // second on yard; buckets of 60 s over 3 minutes.
  const int64_t from = kT0 - kT0 % 60'000;
  Reply reply = Call("GET",
                     absl::StrCat("/api/stats/counts?camera=entrance&from=", from,
                                  "&to=", from + 180'000, "&bucket_s=60"),
                     session);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json doc = reply.Json();
  ASSERT_EQ(doc["buckets"].size(), 3u);
  EXPECT_EQ(doc["labels"], json::array({"car", "person"}));
  int64_t cars = 0, persons = 0;
  for (const json& b : doc["buckets"]) {
    cars += b["counts"]["car"].get<int64_t>();
    persons += b["counts"]["person"].get<int64_t>();
  }
  EXPECT_EQ(cars, 2);
  EXPECT_EQ(persons, 3);
  EXPECT_EQ(Call("GET", "/api/stats/counts?bucket_s=5", session).status, 400);
}

TEST_F(ApiServerTest, TrafficCountsGiveEverySeriesInEveryBucketWithMeanSpeeds) {
  const int64_t from = kT0 - kT0 % 60'000;
  auto crossing = [](int64_t t, const std::string& line, const std::string& direction,
                     const std::string& label, double kmh) {
    Event e;
    e.id = NewUlid(t);
    e.camera = "entrance";
    e.time_ms = t;
    e.type = EventType::kLineCross;
    e.zone = line;
    e.direction = direction;
    e.label = label;
    e.speed_kmh = kmh;
    return e;
  };
  ASSERT_TRUE(store_
                  ->Append({crossing(from + 1'000, "gate", "in", "car", 40),
                            crossing(from + 2'000, "gate", "in", "car", 50.04),
                            crossing(from + 3'000, "gate", "in", "car", 0),
                            crossing(from + 4'000, "gate", "out", "truck", 0),
                            crossing(from + 130'000, "gate", "out", "truck", 30),
                            crossing(from + 5'000, "road", "in", "car", 70),
                            // People are not traffic: not counted here.
                            crossing(from + 6'000, "gate", "in", "person", 0),
                            crossing(from + 7'000, "road", "out", "person", 0)})
                  .ok());
  const httplib::Headers session = WithSession(LoginAs(Role::kOperator));
  Reply reply = Call("GET",
                     absl::StrCat("/api/traffic/counts?camera=entrance&line=gate&from=", from + 5,
                                  "&to=", from + 180'000, "&bucket_s=60"),
                     session);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json doc = reply.Json();
  EXPECT_EQ(doc["camera"], "entrance");
  EXPECT_EQ(doc["bucket_ms"], 60'000);
  EXPECT_EQ(doc["from_ms"], from);  // Aligned down to a whole bucket.
  EXPECT_EQ(doc["to_ms"], from + 180'000);
  EXPECT_EQ(doc["speed_advisory"], true);
  EXPECT_EQ(doc["series"], json::parse(R"([{"line": "gate", "direction": "in", "label": "car"},
                                            {"line": "gate", "direction": "out", "label": "truck"}])"));
  ASSERT_EQ(doc["buckets"].size(), 3u);
  EXPECT_EQ(doc["buckets"][0]["start_ms"], from);
  EXPECT_EQ(doc["buckets"][0]["counts"], json::array({3, 1}));
  EXPECT_EQ(doc["buckets"][0]["mean_speed_kmh"], json::array({45.0, nullptr}));
  EXPECT_EQ(doc["buckets"][1]["counts"], json::array({0, 0}));
  EXPECT_EQ(doc["buckets"][1]["mean_speed_kmh"], json::array({nullptr, nullptr}));
  EXPECT_EQ(doc["buckets"][2]["counts"], json::array({0, 1}));
  EXPECT_EQ(doc["buckets"][2]["mean_speed_kmh"], json::array({nullptr, 30.0}));

  // Every line of every camera without filters; the same parameter rules as /api/stats/counts.
  Reply all =
      Call("GET", absl::StrCat("/api/traffic/counts?from=", from, "&to=", from + 60'000), session);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_TRUE(all.Json()["camera"].is_null());
  EXPECT_EQ(all.Json()["series"].size(), 3u);
  EXPECT_EQ(all.Json()["buckets"].size(), 1u);  // Default bucket 1 h, range 1 min.
  EXPECT_EQ(Call("GET", "/api/traffic/counts?bucket_s=5", session).status, 400);
  EXPECT_EQ(Call("GET", "/api/traffic/counts?camera=nowhere", session).status, 404);
  EXPECT_EQ(Call("GET", "/api/traffic/counts?type=line_cross", session).status, 400);
  const int64_t too_long = int64_t{1001} * 3'600'000;  // More than 1000 buckets of 1 h.
  EXPECT_EQ(
      Call("GET", absl::StrCat("/api/traffic/counts?from=", from, "&to=", from + too_long), session)
          .status,
      400);
  EXPECT_EQ(Call("GET", "/api/traffic/counts?line=" + std::string(129, 'x'), session).status, 400);
  EXPECT_EQ(Call("GET", "/api/traffic/counts", WithSession(LoginAs(Role::kViewer))).status, 403);
}

TEST_F(ApiServerTest, AdminCreatesDisablesAndEnablesUsers) {
  const SessionCreds admin = LoginAs(Role::kAdmin);
  Reply created =
      Call("POST", "/api/users", WithSession(admin),
           json({{"username", "alice"}, {"password", kPassword}, {"role", "operator"}}).dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json()["role"], "operator");
  EXPECT_EQ(
      Call("POST", "/api/users", WithSession(admin),
           json({{"username", "alice"}, {"password", kPassword}, {"role", "operator"}}).dump())
          .status,
      409);
  Reply bad_role =
      Call("POST", "/api/users", WithSession(admin),
           json({{"username", "bob"}, {"password", kPassword}, {"role", "god"}}).dump());
  EXPECT_EQ(bad_role.status, 400);
  EXPECT_THAT(bad_role.ErrorMessage(), HasSubstr("unknown role"));
  EXPECT_EQ(Login("alice").status, 200);
  ASSERT_EQ(Call("POST", "/api/users/alice/disable", WithSession(admin)).status, 200);
  EXPECT_EQ(Login("alice").status, 401);
  Reply list = Call("GET", "/api/users", WithSession(admin));
  ASSERT_EQ(list.status, 200) << list.body;
  bool found = false;
  const json users = list.Json()["users"];
  for (const json& u : users) {
    if (u["username"] == "alice") {
      found = true;
      EXPECT_EQ(u["disabled"], true);
    }
  }
  EXPECT_TRUE(found) << list.body;
  ASSERT_EQ(Call("POST", "/api/users/alice/enable", WithSession(admin)).status, 200);
  EXPECT_EQ(Login("alice").status, 200);
  EXPECT_EQ(Call("POST", "/api/users/nobody/disable", WithSession(admin)).status, 404);
}

TEST_F(ApiServerTest, WebUiFilesAreServedWithAStrictPolicyAndNoWayOut) {
  Reply index = Call("GET", "/");
  ASSERT_EQ(index.status, 200);
  EXPECT_THAT(index.body, HasSubstr("<title>Custos</title>"));
  EXPECT_THAT(index.Header("Content-Type"), HasSubstr("text/html"));
  const std::string csp = index.Header("Content-Security-Policy");
  EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
  EXPECT_THAT(csp, HasSubstr("img-src 'self' data: blob: https://*.tiles.example"));
  // Client-side routes get index.html; files by name.
  EXPECT_THAT(Call("GET", "/live").body, HasSubstr("<title>Custos</title>"));
  Reply js = Call("GET", "/assets/app.js");
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_THAT(js.Header("Content-Type"), HasSubstr("text/javascript"));
  for (const char* escape : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                             "/assets/..%2f..%2fsecret.txt", "/.hidden.txt", "/nothing.js"}) {
    Reply reply = Call("GET", escape);
    EXPECT_THAT(reply.body, Not(HasSubstr("outside the web root"))) << escape;
    EXPECT_NE(reply.Header("Content-Type"), "text/plain; charset=utf-8") << escape;
  }
  Reply ui = Call("GET", "/public/ui.json");
  ASSERT_EQ(ui.status, 200);
  EXPECT_EQ(ui.Json()["site_name"], "Test City");
  EXPECT_EQ(ui.Json()["map"]["center"][0], 52.52);  // The only camera with a location.
}

TEST_F(ApiServerTest, CameraCredentialsNeverAppearInAnyResponse) {
  ASSERT_NO_FATAL_FAILURE(FillStore());
  std::vector<httplib::Headers> callers = {{}};
  for (Role role : auth::AllRoles()) {
    if (role != Role::kPublic) callers.push_back(WithSession(LoginAs(role)));
  }
  int bodies = 0;
  for (const Route& route : ApiServer::routes()) {
    if (route.streams) continue;  // Carries events only; covered by the event JSON.
    for (const httplib::Headers& headers : callers) {
      const std::string body = route.id == RouteId::kLogin
                                   ? json({{"username", "admin"}, {"password", kPassword}}).dump()
                                   : "";
      Reply reply = Call(std::string(MethodName(route.method)), SampleTarget(route), headers, body);
      EXPECT_FALSE(absl::StrContains(reply.body, "secret")) << route.path;
      for (const auto& [name, value] : reply.headers) {
        EXPECT_FALSE(absl::StrContains(value, "secret")) << route.path << " header " << name;
      }
      ++bodies;
    }
  }
  EXPECT_GT(bodies, 0);
  // The administrator does see where each camera is, minus the credentials.
  Reply admin = Call("GET", "/api/cameras", WithSession(LoginAs(Role::kAdmin)));
  EXPECT_EQ(admin.Json()["cameras"][0]["url"], "rtsp://user:***@10.0.0.5:554/stream1?password=***");
  Reply viewer = Call("GET", "/api/cameras", WithSession(LoginAs(Role::kViewer)));
  EXPECT_FALSE(viewer.Json()["cameras"][0].contains("url"));
  EXPECT_EQ(viewer.Json()["cameras"][0]["location"]["lat"], 52.52);
}

TEST_F(ApiServerTest, RepeatedFailedLoginsAreRateLimitedWith429) {
  for (int i = 0; i < 5; ++i) {
    Reply reply = Login("viewer", "not the password at all");
    EXPECT_EQ(reply.status, 401);
    EXPECT_THAT(reply.ErrorMessage(), HasSubstr("wrong username or password"));
  }
  Reply limited = Login("viewer");  // Even the right password is refused now.
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Json()["error"]["code"], "resource_exhausted");
  EXPECT_THAT(limited.ErrorMessage(), HasSubstr("try again in"));
  clock_.AdvanceMs(61 * 1000);
  EXPECT_EQ(Login("viewer").status, 200) << "the lockout ends with the clock";
}

TEST_F(ApiServerTest, ApiTokensAuthenticateWithoutCsrfAndBadTokensGet401) {
  absl::StatusOr<auth::NewApiToken> token =
      auth_->CreateApiToken(kRoot, {.name = "exporter", .role = Role::kInvestigator});
  ASSERT_TRUE(token.ok()) << token.status();
  const httplib::Headers bearer = {{"Authorization", "Bearer " + token->token}};
  Reply me = Call("GET", "/api/me", bearer);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json()["user"], "token:exporter");
  EXPECT_EQ(me.Json()["kind"], "api_token");
  EXPECT_FALSE(me.Json().contains("csrf_token"));
  EXPECT_EQ(Call("GET", "/api/events", bearer).status, 200);
  // POST without a CSRF token is not refused for lack of one; a token has no session to end.
  Reply logout = Call("POST", "/api/logout", bearer);
  EXPECT_EQ(logout.status, 400);
  EXPECT_THAT(logout.ErrorMessage(), HasSubstr("revokes a token"));

  EXPECT_EQ(Call("GET", "/api/me", {{"Authorization", "Bearer cst_nope"}}).status, 401);
  Reply basic = Call("GET", "/api/me", {{"Authorization", "Basic dmlld2VyOng="}});
  EXPECT_EQ(basic.status, 401);
  EXPECT_THAT(basic.ErrorMessage(), HasSubstr("Bearer"));
}

TEST_F(ApiServerTest, EventStreamDeliversAPublishedEventWithinOneSecond) {
  const SessionCreds operator_creds = LoginAs(Role::kOperator);
  const Event wanted = MakeEvent(kT0, "entrance", EventType::kZoneEnter, "person", "door");
  std::atomic<bool> received{false};
  std::string stream;
  std::thread reader([&] {
    httplib::Client client = Client();
    // Browsers ask for compression; the stream must not be held back in a compressor.
    httplib::Headers headers = WithSession(operator_creds);
    headers.emplace("Accept-Encoding", "gzip, deflate, br");
    client.Get("/api/events/stream?camera=entrance", headers, [&](const char* data, size_t size) {
      stream.append(data, size);
      if (absl::StrContains(stream, wanted.id)) {
        received = true;
        return false;
      }
      return true;
    });
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (bus_.subscriber_count() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(bus_.subscriber_count(), 1u);
  // A heartbeat arrives on the idle stream first (heartbeat 100 ms in this fixture).
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const auto published = std::chrono::steady_clock::now();
  bus_.Publish(MakeEvent(kT0, "yard", EventType::kTrackStart, "person"));  // Filtered out.
  bus_.Publish(wanted);
  while (!received && std::chrono::steady_clock::now() - published < std::chrono::seconds(3)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const auto latency = std::chrono::steady_clock::now() - published;
  reader.join();
  ASSERT_TRUE(received) << stream;
  EXPECT_LT(latency, std::chrono::seconds(1));
  EXPECT_THAT(stream, HasSubstr(": heartbeat"));
  EXPECT_THAT(stream, HasSubstr("event: event\ndata: {"));
  EXPECT_THAT(stream, HasSubstr("id: " + wanted.id));
  EXPECT_THAT(stream, ::testing::Not(HasSubstr("\"yard\"")));
}

TEST_F(ApiServerTest, EventStreamsAreLimitedAndStopEndsThem) {
  const SessionCreds creds = LoginAs(Role::kOperator);
  std::vector<std::thread> readers;
  std::atomic<int> ended{0};
  for (int i = 0; i < options_.max_event_streams; ++i) {
    readers.emplace_back([&] {
      httplib::Client client = Client();
      client.Get("/api/events/stream", WithSession(creds),
                 [](const char*, size_t) { return true; });
      ++ended;
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (bus_.subscriber_count() < static_cast<size_t>(options_.max_event_streams) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Reply refused = Call("GET", "/api/events/stream", WithSession(creds));
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.ErrorMessage(), HasSubstr("too many event streams"));

  const auto stop_start = std::chrono::steady_clock::now();
  server_->Stop();
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(ended, options_.max_event_streams);
  EXPECT_LT(std::chrono::steady_clock::now() - stop_start, std::chrono::seconds(4));
}

TEST_F(ApiServerTest, PublicRegisterListsEveryCameraWithoutLogin) {
  ApiServerOptions options = options_;
  options.register_operator = "City of Example, Public Order Office";
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  Reply reply = Call("GET", "/public/register.json");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json doc = reply.Json();
  EXPECT_EQ(doc["operator"], "City of Example, Public Order Office");
  ASSERT_EQ(doc["cameras"].size(), 2u);
  const json& entrance = doc["cameras"][0];
  EXPECT_EQ(entrance["id"], "entrance");
  EXPECT_EQ(entrance["location"]["lon"], 13.405);
  EXPECT_EQ(entrance["capabilities"]["zones"], json::array({"door"}));
  EXPECT_EQ(entrance["capabilities"]["loitering_alerts"], true);
  EXPECT_EQ(entrance["capabilities"]["face_recognition"], false);
  EXPECT_EQ(entrance["capabilities"]["plate_recognition"], true);
  EXPECT_EQ(entrance["retention"]["plate_reads_hours"], 72);
  EXPECT_EQ(doc["cameras"][1]["capabilities"]["plate_recognition"], false);
  EXPECT_TRUE(doc["cameras"][1]["retention"]["plate_reads_hours"].is_null());
  EXPECT_EQ(entrance["purpose"], "safety at the main entrance");
  EXPECT_EQ(entrance["recording"], "events");
  EXPECT_TRUE(doc["cameras"][1]["purpose"].is_null());
  EXPECT_EQ(doc["cameras"][1]["recording"], "continuous");
  EXPECT_TRUE(doc["cameras"][1]["location"].is_null());
  EXPECT_EQ(doc["cameras"][1]["enabled"], false);
  EXPECT_FALSE(entrance.contains("url"));
}

TEST_F(ApiServerTest, HealthReportsTheProvidersNumbers) {
  Reply reply = Call("GET", "/api/health", WithSession(LoginAs(Role::kOperator)));
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json doc = reply.Json();
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_EQ(doc["cameras"][0]["camera"], "entrance");
  EXPECT_EQ(doc["cameras"][0]["fps"], 4.5);
  EXPECT_EQ(doc["cameras"][0]["frames_dropped"], 3);
  EXPECT_EQ(doc["cameras"][0]["reconnects"], 1);
  EXPECT_EQ(doc["disks"][0]["free_bytes"], 400);
  EXPECT_EQ(doc["plates"]["crops_offered"], 40);
  EXPECT_EQ(doc["plates"]["crops_dropped"], 2);
  EXPECT_EQ(doc["plates"]["reads_stored"], 5);
  EXPECT_EQ(doc["plates"]["last_error"], "");
}

TEST_F(ApiServerTest, CreateRefusesMissingDependenciesAndStartTwiceIsAnError) {
  EXPECT_EQ(ApiServer::Create({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server_->Start().code(), absl::StatusCode::kFailedPrecondition);
}

// A legal basis covering every act at every camera, in force for a day from `now`.
policy::LegalBasis Basis(const std::string& reference, policy::LegalBasisType type,
                         const std::string& authority, int64_t now) {
  policy::LegalBasis basis;
  basis.reference = reference;
  basis.type = type;
  basis.issuing_authority = authority;
  basis.valid_from_ms = now - 1;
  basis.expires_ms = now + 86'400'000;
  return basis;
}

// A legal basis covering every act at every camera, valid for a year from the fake clock.
json BasisBody(const std::string& reference, int64_t now) {
  return {{"reference", reference},
          {"type", "court_order"},
          {"issuing_authority", "District Court"},
          {"valid_from_ms", now - 1000},
          {"expires_ms", now + 365LL * 24 * 3'600'000}};
}

TEST_F(ApiServerTest, PolicyRequestsNeedALegalBasisAndASecondPerson) {
  const int64_t now = clock_.WallMs();
  ASSERT_TRUE(auth_->CreateUser(kRoot, {"sam", kPassword, Role::kSupervisor}).ok());
  const httplib::Headers admin = WithSession(LoginAs(Role::kAdmin));
  const httplib::Headers investigator = WithSession(LoginAs(Role::kInvestigator));
  const httplib::Headers supervisor = WithSession(LoginAs(Role::kSupervisor));
  const json request = {{"kind", "unblurred_export"},
                        {"object_id", "export-1"},
                        {"legal_basis_ref", "Case 2026/17"},
                        {"camera", "entrance"},
                        {"reason", "identify the suspect of the 3 March robbery"}};

  // No such legal basis yet: refused, with the reason.
  Reply refused = Call("POST", "/api/approvals", investigator, request.dump());
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_THAT(refused.ErrorMessage(), HasSubstr("Case 2026/17"));

  // Malformed records get a 400 that names the field.
  json bad = BasisBody("Case 2026/17", now);
  bad["expires_ms"] = "next year";
  Reply malformed = Call("POST", "/api/legal-bases", admin, bad.dump());
  EXPECT_EQ(malformed.status, 400);
  EXPECT_THAT(malformed.ErrorMessage(), HasSubstr("expires_ms"));
  bad = BasisBody("Case 2026/17", now);
  bad["created_by"] = "someone else";
  EXPECT_EQ(Call("POST", "/api/legal-bases", admin, bad.dump()).status, 400);
  // Only the admin manages policies.
  EXPECT_EQ(Call("POST", "/api/legal-bases", investigator, BasisBody("X", now).dump()).status, 403);

  Reply basis = Call("POST", "/api/legal-bases", admin, BasisBody("Case 2026/17", now).dump());
  ASSERT_EQ(basis.status, 201) << basis.body;
  EXPECT_EQ(basis.Json()["created_by"], "admin");

  Reply made = Call("POST", "/api/approvals", investigator, request.dump());
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id = made.Json()["id"];
  EXPECT_EQ(made.Json()["status"], "pending");

  // The requester's own supervisor role would not help: a supervisor's own request cannot be
  // approved by the same supervisor.
  json own = request;
  own["object_id"] = "export-2";
  Reply own_made = Call("POST", "/api/approvals", supervisor, own.dump());
  ASSERT_EQ(own_made.status, 201) << own_made.body;
  Reply self = Call(
      "POST", absl::StrCat("/api/approvals/", own_made.Json()["id"].get<std::string>(), "/approve"),
      supervisor);
  EXPECT_EQ(self.status, 403);
  EXPECT_THAT(self.ErrorMessage(), HasSubstr("yourself"));
  // Investigators cannot approve at all.
  EXPECT_EQ(Call("POST", absl::StrCat("/api/approvals/", id, "/approve"), investigator).status,
            403);

  Reply approved = Call("POST", absl::StrCat("/api/approvals/", id, "/approve"), supervisor);
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(approved.Json()["status"], "approved");
  EXPECT_EQ(approved.Json()["decided_by"], "supervisor");
  // Decided once: a second supervisor cannot reject it afterwards.
  Reply sam = Login("sam");
  const std::string sam_cookie = sam.Header("Set-Cookie");
  const SessionCreds sam_creds{sam_cookie.substr(0, sam_cookie.find(';')),
                               sam.Json().value("csrf_token", "")};
  Reply twice = Call("POST", absl::StrCat("/api/approvals/", id, "/reject"), WithSession(sam_creds),
                     json({{"reason", "too late"}}).dump());
  EXPECT_EQ(twice.status, 400) << twice.body;
  EXPECT_THAT(twice.ErrorMessage(), HasSubstr("already approved"));

  // The auditor sees the records; a viewer does not.
  Reply listed = Call("GET", "/api/policy", WithSession(LoginAs(Role::kAuditor)));
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.Json()["legal_bases"].size(), 2u);  // This test's and the fixture's PQ-1.
  EXPECT_EQ(listed.Json()["approvals"].size(), 2u);
  EXPECT_EQ(Call("GET", "/api/policy", WithSession(LoginAs(Role::kViewer))).status, 403);

  // Every change and every refusal reached the auditor.
  int refusals = 0;
  int changes = 0;
  for (const policy::PolicyChange& change : policy_auditor_.records()) {
    (change.result == policy::PolicyResult::kDenied ? refusals : changes)++;
  }
  EXPECT_GE(refusals, 2);  // No basis; self-approval.
  EXPECT_EQ(changes, 4);   // Basis, two requests, one approval.
}

TEST_F(ApiServerTest, FaceRecognitionShowsInTheRegisterOnlyUnderAnAuthorisationOutsideAssemblies) {
  const int64_t now = clock_.WallMs();
  const httplib::Headers admin = WithSession(LoginAs(Role::kAdmin));
  const httplib::Headers supervisor = WithSession(LoginAs(Role::kSupervisor));
  auto face_on = [this](const std::string& camera) {
    const json reg = Call("GET", "/public/register.json").Json();
    for (const json& c : reg["cameras"]) {
      if (c["id"] == camera) return c["capabilities"]["face_recognition"].get<bool>();
    }
    ADD_FAILURE() << camera;
    return true;
  };
  EXPECT_FALSE(face_on("entrance"));

  ASSERT_EQ(Call("POST", "/api/legal-bases", admin, BasisBody("Order 7", now).dump()).status, 201);
  Reply request = Call("POST", "/api/approvals", admin,
                       json({{"kind", "face_authorisation"},
                             {"object_id", "Missing child, May 2026"},
                             {"legal_basis_ref", "Order 7"},
                             {"reason", "search for a missing child near the entrance"}})
                           .dump());
  ASSERT_EQ(request.status, 201) << request.body;
  const std::string approval = request.Json()["id"];
  // Without the approval the authorisation is refused.
  json authorisation = {{"name", "Missing child, May 2026"},
                        {"legal_basis_ref", "Order 7"},
                        {"approval_id", approval},
                        {"cameras", {"entrance"}},
                        {"start_ms", now - 1000},
                        {"end_ms", now + 3'600'000},
                        {"purpose", "missing_person"},
                        {"issuing_authority", "District Court"},
                        {"expires_ms", now + 3'600'000}};
  Reply early = Call("POST", "/api/face-authorisations", admin, authorisation.dump());
  EXPECT_EQ(early.status, 403) << early.body;
  EXPECT_FALSE(face_on("entrance"));

  ASSERT_EQ(Call("POST", absl::StrCat("/api/approvals/", approval, "/approve"), supervisor).status,
            200);
  Reply added = Call("POST", "/api/face-authorisations", admin, authorisation.dump());
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_TRUE(face_on("entrance"));
  EXPECT_FALSE(face_on("yard"));

  // A protected assembly at the entrance switches it off, whatever the authorisation says.
  Reply assembly = Call("POST", "/api/assemblies", admin,
                        json({{"name", "May Day march"},
                              {"kind", "demonstration"},
                              {"targets", {{{"camera", "entrance"}}}},
                              {"start_ms", now - 1000},
                              {"end_ms", now + 600'000}})
                            .dump());
  ASSERT_EQ(assembly.status, 201) << assembly.body;
  EXPECT_FALSE(face_on("entrance"));
  clock_.AdvanceMs(601'000);  // The march is over.
  EXPECT_TRUE(face_on("entrance"));
  ASSERT_EQ(Call("POST",
                 absl::StrCat("/api/face-authorisations/", added.Json()["id"].get<std::string>(),
                              "/revoke"),
                 admin, json({{"reason", "child found"}}).dump())
                .status,
            200);
  EXPECT_FALSE(face_on("entrance"));
}

TEST_F(ApiServerTest, ExportsAreBlurredUnlessApprovedAndGoOnRecordWithTheirHash) {
  const int64_t now = clock_.WallMs();
  const httplib::Headers investigator = WithSession(LoginAs(Role::kInvestigator));
  const std::string range = absl::StrCat("?from=", kT0, "&to=", kT0 + 20'000);
  const std::string url = "/api/cameras/entrance/download.mp4" + range;

  Reply no_case = Call("GET", url, investigator);
  EXPECT_EQ(no_case.status, 400);
  EXPECT_THAT(no_case.ErrorMessage(), HasSubstr("case="));

  const uint64_t before = audit_->size();
  Reply blurred = Call("GET", url + "&case=C-17", investigator);
  ASSERT_EQ(blurred.status, 200) << blurred.body;
  ASSERT_EQ(exports_.size(), 1u);
  EXPECT_TRUE(exports_[0].blur);
  EXPECT_EQ(exports_[0].export_id, blurred.Header("X-Custos-Export-Id"));
  ASSERT_EQ(audit_->size(), before + 1);
  absl::StatusOr<std::vector<audit::StoredEntry>> logged = audit_->ScanForStatistics(before, 1);
  ASSERT_TRUE(logged.ok());
  const json entry = json::parse((*logged)[0].json);
  EXPECT_EQ(entry["action"], "export");
  EXPECT_EQ(entry["object"], exports_[0].export_id);
  EXPECT_EQ(entry["purpose"], "C-17");
  EXPECT_EQ(entry["details"]["sha256"], std::string(64, 'e'));
  EXPECT_EQ(entry["details"]["blurred"], true);

  // Unblurred: refused without an approval, and with one for another range.
  Reply refused = Call("GET", url + "&case=C-17&unblurred=1", investigator);
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.ErrorMessage(), HasSubstr(ExportObject("entrance", kT0, kT0 + 20'000)));
  ASSERT_TRUE(policy_
                  ->AddLegalBasis(
                      kRoot, Basis("Order 9", policy::LegalBasisType::kCourtOrder, "Court", now))
                  .ok());
  Reply request = Call("POST", "/api/approvals", investigator,
                       json({{"kind", "unblurred_export"},
                             {"object_id", ExportObject("entrance", kT0, kT0 + 20'000)},
                             {"legal_basis_ref", "Order 9"},
                             {"camera", "entrance"},
                             {"reason", "the court asked for the unblurred clip"}})
                           .dump());
  ASSERT_EQ(request.status, 201) << request.body;
  const std::string approval = request.Json()["id"];
  Reply pending = Call("GET", url + "&case=C-17&unblurred=1&approval=" + approval, investigator);
  EXPECT_EQ(pending.status, 403);
  EXPECT_THAT(pending.ErrorMessage(), HasSubstr("waiting for a supervisor"));
  ASSERT_EQ(Call("POST", absl::StrCat("/api/approvals/", approval, "/approve"),
                 WithSession(LoginAs(Role::kSupervisor)))
                .status,
            200);
  Reply other_range =
      Call("GET",
           absl::StrCat("/api/cameras/entrance/download.mp4?from=", kT0, "&to=", kT0 + 30'000,
                        "&case=C-17&unblurred=1&approval=", approval),
           investigator);
  EXPECT_EQ(other_range.status, 403);
  Reply clear = Call("GET", url + "&case=C-17&unblurred=1&approval=" + approval, investigator);
  ASSERT_EQ(clear.status, 200) << clear.body;
  EXPECT_FALSE(exports_.back().blur);
  EXPECT_THAT(clear.body, ::testing::StartsWith("clear:"));
  logged = audit_->ScanForStatistics(audit_->size() - 1, 1);
  ASSERT_TRUE(logged.ok());
  EXPECT_EQ(json::parse((*logged)[0].json)["legal_basis"], "Order 9");
}

TEST_F(ApiServerTest, PlaybackOlderThanADayNeedsALegalBasis) {
  clock_.AdvanceMs(2 * 86'400'000LL);  // The recordings are two days old now.
  const httplib::Headers investigator = WithSession(LoginAs(Role::kInvestigator));
  const std::string url =
      absl::StrCat("/api/cameras/entrance/clip.mp4?from=", kT0, "&to=", kT0 + 20'000);
  Reply refused = Call("GET", url, investigator);
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.ErrorMessage(), HasSubstr("legal_basis="));
  Reply unknown = Call("GET", url + "&legal_basis=Nope", investigator);
  EXPECT_EQ(unknown.status, 403);
  EXPECT_THAT(unknown.ErrorMessage(), HasSubstr("Nope"));
  const int64_t now = clock_.WallMs();
  ASSERT_TRUE(
      policy_
          ->AddLegalBasis(kRoot, Basis("Case 12", policy::LegalBasisType::kCase, "Prosecutor", now))
          .ok());
  Reply allowed = Call("GET", url + "&legal_basis=Case%2012", investigator);
  EXPECT_EQ(allowed.status, 200) << allowed.body;
}

TEST_F(ApiServerTest, AuditorReadsTheLogAndEveryReadIsItselfLogged) {
  const httplib::Headers auditor = WithSession(LoginAs(Role::kAuditor));
  const uint64_t before = audit_->size();
  Reply read = Call("GET", "/api/audit/entries?from=0&limit=3", auditor);
  ASSERT_EQ(read.status, 200) << read.body;
  ASSERT_EQ(read.Json()["entries"].size(), 3u);
  EXPECT_EQ(read.Json()["entries"][1]["entry"]["object"], "1");
  EXPECT_EQ(audit_->size(), before + 1);  // The read is on record.
  Reply last = Call("GET", absl::StrCat("/api/audit/entries?from=", before, "&limit=1"), auditor);
  ASSERT_EQ(last.status, 200);
  EXPECT_EQ(last.Json()["entries"][0]["entry"]["action"], "audit_read");
  EXPECT_EQ(last.Json()["entries"][0]["entry"]["actor"], "auditor");

  Reply proof = Call("GET", "/api/audit/proof?index=1&size=3", auditor);
  ASSERT_EQ(proof.status, 200) << proof.body;
  EXPECT_EQ(proof.Json()["index"], 1);
  EXPECT_EQ(proof.Json()["tree_size"], 3);
  EXPECT_EQ(Call("GET", "/api/audit/proof?index=4&size=3", auditor).status, 400);
  EXPECT_EQ(Call("GET", "/api/audit/entries", WithSession(LoginAs(Role::kAdmin))).status, 403);
  EXPECT_EQ(Call("GET", "/api/audit/entries?limit=5000", auditor).status, 400);
}

TEST_F(ApiServerTest, PublicPagesServeRegisterCsvStatisticsAndTheSignedCheckpoint) {
  ApiServerOptions options = options_;
  options.register_operator = "=City \"Public\" Order";
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  Reply csv = Call("GET", "/public/register.csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_THAT(csv.Header("Content-Type"), HasSubstr("text/csv"));
  const std::vector<std::string> lines = absl::StrSplit(csv.body, "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << csv.body;
  EXPECT_THAT(lines[0], ::testing::StartsWith("id,name,enabled,lat,lon,operator,purpose"));
  EXPECT_THAT(lines[1], ::testing::StartsWith("\"entrance\",\"Main entrance\",true,52.52,13.405,"));
  // Quotes doubled, and a leading '=' cannot become a spreadsheet formula.
  EXPECT_THAT(lines[1], HasSubstr("\"'=City \"\"Public\"\" Order\""));
  EXPECT_THAT(lines[1], HasSubstr(",events,48,"));
  EXPECT_THAT(csv.body, Not(HasSubstr("secret")));

  Reply reg = Call("GET", "/public/register.json");
  EXPECT_EQ(reg.Json()["cameras"][0]["retention"]["video_hours"], 48);

  Reply stats = Call("GET", "/public/stats.json");
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(stats.Json()["months"][0]["searches"], 4);

  Reply checkpoint = Call("GET", "/public/checkpoint");
  ASSERT_EQ(checkpoint.status, 200) << checkpoint.body;
  EXPECT_EQ(checkpoint.Json()["size"], 5);
  const std::string note = checkpoint.Json()["checkpoint"];
  EXPECT_THAT(note, ::testing::StartsWith("custos.audit/"));
  EXPECT_THAT(note, HasSubstr("\n5\n"));
  EXPECT_EQ(checkpoint.Json()["verifier_key"], audit_->verifier_key());

  Reply consistency = Call("GET", "/public/audit/consistency?from=3&to=5");
  ASSERT_EQ(consistency.status, 200) << consistency.body;
  EXPECT_EQ(consistency.Json()["size1"], 3);
  EXPECT_EQ(consistency.Json()["size2"], 5);
  EXPECT_EQ(Call("GET", "/public/audit/consistency?from=x").status, 400);
}

TEST(RoutePaths, ParametersMatchOneSafeSegmentOnly) {
  EXPECT_TRUE(PathMatches("/api/cameras/{camera}/live", "/api/cameras/entrance/live"));
  EXPECT_FALSE(PathMatches("/api/cameras/{camera}/live", "/api/cameras/../live"));
  EXPECT_FALSE(PathMatches("/api/cameras/{camera}/live", "/api/cameras/a/b/live"));
  EXPECT_FALSE(PathMatches("/api/cameras/{camera}/live", "/api/cameras//live"));
  EXPECT_FALSE(PathMatches("/api/cameras/{camera}/live", "/api/cameras/a.mp4/live"));
  EXPECT_TRUE(PathMatches("/public/register.json", "/public/register.json"));
  EXPECT_FALSE(PathMatches("/public/register.json", "/public/registerXjson"));
}

}  // namespace
}  // namespace custos::api

namespace custos::api {
namespace {

class WatchlistApiTest : public ApiServerTest {
 protected:
  // A logged-in second supervisor, "sam".
  httplib::Headers Sam() {
    if (!sam_created_) {
      EXPECT_TRUE(auth_->CreateUser(kRoot, {"sam", kPassword, Role::kSupervisor}).ok());
      sam_created_ = true;
    }
    Reply sam = Login("sam");
    const std::string cookie = sam.Header("Set-Cookie");
    return WithSession({cookie.substr(0, cookie.find(';')), sam.Json().value("csrf_token", "")});
  }
  json Proposal(std::vector<std::string> photos) {
    return {{"label", "Case 2026/114 - J. Doe"},
            {"category", "wanted_suspect"},
            {"legal_basis_ref", "WL-2026/114"},
            {"reason", "arrest warrant 12 Gs 345/26"},
            {"photos", std::move(photos)}};
  }
  bool sam_created_ = false;
  int Records(policy::PolicyAction action, policy::PolicyResult result) {
    int n = 0;
    for (const policy::PolicyChange& c : policy_auditor_.records()) {
      if (c.action == action && c.result == result) ++n;
    }
    return n;
  }
};

TEST_F(WatchlistApiTest, AnEntryNeedsALegalBasisAndASecondSupervisorAndWithdrawalEndsIt) {
  const int64_t now = clock_.WallMs();
  const httplib::Headers admin = WithSession(LoginAs(Role::kAdmin));
  const httplib::Headers supervisor = WithSession(LoginAs(Role::kSupervisor));
  const httplib::Headers investigator = WithSession(LoginAs(Role::kInvestigator));
  const std::string photo = PhotoBase64(120);

  // No legal basis yet: refused by the policy engine, with its reason.
  Reply no_basis = Call("POST", "/api/watchlist", supervisor, Proposal({photo}).dump());
  EXPECT_EQ(no_basis.status, 403) << no_basis.body;
  EXPECT_THAT(no_basis.ErrorMessage(), HasSubstr("WL-2026/114"));
  json basis = BasisBody("WL-2026/114", now);
  basis["scope"] = {
      {"description", "warrant"}, {"cameras", json::array()}, {"acts", {"watchlist_entry"}}};
  ASSERT_EQ(Call("POST", "/api/legal-bases", admin, basis.dump()).status, 201);

  // Photos are checked one by one; the message names the photo and why.
  Reply no_face =
      Call("POST", "/api/watchlist", supervisor, Proposal({photo, PhotoBase64(0)}).dump());
  EXPECT_EQ(no_face.status, 400) << no_face.body;
  EXPECT_THAT(no_face.ErrorMessage(), HasSubstr("photo 2: no face"));
  Reply blurred = Call("POST", "/api/watchlist", supervisor, Proposal({PhotoBase64(50)}).dump());
  EXPECT_EQ(blurred.status, 400) << blurred.body;
  EXPECT_THAT(blurred.ErrorMessage(), HasSubstr("photo 1: the face fails the quality gate"));
  Reply not_base64 = Call("POST", "/api/watchlist", supervisor, Proposal({"%%%"}).dump());
  EXPECT_EQ(not_base64.status, 400);
  EXPECT_THAT(not_base64.ErrorMessage(), HasSubstr("photo 1 is not valid base64"));
  Reply too_many = Call("POST", "/api/watchlist", supervisor,
                        Proposal(std::vector<std::string>(11, photo)).dump());
  EXPECT_EQ(too_many.status, 400);
  EXPECT_THAT(too_many.ErrorMessage(), HasSubstr("1 to 10 photos"));
  json unknown = Proposal({photo});
  unknown["category"] = "protester";
  EXPECT_THAT(Call("POST", "/api/watchlist", supervisor, unknown.dump()).ErrorMessage(),
              HasSubstr("wanted_suspect"));
  EXPECT_EQ(watchlist_->List()->size(), 0u);

  // A photo upload is larger than other requests may be: allowed on this route only.
  const std::string big = PhotoBase64(120, 300, /*noise=*/true);
  ASSERT_GT(big.size(), options_.max_body_bytes);
  Reply proposed = Call("POST", "/api/watchlist", supervisor, Proposal({photo, big, photo}).dump());
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const json entry = proposed.Json();
  const std::string id = entry["id"];
  EXPECT_EQ(entry["status"], "pending");
  EXPECT_EQ(entry["proposed_by"], "supervisor");
  EXPECT_EQ(entry["embeddings"], 3);
  EXPECT_FALSE(entry["approval_id"].get<std::string>().empty());
  json too_big = BasisBody("X", now);
  too_big["scope"] = {{"description", std::string(big.size(), 'x')}};
  EXPECT_EQ(Call("POST", "/api/legal-bases", admin, too_big.dump()).status, 413);

  // Four eyes: the proposer cannot approve it; an investigator cannot approve at all.
  Reply self = Call("POST", absl::StrCat("/api/watchlist/", id, "/approve"), supervisor);
  EXPECT_EQ(self.status, 403) << self.body;
  EXPECT_THAT(self.ErrorMessage(), HasSubstr("yourself"));
  EXPECT_EQ(Call("POST", absl::StrCat("/api/watchlist/", id, "/approve"), investigator).status,
            403);
  Reply approved = Call("POST", absl::StrCat("/api/watchlist/", id, "/approve"), Sam());
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(approved.Json()["status"], "active");
  EXPECT_EQ(approved.Json()["decided_by"], "sam");

  // Readers of policies see the entry, never an embedding; a viewer or operator sees nothing.
  Reply listed = Call("GET", "/api/watchlist", WithSession(LoginAs(Role::kAuditor)));
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.Json()["entries"].size(), 1u);
  EXPECT_EQ(listed.Json()["entries"][0]["status"], "active");
  const json listed_entry = listed.Json()["entries"][0];  // Kept: items() refers into it.
  for (const auto& [key, value] : listed_entry.items()) {
    EXPECT_FALSE(value.is_array()) << key;  // No vector of any kind.
  }
  EXPECT_EQ(Call("GET", "/api/watchlist", WithSession(LoginAs(Role::kViewer))).status, 403);
  EXPECT_EQ(Call("GET", "/api/watchlist", WithSession(LoginAs(Role::kOperator))).status, 403);

  // Withdrawal needs a reason; then the entry stops at once and its embeddings are gone.
  EXPECT_EQ(Call("POST", absl::StrCat("/api/watchlist/", id, "/withdraw"), supervisor, "{}").status,
            400);
  Reply withdrawn = Call("POST", absl::StrCat("/api/watchlist/", id, "/withdraw"), supervisor,
                         json({{"reason", "arrested"}}).dump());
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  EXPECT_EQ(withdrawn.Json()["status"], "withdrawn");
  EXPECT_EQ(withdrawn.Json()["embeddings"], 0);
  EXPECT_EQ(watchlist_->ActiveEntries(now)->size(), 0u);

  // A second proposal is rejected by another supervisor, with a reason.
  Reply second = Call("POST", "/api/watchlist", investigator, Proposal({photo}).dump());
  ASSERT_EQ(second.status, 201) << second.body;
  const std::string second_id = second.Json()["id"];
  Reply rejected = Call("POST", absl::StrCat("/api/watchlist/", second_id, "/reject"), Sam(),
                        json({{"reason", "the warrant names another person"}}).dump());
  ASSERT_EQ(rejected.status, 200) << rejected.body;
  EXPECT_EQ(rejected.Json()["status"], "rejected");
  EXPECT_EQ(Call("POST", "/api/watchlist/01ARZ3NDEKTSV4RRFFQ69G5FAV/approve", Sam()).status, 404);

  // Every step, and every refusal, reached the auditor.
  using policy::PolicyAction;
  using policy::PolicyResult;
  EXPECT_EQ(Records(PolicyAction::kWatchlistPropose, PolicyResult::kOk), 2);
  EXPECT_EQ(Records(PolicyAction::kWatchlistActivate, PolicyResult::kOk), 1);
  EXPECT_EQ(Records(PolicyAction::kWatchlistWithdraw, PolicyResult::kOk), 1);
  EXPECT_EQ(Records(PolicyAction::kWatchlistReject, PolicyResult::kOk), 1);
  int denied = 0;
  for (const policy::PolicyChange& c : policy_auditor_.records()) {
    denied += c.result == PolicyResult::kDenied;
  }
  EXPECT_GE(denied, 2);  // No legal basis; self-approval.
}

TEST_F(WatchlistApiTest, WithoutFaceModelsProposalsAnswer503AndTheRestStillWorks) {
  faces_ = nullptr;
  ASSERT_NO_FATAL_FAILURE(StartServer(options_));
  const httplib::Headers supervisor = WithSession(LoginAs(Role::kSupervisor));
  Reply proposed = Call("POST", "/api/watchlist", supervisor, Proposal({PhotoBase64(120)}).dump());
  EXPECT_EQ(proposed.status, 503) << proposed.body;
  EXPECT_THAT(proposed.ErrorMessage(), HasSubstr("face models"));
  EXPECT_THAT(proposed.ErrorMessage(), HasSubstr("not installed"));
  EXPECT_EQ(Call("GET", "/api/watchlist", supervisor).status, 200);
  EXPECT_EQ(Call("GET", "/api/matches", supervisor).status, 200);
}

TEST_F(WatchlistApiTest, OperatorsConfirmOrRejectAMatchOnceAndEveryVerdictIsAudited) {
  const httplib::Headers op = WithSession(LoginAs(Role::kOperator));
  auto second = matches_->Record(SampleMatch(kT0 + 5000, "01ARZ3NDEKTSV4RRFFQ69G5FAW"));
  ASSERT_TRUE(second.ok()) << second.status();

  Reply listed = Call("GET", "/api/matches", op);
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.Json()["matches"].size(), 2u);
  const json newest = listed.Json()["matches"][0];
  EXPECT_EQ(newest["id"], second->id);
  EXPECT_EQ(newest["status"], "lead");
  EXPECT_EQ(newest["crop"], absl::StrCat("/api/matches/", second->id, "/crop.jpg"));
  EXPECT_THAT(listed.body, Not(HasSubstr("crop_jpeg")));
  EXPECT_EQ(Call("GET", "/api/matches", WithSession(LoginAs(Role::kViewer))).status, 403);
  EXPECT_EQ(Call("GET", "/api/matches?status=maybe", op).status, 400);
  EXPECT_EQ(Call("GET", "/api/matches?camera=nowhere", op).status, 404);

  // The crop, for the operator who verifies; the access is recorded with the match's id.
  Reply crop = Call("GET", absl::StrCat("/api/matches/", match_id_, "/crop.jpg"), op);
  ASSERT_EQ(crop.status, 200) << crop.body;
  EXPECT_EQ(crop.Header("Content-Type"), "image/jpeg");
  EXPECT_EQ(crop.body.substr(0, 2), "\xff\xd8");
  bool recorded = false;
  for (const auth::AccessRecord& r : log_.records()) {
    recorded = recorded || (r.actor == "operator" && absl::StrContains(r.object, match_id_));
  }
  EXPECT_TRUE(recorded);
  EXPECT_EQ(Call("GET", "/api/matches/01ARZ3NDEKTSV4RRFFQ69G5FAZ/crop.jpg", op).status, 404);

  Reply confirmed = Call("POST", absl::StrCat("/api/matches/", match_id_, "/confirm"), op,
                         json({{"note", "checked on the live view"}}).dump());
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_EQ(confirmed.Json()["status"], "confirmed");
  EXPECT_EQ(confirmed.Json()["decided_by"], "operator");
  // Decided once.
  EXPECT_EQ(Call("POST", absl::StrCat("/api/matches/", match_id_, "/reject"), op,
                 json({{"reason", "changed my mind"}}).dump())
                .status,
            400);
  // A rejection needs a reason.
  EXPECT_EQ(Call("POST", absl::StrCat("/api/matches/", second->id, "/reject"), op, "{}").status,
            400);
  Reply rejected = Call("POST", absl::StrCat("/api/matches/", second->id, "/reject"), op,
                        json({{"reason", "a different person"}}).dump());
  ASSERT_EQ(rejected.status, 200) << rejected.body;
  EXPECT_EQ(rejected.Json()["status"], "rejected");
  Reply only_confirmed = Call("GET", "/api/matches?status=confirmed", op);
  ASSERT_EQ(only_confirmed.Json()["matches"].size(), 1u);
  EXPECT_EQ(only_confirmed.Json()["matches"][0]["id"], match_id_);

  EXPECT_EQ(Records(policy::PolicyAction::kFaceMatchConfirm, policy::PolicyResult::kOk), 1);
  EXPECT_EQ(Records(policy::PolicyAction::kFaceMatchReject, policy::PolicyResult::kOk), 1);
}

}  // namespace
}  // namespace custos::api

namespace custos::api {
namespace {

// The plate routes: a search needs a case and a legal basis and is on record before it is
// answered; hotlist entries need a second person; hits are verdicts on record.
class PlateApiTest : public WatchlistApiTest {
 protected:
  // The newest audit entry, parsed.
  json LastAuditEntry() {
    absl::StatusOr<std::vector<audit::StoredEntry>> entries = audit_->ScanForStatistics(0, 1000);
    EXPECT_TRUE(entries.ok() && !entries->empty());
    if (!entries.ok() || entries->empty()) return json();
    return json::parse(entries->back().json);
  }
};

TEST_F(PlateApiTest, ASearchNeedsACaseAndALegalBasisAndIsOnRecordFirst) {
  const httplib::Headers investigator = WithSession(LoginAs(Role::kInvestigator));
  Reply no_case = Call("GET", "/api/plates/reads?legal_basis=PQ-1&plate=ABC1234", investigator);
  EXPECT_EQ(no_case.status, 400) << no_case.body;
  EXPECT_THAT(no_case.ErrorMessage(), HasSubstr("case reference"));
  json refused = LastAuditEntry();
  EXPECT_EQ(refused["action"], "plate_query");
  EXPECT_EQ(refused["result"], "denied");

  Reply no_basis = Call("GET", "/api/plates/reads?case=C-77&plate=ABC1234", investigator);
  EXPECT_EQ(no_basis.status, 403) << no_basis.body;
  Reply wrong_basis =
      Call("GET", "/api/plates/reads?case=C-77&legal_basis=NOPE&plate=ABC1234", investigator);
  EXPECT_EQ(wrong_basis.status, 403) << wrong_basis.body;

  Reply found = Call("GET", "/api/plates/reads?case=C-77&legal_basis=PQ-1&plate=A8C1234",
                     investigator);  // A lower candidate of the read.
  ASSERT_EQ(found.status, 200) << found.body;
  const json body = found.Json();
  ASSERT_EQ(body["reads"].size(), 1u);
  EXPECT_EQ(body["reads"][0]["plate"], "ABC1234");
  const json record = LastAuditEntry();
  EXPECT_EQ(record["action"], "plate_query");
  EXPECT_EQ(record["result"], "ok");
  EXPECT_EQ(record["purpose"], "C-77");
  EXPECT_EQ(record["legal_basis"], "PQ-1");
  EXPECT_EQ(record["details"]["results"], 1);
  EXPECT_EQ(record["details"]["read_ids"][0], read_id_);

  Reply confused = Call("GET",
                        "/api/plates/reads?case=C-77&legal_basis=PQ-1&plate=ABC1Z34&"
                        "max_confusions=1",
                        investigator);
  ASSERT_EQ(confused.status, 200) << confused.body;
  EXPECT_EQ(confused.Json()["count"], 1);
  Reply none =
      Call("GET", "/api/plates/reads?case=C-77&legal_basis=PQ-1&plate=ABC1Z34", investigator);
  EXPECT_EQ(none.Json()["count"], 0);
  Reply bad = Call("GET", "/api/plates/reads?case=C-77&legal_basis=PQ-1&plate=*", investigator);
  EXPECT_EQ(bad.status, 400) << bad.body;

  // The crop: same rules, on record.
  Reply crop = Call("GET", body["reads"][0]["crop"].get<std::string>(), investigator);
  EXPECT_EQ(crop.status, 200);
  EXPECT_EQ(crop.body, std::string("\xFF\xD8plate\xFF\xD9", 9));
  EXPECT_EQ(LastAuditEntry()["object"], read_id_);
  EXPECT_EQ(
      Call("GET", absl::StrCat("/api/plates/reads/", read_id_, "/crop.jpg"), investigator).status,
      400);

  // Operators watch alerts; they do not search journeys.
  const httplib::Headers operator_session = WithSession(LoginAs(Role::kOperator));
  EXPECT_EQ(Call("GET", "/api/plates/reads?case=C-77&legal_basis=PQ-1", operator_session).status,
            403);
}

TEST_F(PlateApiTest, AHotlistEntryNeedsASecondPersonAndHitsAreDecidedOnce) {
  const httplib::Headers supervisor = WithSession(LoginAs(Role::kSupervisor));
  const httplib::Headers investigator = WithSession(LoginAs(Role::kInvestigator));
  const json proposal = {{"plate", "xy-9876"},
                         {"label", "stolen van, case 4711"},
                         {"reason", "reported stolen"},
                         {"legal_basis_ref", "PQ-1"}};
  Reply proposed = Call("POST", "/api/plates/hotlist", supervisor, proposal.dump());
  ASSERT_EQ(proposed.status, 201) << proposed.body;
  const std::string id = proposed.Json()["id"];
  EXPECT_EQ(proposed.Json()["plate"], "XY9876");
  EXPECT_EQ(proposed.Json()["status"], "pending");
  EXPECT_EQ(proposed.Json()["max_confusions"], 1);
  Reply own = Call("POST", absl::StrCat("/api/plates/hotlist/", id, "/approve"), supervisor);
  EXPECT_EQ(own.status, 403) << own.body;
  Reply by_investigator =
      Call("POST", absl::StrCat("/api/plates/hotlist/", id, "/approve"), investigator);
  EXPECT_EQ(by_investigator.status, 403);
  Reply approved = Call("POST", absl::StrCat("/api/plates/hotlist/", id, "/approve"), Sam());
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(approved.Json()["status"], "active");
  EXPECT_EQ(approved.Json()["decided_by"], "sam");
  Reply list = Call("GET", "/api/plates/hotlist", investigator);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.Json()["entries"][0]["status"], "active");

  Reply bad = Call("POST", "/api/plates/hotlist", supervisor,
                   json({{"plate", "XY1"},
                         {"label", "x"},
                         {"reason", "y"},
                         {"legal_basis_ref", "PQ-1"},
                         {"max_confusions", 5}})
                       .dump());
  EXPECT_EQ(bad.status, 400) << bad.body;

  const httplib::Headers operator_session = WithSession(LoginAs(Role::kOperator));
  Reply hits = Call("GET", "/api/plates/hits", operator_session);
  ASSERT_EQ(hits.status, 200) << hits.body;
  ASSERT_EQ(hits.Json()["hits"].size(), 1u);
  EXPECT_EQ(hits.Json()["hits"][0]["lead"], true);
  Reply rejected = Call("POST", absl::StrCat("/api/plates/hits/", hit_id_, "/reject"),
                        operator_session, json({{"reason", "another car"}}).dump());
  ASSERT_EQ(rejected.status, 200) << rejected.body;
  EXPECT_EQ(rejected.Json()["status"], "rejected");
  Reply again = Call("POST", absl::StrCat("/api/plates/hits/", hit_id_, "/confirm"),
                     operator_session, json::object().dump());
  EXPECT_EQ(again.status, 400) << again.body;  // Decided once (failed precondition).
  EXPECT_EQ(Records(policy::PolicyAction::kPlateHitReject, policy::PolicyResult::kOk), 1);
  EXPECT_EQ(Records(policy::PolicyAction::kHotlistPropose, policy::PolicyResult::kOk), 1);
}

}  // namespace
}  // namespace custos::api
