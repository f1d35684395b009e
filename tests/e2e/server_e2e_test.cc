// End-to-end tests of `custos serve`: the built binary run as an operator would, on the person
// video as a file camera, spoken to over HTTP, stopped by SIGTERM or killed with SIGKILL and
// restarted on the same data directory; and the mistakes an operator makes at start-up.
#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <opencv2/videoio.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "auth/role.h"
#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "record/record_test_util.h"
#include "record/segment_index.h"

extern char** environ;

namespace custos {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

template <typename Predicate>
bool WaitFor(Predicate done, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

// `custos <args>` as a child process, stdout and stderr into files. Killed (SIGKILL) when
// destroyed still running, so a failing test leaves no server behind.
class Custos {
 public:
  Custos(const std::vector<std::string>& args, const fs::path& log_dir) {
    static int counter = 0;
    const std::string stem = "custos-" + std::to_string(++counter);
    out_path_ = log_dir / (stem + ".out");
    err_path_ = log_dir / (stem + ".err");
    std::vector<std::string> argv_strings = {CUSTOS_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Custos() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Custos(const Custos&) = delete;
  Custos& operator=(const Custos&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_code_.has_value(); }
  std::string out() const { return ReadFile(out_path_); }
  std::string err() const { return ReadFile(err_path_); }
  std::string output() const { return "--- stdout:\n" + out() + "\n--- stderr:\n" + err(); }

  // Waits for "Custos is running at http://HOST:PORT/"; returns PORT, or 0 when the process
  // ended or the line did not come within `timeout_ms`.
  int WaitUntilRunning(int timeout_ms) {
    static const std::regex kRunning(R"(Custos is running at http://127\.0\.0\.1:(\d+)/)");
    int port = 0;
    WaitFor(
        [&] {
          std::smatch m;
          const std::string text = out();
          if (std::regex_search(text, m, kRunning)) {
            port = std::stoi(m[1]);
            return true;
          }
          return Poll();
        },
        timeout_ms);
    return port;
  }

  // Waits for the process to end; its exit code, 128+signal when killed by one, or nullopt
  // (still running) after `timeout_ms`.
  std::optional<int> WaitExit(int timeout_ms) {
    WaitFor([&] { return Poll(); }, timeout_ms);
    return exit_code_;
  }

  void Signal(int signal_number) {
    if (running()) ::kill(pid_, signal_number);
  }

 private:
  // True once the process has ended (reaped).
  bool Poll() {
    if (exit_code_) return true;
    if (pid_ <= 0) {
      exit_code_ = -1;
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  fs::path out_path_;
  fs::path err_path_;
};

// A logged-in user of the API.
struct Session {
  std::string cookie;  // "custos_session=..."
  std::string csrf;
  httplib::Headers headers() const { return {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}; }
};

class Api {
 public:
  explicit Api(int port) : client_("127.0.0.1", port) {
    client_.set_connection_timeout(5);
    client_.set_read_timeout(60);
  }

  std::optional<Session> Login(const std::string& user, const std::string& password) {
    const json body = {{"username", user}, {"password", password}};
    auto res = client_.Post("/api/login", body.dump(), "application/json");
    if (!res || res->status != 200) return std::nullopt;
    Session s;
    const std::string cookie = res->get_header_value("Set-Cookie");
    s.cookie = cookie.substr(0, cookie.find(';'));
    s.csrf = json::parse(res->body).value("csrf_token", "");
    return s;
  }

  httplib::Result Get(const std::string& path, const Session& s) {
    return client_.Get(path, s.headers());
  }
  httplib::Result GetAnonymous(const std::string& path) { return client_.Get(path); }
  // The body as JSON when the answer is 200, else null.
  json GetJson(const std::string& path, const Session& s) {
    auto res = Get(path, s);
    if (!res || res->status != 200) return json();
    return json::parse(res->body, nullptr, false);
  }
  httplib::Result Post(const std::string& path, const Session& s, const json& body) {
    return client_.Post(path, s.headers(), body.dump(), "application/json");
  }

 private:
  httplib::Client client_;
};

// The person video as the file camera "entrance", and media_roots its folder.
fs::path WriteConfig(const fs::path& dir, const std::string& video, int segment_s) {
  const fs::path config = dir / "custos.yaml";
  std::ofstream(config) << "cameras:\n"
                        << "  - id: entrance\n"
                        << "    name: Entrance\n"
                        << "    url: \"" << video << "\"\n"
                        << "    detect: {fps: 5, height: 360}\n"
                        << "    record: {mode: continuous, segment_s: " << segment_s << "}\n"
                        << "retention:\n"
                        << "  min_free_gb: 0\n"
                        << "server:\n"
                        << "  media_roots: [\"" << fs::path(video).parent_path().string()
                        << "\"]\n";
  return config;
}

std::vector<std::string> ServeArgs(const fs::path& config, const fs::path& data, int port = 0) {
  return {"serve",       "--config", config.string(),     "--data-dir",
          data.string(), "--port",   std::to_string(port)};
}

// The initial administrator's password from DATA_DIR/initial-admin.txt.
std::string AdminPassword(const fs::path& data) {
  static const std::regex kPassword(R"(password: (\S+))");
  std::smatch m;
  const std::string text = ReadFile(data / "initial-admin.txt");
  return std::regex_search(text, m, kPassword) ? m[1].str() : "";
}

constexpr char kInvestigatorPassword[] = "correct horse battery staple";

// Logs in as the initial admin and creates the investigator "ivan"; returns ivan's session.
std::optional<Session> AdminCreatesInvestigator(Api& api, const fs::path& data) {
  std::optional<Session> admin = api.Login("admin", AdminPassword(data));
  if (!admin) {
    ADD_FAILURE() << "admin cannot log in";
    return std::nullopt;
  }
  // Without the CSRF header a cookie-authenticated POST is refused.
  Session no_csrf = *admin;
  no_csrf.csrf = "";
  auto refused = api.Post(
      "/api/users", no_csrf,
      {{"username", "mallory"}, {"password", kInvestigatorPassword}, {"role", "investigator"}});
  EXPECT_TRUE(refused && refused->status == 403) << (refused ? refused->body : "no answer");
  auto created = api.Post(
      "/api/users", *admin,
      {{"username", "ivan"}, {"password", kInvestigatorPassword}, {"role", "investigator"}});
  if (!created || created->status != 201) {
    ADD_FAILURE() << "creating ivan: " << (created ? created->body : "no answer");
    return std::nullopt;
  }
  return api.Login("ivan", kInvestigatorPassword);
}

// Events of the entrance camera of `type` stored so far.
json Events(Api& api, const Session& s, const std::string& type) {
  const json page = api.GetJson("/api/events?camera=entrance&type=" + type, s);
  return page.is_object() ? page["events"] : json::array();
}

// Closed segments of the entrance camera in the last hour, by the API.
json Recordings(Api& api, const Session& s) {
  const json answer = api.GetJson("/api/cameras/entrance/recordings", s);
  return answer.is_object() ? answer["segments"] : json::array();
}

int CountFrames(const fs::path& video) {
  cv::VideoCapture capture(video.string());
  if (!capture.isOpened()) return -1;
  int frames = 0;
  cv::Mat frame;
  while (capture.read(frame)) ++frames;
  return frames;
}

// The entries of the server's tamper-evident audit log, read as an auditor once the server
// has stopped (the log has one writer at a time).
std::vector<json> AccessRecords(const fs::path& data) {
  std::vector<json> out;
  audit::AuditLogOptions options;
  options.data_dir = data.string();
  absl::StatusOr<std::unique_ptr<audit::AuditLog>> log = audit::AuditLog::Open(options);
  EXPECT_TRUE(log.ok()) << log.status();
  if (!log.ok()) return out;
  absl::StatusOr<std::vector<audit::StoredEntry>> entries =
      (*log)->Read(0, 1000, "e2e-test", auth::Role::kAuditor);
  EXPECT_TRUE(entries.ok()) << entries.status();
  if (!entries.ok()) return out;
  for (const audit::StoredEntry& e : *entries) out.push_back(json::parse(e.json));
  return out;
}

// Processes whose command line mentions `needle` (for "nothing left running").
std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadFile(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  close(fd);
  return ntohs(addr.sin_port);
}

constexpr int kStartTimeoutMs = 90'000;

TEST(ServeE2e, RecordsAndAnalysesAFileCameraServesItOverHttpAndStopsCleanly) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData("video/one-by-one-person-detection.mp4"));
  const fs::path dir = testing::TempDir("e2e-serve");
  const fs::path data = dir / "data";
  const fs::path config = WriteConfig(dir, video, 2);
  Custos serve(ServeArgs(config, data), dir);
  const int port = serve.WaitUntilRunning(kStartTimeoutMs);
  ASSERT_GT(port, 0) << serve.output();
  EXPECT_THAT(serve.out(), HasSubstr("1 cameras"));

  // The first administrator's password, readable only by the owner; the data dir is 0700.
  struct stat st {};
  ASSERT_EQ(::stat((data / "initial-admin.txt").c_str(), &st), 0) << serve.output();
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_THAT(serve.out(), HasSubstr((data / "initial-admin.txt").string()));
  const std::string admin_password = AdminPassword(data);
  EXPECT_GE(admin_password.size(), 12u);
  EXPECT_THAT(serve.out(), Not(HasSubstr(admin_password))) << "the password is only in the file";

  Api api(port);
  EXPECT_FALSE(api.Login("admin", "not the password").has_value());
  std::optional<Session> admin = api.Login("admin", admin_password);
  ASSERT_TRUE(admin.has_value());
  std::optional<Session> ivan = AdminCreatesInvestigator(api, data);
  ASSERT_TRUE(ivan.has_value());

  // Health: the camera is connected and recording.
  json camera;
  ASSERT_TRUE(WaitFor(
      [&] {
        const json health = api.GetJson("/api/health", *admin);
        if (!health.is_object() || health["cameras"].empty()) return false;
        camera = health["cameras"][0];
        return camera["connected"].get<bool>();
      },
      30'000))
      << camera.dump() << serve.output();
  EXPECT_EQ(camera["camera"], "entrance");
  EXPECT_TRUE(camera["recording"]["active"].get<bool>()) << camera.dump();
  EXPECT_GT(camera["fps"].get<double>(), 2.0) << camera.dump();

  // The first person walks in 7 s into the video: a track_start, stored and searchable.
  json starts;
  ASSERT_TRUE(WaitFor(
      [&] {
        starts = Events(api, *ivan, "track_start");
        return !starts.empty();
      },
      60'000))
      << serve.output();
  EXPECT_EQ(starts[0]["label"], "person") << starts.dump();
  EXPECT_EQ(starts[0]["camera"], "entrance");

  // Playback of recorded time: the clip decodes.
  json segments;
  ASSERT_TRUE(WaitFor(
      [&] {
        segments = Recordings(api, *ivan);
        return segments.size() >= 2;
      },
      30'000));
  const int64_t from_ms = segments.front()["start_ms"];
  const int64_t to_ms = segments.back()["end_ms"];
  auto clip = api.Get("/api/cameras/entrance/clip.mp4?from=" + std::to_string(from_ms) +
                          "&to=" + std::to_string(to_ms),
                      *ivan);
  ASSERT_TRUE(clip) << "no answer";
  ASSERT_EQ(clip->status, 200) << clip->body;
  EXPECT_EQ(clip->get_header_value("Content-Type"), "video/mp4");
  std::ofstream(dir / "clip.mp4", std::ios::binary) << clip->body;
  // 10 fps video: roughly (to - from) / 100 frames.
  const int frames = CountFrames(dir / "clip.mp4");
  EXPECT_GE(frames, static_cast<int>((to_ms - from_ms) / 100 * 8 / 10)) << (to_ms - from_ms);
  // The admin manages users and cameras but sees no video.
  auto admin_clip = api.Get("/api/cameras/entrance/clip.mp4?from=" + std::to_string(from_ms) +
                                "&to=" + std::to_string(to_ms),
                            *admin);
  ASSERT_TRUE(admin_clip);
  EXPECT_EQ(admin_clip->status, 403);

  // SIGTERM: open tracks end, the open segment is closed, exit 0.
  const auto stop_start = std::chrono::steady_clock::now();
  serve.Signal(SIGTERM);
  const std::optional<int> code = serve.WaitExit(15'000);
  ASSERT_TRUE(code.has_value()) << "still running 15 s after SIGTERM" << serve.output();
  EXPECT_EQ(*code, 0) << serve.output();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - stop_start).count(),
            15.0);
  EXPECT_THAT(serve.out(), HasSubstr("serve: stopped cleanly"));

  auto index = record::SegmentIndex::Open(data.string());
  ASSERT_TRUE(index.ok()) << index.status();
  auto rows = (*index)->All();
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_GE(rows->size(), 2u);
  for (const record::Segment& s : *rows) {
    EXPECT_EQ(s.state, record::SegmentState::kClosed)
        << s.path << " left " << record::SegmentStateName(s.state);
  }
  fs::remove_all(dir);
}

TEST(ServeE2e, AfterKillNineARestartRecoversTheOpenSegmentAndKeepsEventsAndUsers) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData("video/one-by-one-person-detection.mp4"));
  const fs::path dir = testing::TempDir("e2e-kill");
  const fs::path data = dir / "data";
  // Long segments: when the first event is stored the first segment is certainly still open,
  // with several whole fragments (one per second) written.
  const fs::path config = WriteConfig(dir, video, 60);
  std::string event_id;
  std::string old_cookie;
  {
    Custos serve(ServeArgs(config, data), dir);
    const int port = serve.WaitUntilRunning(kStartTimeoutMs);
    ASSERT_GT(port, 0) << serve.output();
    Api api(port);
    std::optional<Session> ivan = AdminCreatesInvestigator(api, data);
    ASSERT_TRUE(ivan.has_value());
    old_cookie = ivan->cookie;
    json starts;
    ASSERT_TRUE(WaitFor(
        [&] {
          starts = Events(api, *ivan, "track_start");
          return !starts.empty();
        },
        60'000))
        << serve.output();
    event_id = starts[0]["id"];
    serve.Signal(SIGKILL);
    ASSERT_EQ(serve.WaitExit(5'000), 128 + SIGKILL);
  }
  // What the crash left: one open row.
  std::string open_path;
  {
    auto index = record::SegmentIndex::Open(data.string());
    ASSERT_TRUE(index.ok()) << index.status();
    auto rows = (*index)->All();
    ASSERT_TRUE(rows.ok());
    for (const record::Segment& s : *rows) {
      if (s.state == record::SegmentState::kOpen) open_path = s.path;
    }
    ASSERT_FALSE(open_path.empty()) << "the killed server left no open segment to recover";
  }

  Custos again(ServeArgs(config, data), dir);
  const int port = again.WaitUntilRunning(kStartTimeoutMs);
  ASSERT_GT(port, 0) << again.output();
  EXPECT_THAT(again.out(), Not(HasSubstr("First administrator")))
      << "the admin of the first run is kept";
  Api api(port);
  // Users and sessions survived: the old session still works and ivan can log in.
  auto me = api.Get("/api/me", Session{old_cookie, ""});
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 200) << me->body;
  std::optional<Session> ivan = api.Login("ivan", kInvestigatorPassword);
  ASSERT_TRUE(ivan.has_value());
  EXPECT_TRUE(api.Login("admin", AdminPassword(data)).has_value());
  // The event stored before the crash is still there.
  bool found = false;
  for (const json& e : Events(api, *ivan, "track_start")) found |= e["id"] == event_id;
  EXPECT_TRUE(found) << event_id;
  // The recovered segment is listed and plays.
  again.Signal(SIGTERM);
  ASSERT_EQ(again.WaitExit(15'000), 0) << again.output();

  auto index = record::SegmentIndex::Open(data.string());
  ASSERT_TRUE(index.ok()) << index.status();
  auto rows = (*index)->All();
  ASSERT_TRUE(rows.ok());
  bool recovered = false;
  for (const record::Segment& s : *rows) {
    EXPECT_NE(s.state, record::SegmentState::kOpen) << s.path;
    if (s.path != open_path) continue;
    recovered = true;
    EXPECT_EQ(s.state, record::SegmentState::kRecovered);
    EXPECT_GE(s.end_ms - s.start_ms, 3000) << "at least a few whole fragments were kept";
    auto decoded = record::testing::DecodeFile((data / s.path).string());
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_TRUE(decoded->first_packet_key);
    EXPECT_GE(decoded->frames, 30);
    EXPECT_EQ(decoded->errors, 0);
  }
  EXPECT_TRUE(recovered) << open_path << " is no longer in the index";
  fs::remove_all(dir);
}

TEST(ServeE2e, LiveViewPlaybackAndDownloadLeaveAccessRecordsNamingTheActor) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData("video/one-by-one-person-detection.mp4"));
  const fs::path dir = testing::TempDir("e2e-access");
  const fs::path data = dir / "data";
  Custos serve(ServeArgs(WriteConfig(dir, video, 2), data), dir);
  const int port = serve.WaitUntilRunning(kStartTimeoutMs);
  ASSERT_GT(port, 0) << serve.output();
  Api api(port);
  std::optional<Session> ivan = AdminCreatesInvestigator(api, data);
  ASSERT_TRUE(ivan.has_value());

  std::optional<httplib::Response> live;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto res = api.Get("/api/cameras/entrance/live.jpg", *ivan);
        if (!res) return false;
        live = *res;
        return live->status == 200;
      },
      30'000))
      << (live ? live->body : "no answer");
  EXPECT_EQ(live->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(live->body.substr(0, 2), "\xFF\xD8");

  json segments;
  ASSERT_TRUE(WaitFor(
      [&] {
        segments = Recordings(api, *ivan);
        return !segments.empty();
      },
      30'000));
  const std::string range = "?from=" + std::to_string(segments[0]["start_ms"].get<int64_t>()) +
                            "&to=" + std::to_string(segments[0]["end_ms"].get<int64_t>());
  auto clip = api.Get("/api/cameras/entrance/clip.mp4" + range, *ivan);
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->status, 200) << clip->body;
  auto no_case = api.Get("/api/cameras/entrance/download.mp4" + range, *ivan);
  ASSERT_TRUE(no_case);
  EXPECT_EQ(no_case->status, 400) << "an export needs its case";
  auto download = api.Get("/api/cameras/entrance/download.mp4" + range + "&case=E2E-7", *ivan);
  ASSERT_TRUE(download);
  EXPECT_EQ(download->status, 200) << download->body;
  EXPECT_THAT(download->get_header_value("Content-Disposition"), HasSubstr("attachment"));
  const std::string export_sha = download->get_header_value("X-Custos-SHA256");
  const std::string export_id = download->get_header_value("X-Custos-Export-Id");
  EXPECT_EQ(export_sha.size(), 64u);
  std::ofstream(dir / "download.mp4", std::ios::binary) << download->body;
  EXPECT_GT(CountFrames(dir / "download.mp4"), 10);

  serve.Signal(SIGTERM);
  ASSERT_EQ(serve.WaitExit(15'000), 0) << serve.output();

  // One audit entry per act, with who did it; the log's folder is the owner's only, and the
  // log verifies (`custos audit verify`).
  struct stat st {};
  ASSERT_EQ(::stat((data / "audit").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  {
    Custos verify({"audit", "verify", "--data-dir", data.string()}, dir);
    EXPECT_EQ(verify.WaitExit(60'000), 0) << verify.output();
  }
  std::set<std::string> acts;
  for (const json& r : AccessRecords(data)) {
    acts.insert(r["action"].get<std::string>() + " by " + r["actor"].get<std::string>() + " " +
                r["result"].get<std::string>());
    EXPECT_TRUE(r.contains("time"));  // ISO-8601 UTC (docs/audit.md).
  }
  std::ostringstream all;
  for (const std::string& a : acts) all << a << "\n";
  for (const char* expected :
       {"login by admin ok", "login by ivan ok", "user_created by admin ok", "live_view by ivan ok",
        "playback by ivan ok", "download by ivan ok", "export by ivan ok"}) {
    EXPECT_TRUE(acts.count(expected)) << expected << " missing from:\n" << all.str();
  }
  // The export is on record with its id, case and the SHA-256 of what was handed out.
  bool export_logged = false;
  for (const json& r : AccessRecords(data)) {
    if (r["action"] != "export") continue;
    export_logged = true;
    EXPECT_EQ(r["object"], export_id);
    EXPECT_EQ(r["purpose"], "E2E-7");
    EXPECT_EQ(r["details"]["sha256"], export_sha);
    EXPECT_EQ(r["details"]["blurred"], true);
  }
  EXPECT_TRUE(export_logged);
  fs::remove_all(dir);
}

TEST(ServeE2e, ACameraPasswordAppearsInNoAnswerLogLineOrFile) {
  const fs::path dir = testing::TempDir("e2e-redact");
  const fs::path data = dir / "data";
  const fs::path config = dir / "custos.yaml";
  std::ofstream(config) << "cameras:\n"
                        << "  - id: gate\n"
                        << "    url: \"rtsp://user:secret@127.0.0.1:" << ClosedPort()
                        << "/x?password=secret\"\n"
                        << "retention:\n"
                        << "  min_free_gb: 0\n";
  Custos serve(ServeArgs(config, data), dir);
  const int port = serve.WaitUntilRunning(kStartTimeoutMs);
  ASSERT_GT(port, 0) << serve.output();
  Api api(port);
  std::optional<Session> admin = api.Login("admin", AdminPassword(data));
  ASSERT_TRUE(admin.has_value());
  std::optional<Session> ivan = AdminCreatesInvestigator(api, data);
  ASSERT_TRUE(ivan.has_value());
  json camera;
  ASSERT_TRUE(WaitFor(
      [&] {
        const json health = api.GetJson("/api/health", *admin);
        if (!health.is_object() || health["cameras"].empty()) return false;
        camera = health["cameras"][0];
        return !camera["last_error"].get<std::string>().empty();
      },
      20'000));
  EXPECT_FALSE(camera["connected"].get<bool>());
  EXPECT_THAT(camera["last_error"].get<std::string>(), HasSubstr("user:***@127.0.0.1"));
  std::string answers;
  for (const Session* s : {&*admin, &*ivan}) {
    for (const char* path :
         {"/api/health", "/api/cameras", "/api/me", "/api/cameras/gate/live.jpg", "/api/events"}) {
      auto res = api.Get(path, *s);
      ASSERT_TRUE(res) << path;
      answers += res->body;
    }
  }
  for (const char* path : {"/public/register.json", "/public/ui.json"}) {
    auto res = api.GetAnonymous(path);
    ASSERT_TRUE(res) << path;
    answers += res->body;
  }
  EXPECT_THAT(answers, HasSubstr("user:***@127.0.0.1")) << "the admin sees the redacted URL";
  EXPECT_THAT(answers, Not(HasSubstr("secret")));
  serve.Signal(SIGTERM);
  ASSERT_EQ(serve.WaitExit(15'000), 0) << serve.output();
  EXPECT_THAT(serve.output(), HasSubstr("user:***@127.0.0.1"));
  EXPECT_THAT(serve.output(), Not(HasSubstr("secret")));
  // No file of the data directory holds it either (databases, access records, ...).
  for (const auto& entry : fs::recursive_directory_iterator(data)) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(ReadFile(entry.path()).find("secret"), std::string::npos) << entry.path();
  }
  fs::remove_all(dir);
}

TEST(ServeE2e, StartUpMistakesFailFastWithAClearMessageAndLeaveNothingRunning) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData("video/one-by-one-person-detection.mp4"));
  const fs::path dir = testing::TempDir("e2e-serve-bad");
  const fs::path good = WriteConfig(dir, video, 2);
  auto run = [&](const std::vector<std::string>& args) {
    auto custos = std::make_unique<Custos>(args, dir);
    const std::optional<int> code = custos->WaitExit(60'000);
    EXPECT_TRUE(code.has_value()) << "still running:" << custos->output();
    return custos;
  };

  {  // Malformed YAML: the file and line.
    std::ofstream(dir / "bad.yaml") << "cameras:\n  - id: a\n    url: x.mp4\n    zones: [\n";
    auto c = run(ServeArgs(dir / "bad.yaml", dir / "data-bad"));
    EXPECT_NE(c->WaitExit(0).value_or(0), 0);
    EXPECT_THAT(c->err(), ::testing::ContainsRegex("bad\\.yaml:[0-9]+")) << c->output();
  }
  {  // A misspelt key: named, with its line.
    std::ofstream(dir / "typo.yaml") << "cameras:\n  - id: a\n    url: x.mp4\n    zonez: []\n";
    auto c = run(ServeArgs(dir / "typo.yaml", dir / "data-typo"));
    EXPECT_NE(c->WaitExit(0).value_or(0), 0);
    EXPECT_THAT(c->err(), HasSubstr("typo.yaml:4")) << c->output();
    EXPECT_THAT(c->err(), HasSubstr("zonez")) << c->output();
  }
  {  // A camera file outside the media roots: the camera and the roots are named.
    const fs::path outside = dir / "outside.yaml";
    std::ofstream(outside) << "cameras:\n  - id: sneaky\n    url: /etc/passwd\n"
                           << "server:\n  media_roots: [\""
                           << fs::path(video).parent_path().string() << "\"]\n";
    auto c = run(ServeArgs(outside, dir / "data-outside"));
    EXPECT_NE(c->WaitExit(0).value_or(0), 0);
    EXPECT_THAT(c->err(), HasSubstr("sneaky")) << c->output();
    EXPECT_THAT(c->err(), HasSubstr(fs::path(video).parent_path().string())) << c->output();
    EXPECT_THAT(c->err(), HasSubstr("media_roots")) << c->output();
  }
  {  // The data directory cannot be created (a path under a regular file).
    std::ofstream(dir / "a-file") << "x";
    auto c = run(ServeArgs(good, dir / "a-file" / "data"));
    EXPECT_NE(c->WaitExit(0).value_or(0), 0);
    EXPECT_THAT(c->err(), HasSubstr((dir / "a-file" / "data").string())) << c->output();
    EXPECT_THAT(c->err(), HasSubstr("--data-dir")) << c->output();
  }
  {  // The port is taken by another program.
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(addr);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(fd, 4), 0);
    ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
    const int taken = ntohs(addr.sin_port);
    auto c = run(ServeArgs(good, dir / "data-port", taken));
    close(fd);
    EXPECT_NE(c->WaitExit(0).value_or(0), 0);
    EXPECT_THAT(c->err(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(taken)))
        << c->output();
  }
  {  // The port is taken by another custos serve.
    Custos first(ServeArgs(good, dir / "data-first"), dir);
    const int port = first.WaitUntilRunning(kStartTimeoutMs);
    ASSERT_GT(port, 0) << first.output();
    Custos second(ServeArgs(good, dir / "data-second", port), dir);
    EXPECT_EQ(second.WaitUntilRunning(kStartTimeoutMs), 0) << "two servers share port " << port;
    EXPECT_NE(second.WaitExit(10'000).value_or(0), 0) << second.output();
    EXPECT_THAT(second.err(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)))
        << second.output();
    first.Signal(SIGTERM);
    EXPECT_EQ(first.WaitExit(15'000), 0) << first.output();
  }
  // Nothing started here is still running.
  EXPECT_THAT(ProcessesMentioning(dir.string()), ::testing::IsEmpty());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos
