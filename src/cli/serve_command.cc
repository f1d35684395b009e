// `custos serve` and `custos demo`: the embedded single-node server in the foreground until
// SIGINT/SIGTERM (docs/server.md).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "auth/password.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "config/config.h"
#include "ingest/camera_url.h"
#include "server/server.h"
#include "spdlog/spdlog.h"

extern char** environ;

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

// SIGINT and SIGTERM are blocked in every thread and taken by sigwait() in main, so no
// handler runs inside a library and shutdown happens on one known thread.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForStopSignal(const sigset_t& set) {
  int signal_number = 0;
  sigwait(&set, &signal_number);
  return signal_number;
}

absl::StatusOr<config::Config> LoadServerConfig(const std::string& path,
                                                const infer::ModelSpec& model) {
  config::ParseOptions options;
  options.models[model.name] = model.labels;
  return config::LoadConfig(path, options);
}

std::string UrlFor(const server::Server& server, const std::string& bind) {
  const std::string host = bind == "0.0.0.0" || bind.empty() ? "127.0.0.1" : bind;
  return absl::StrCat("http://", host, ":", server.port(), "/");
}

// Runs the server until a stop signal; `announce` prints what the user needs once it is up.
int RunUntilSignal(const char* command, server::ServerOptions options, const sigset_t& signals,
                   const std::function<absl::Status(server::Server&)>& announce) {
  absl::StatusOr<std::unique_ptr<server::Server>> server = server::Server::Create(options);
  if (!server.ok()) return Fail(command, server.status());
  if (absl::Status started = (*server)->Start(); !started.ok()) return Fail(command, started);
  if (absl::Status said = announce(**server); !said.ok()) {
    (*server)->Stop();
    return Fail(command, said);
  }
  const int sig = WaitForStopSignal(signals);
  std::printf("\n%s: stopping (signal %d): closing tracks and recordings...\n", command, sig);
  std::fflush(stdout);
  (*server)->Stop();
  std::printf("%s: stopped cleanly\n", command);
  std::fflush(stdout);
  return 0;
}

// Creates the first administrator when there is none; returns the password file's path, or
// "" when an administrator existed already.
absl::StatusOr<std::string> EnsureInitialAdmin(server::Server& server, const std::string& file) {
  absl::StatusOr<auth::InitialAdmin> admin = server.authenticator().CreateInitialAdmin(file);
  if (admin.ok()) return admin->password_file;
  if (admin.status().code() == absl::StatusCode::kFailedPrecondition) return std::string();
  return admin.status();
}

// --- demo cameras through a real RTSP server ------------------------------------------------

struct RtspChild {
  pid_t pid = -1;
  int port = 0;
};

// Starts tools/rtsp_server.py serving `file` at rtsp://127.0.0.1:PORT/<path>. No shell: the
// arguments go to posix_spawn as they are.
absl::StatusOr<RtspChild> StartRtspServer(const std::string& file, const std::string& path) {
  const std::string script = std::string(CUSTOS_SOURCE_DIR) + "/tools/rtsp_server.py";
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::UnavailableError("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::vector<std::string> args = {"/usr/bin/python3", script, "--file", file,
                                   "--port",           "0",    "--path", "/" + path};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The child must not inherit the blocked SIGINT/SIGTERM of this process (it stops on them).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return absl::UnavailableError("cannot start /usr/bin/python3 for the demo RTSP server");
  }
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{out[0], POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    char buf[128];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int port = 0;
  if (!absl::StartsWith(line, "ready ") ||
      !absl::SimpleAtoi(line.substr(6, line.find('\n') - 6), &port)) {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return absl::UnavailableError(
        "the GStreamer RTSP server did not start (are python3-gi and gir1.2-gst-rtsp-server-1.0 "
        "installed? tools/setup.sh installs them)");
  }
  return RtspChild{pid, port};
}

void StopChildren(std::vector<RtspChild>& children) {
  for (const RtspChild& c : children) ::kill(c.pid, SIGTERM);
  for (const RtspChild& c : children) {
    int status = 0;
    ::waitpid(c.pid, &status, 0);
  }
  children.clear();
}

}  // namespace

int RunServe(const ServeFlags& flags) {
  const sigset_t signals = BlockStopSignals();
  absl::StatusOr<infer::ModelSpec> model = LoadModelSpec(flags.model);
  if (!model.ok()) return Fail("serve", model.status());
  absl::StatusOr<config::Config> cfg = LoadServerConfig(flags.config, *model);
  if (!cfg.ok()) return Fail("serve", cfg.status());
  absl::StatusOr<face::FaceModel> masking = LoadMaskingModel(flags.model);
  if (!masking.ok()) return Fail("serve", masking.status());
  std::optional<plate::OcrModel> plate_masking;
  if (cfg->privacy.mask_plates) {
    absl::StatusOr<plate::OcrModel> text = LoadPlateMaskingModel(flags.model);
    if (!text.ok()) return Fail("serve", text.status());
    plate_masking = *std::move(text);
  }
  server::ServerOptions options;
  options.config = *std::move(cfg);
  options.data_dir = flags.data_dir;
  options.port = flags.port;
  options.bind = flags.bind;
  options.model = *model;
  options.face_detector = *masking;
  options.plate_mask_detector = plate_masking;
  // Watchlist recognition (docs/face.md): the server runs without it if these do not load.
  options.face_manifest =
      flags.model.manifest.empty() ? infer::DefaultManifestPath() : flags.model.manifest;
  options.face_models_dir =
      flags.model.models_dir.empty() ? infer::DefaultModelsDir() : flags.model.models_dir;
  options.web_root = flags.web_root;
  const std::string bind = flags.bind.empty() ? options.config.server.bind : flags.bind;
  return RunUntilSignal("serve", options, signals, [&](server::Server& server) -> absl::Status {
    absl::StatusOr<std::string> admin_file =
        EnsureInitialAdmin(server, server.data_dir() + "/initial-admin.txt");
    if (!admin_file.ok()) return admin_file.status();
    std::printf("Custos is running at %s (%zu cameras, data in %s)\n", UrlFor(server, bind).c_str(),
                server.cameras().size(), server.data_dir().c_str());
    if (!admin_file->empty()) {
      std::printf("First administrator: admin; password in %s (readable only by you)\n",
                  admin_file->c_str());
    }
    std::printf("Stop with Ctrl-C.\n");
    std::fflush(stdout);
    return absl::OkStatus();
  });
}

int RunDemo(const DemoFlags& flags) {
  const sigset_t signals = BlockStopSignals();
  absl::StatusOr<infer::ModelSpec> model = LoadModelSpec(flags.model);
  if (!model.ok()) return Fail("demo", model.status());
  const std::string config_path =
      flags.config.empty() ? std::string(CUSTOS_SOURCE_DIR) + "/examples/demo.yaml" : flags.config;
  absl::StatusOr<config::Config> cfg = LoadServerConfig(config_path, *model);
  if (!cfg.ok()) return Fail("demo", cfg.status());
  absl::StatusOr<face::FaceModel> masking = LoadMaskingModel(flags.model);
  if (!masking.ok()) return Fail("demo", masking.status());
  std::optional<plate::OcrModel> plate_masking;
  if (cfg->privacy.mask_plates) {
    absl::StatusOr<plate::OcrModel> text = LoadPlateMaskingModel(flags.model);
    if (!text.ok()) return Fail("demo", text.status());
    plate_masking = *std::move(text);
  }

  // Sample videos that are not on this machine are left out; the rest become live cameras.
  std::vector<config::CameraConfig> cameras;
  for (config::CameraConfig camera : cfg->cameras) {
    camera.url = config::ResolvePath(*cfg, camera.url);
    std::error_code ec;
    if (!absl::StrContains(camera.url, "://") && !fs::is_regular_file(camera.url, ec)) {
      std::printf("demo: leaving out camera '%s': %s is not here\n", camera.id.c_str(),
                  camera.url.c_str());
      continue;
    }
    cameras.push_back(camera);
  }
  if (cameras.empty()) {
    return Fail("demo", absl::FailedPreconditionError(
                            "none of the demo's sample videos is here; run tools/setup.sh"));
  }
  std::vector<RtspChild> children;
  if (!flags.no_rtsp) {
    for (config::CameraConfig& camera : cameras) {
      if (absl::StrContains(camera.url, "://")) continue;
      absl::StatusOr<RtspChild> child = StartRtspServer(camera.url, camera.id);
      if (!child.ok()) {
        std::printf("demo: %s; camera '%s' plays its file directly instead\n",
                    std::string(child.status().message()).c_str(), camera.id.c_str());
        continue;
      }
      children.push_back(*child);
      camera.url = absl::StrCat("rtsp://127.0.0.1:", child->port, "/", camera.id);
    }
  }
  cfg->cameras = cameras;

  server::ServerOptions options;
  options.config = *std::move(cfg);
  options.data_dir =
      flags.data_dir.empty() ? std::string(CUSTOS_SOURCE_DIR) + "/var/demo" : flags.data_dir;
  options.port = flags.port;
  options.model = *model;
  options.face_detector = *masking;
  options.plate_mask_detector = plate_masking;
  options.face_manifest =
      flags.model.manifest.empty() ? infer::DefaultManifestPath() : flags.model.manifest;
  options.face_models_dir =
      flags.model.models_dir.empty() ? infer::DefaultModelsDir() : flags.model.models_dir;
  const int code =
      RunUntilSignal("demo", options, signals, [&](server::Server& server) -> absl::Status {
        const std::string credentials = server.data_dir() + "/credentials.txt";
        absl::StatusOr<std::string> admin_file = EnsureInitialAdmin(server, credentials);
        if (!admin_file.ok()) return admin_file.status();
        if (!admin_file->empty()) {
          // The demo also needs someone who may watch: an investigator (live view, alerts,
          // search, playback), with a random password in the same owner-only file.
          const std::string password = auth::RandomToken(12);
          const auth::Principal bootstrap{auth::Principal::Kind::kUser, 0, "demo-setup",
                                          auth::Role::kAdmin};
          absl::StatusOr<auth::User> user = server.authenticator().CreateUser(
              bootstrap, {"investigator", password, auth::Role::kInvestigator});
          if (!user.ok()) return user.status();
          std::ofstream out(credentials, std::ios::app);
          out << "role: admin\n# The admin manages users and cameras and sees no video.\n\n"
              << "username: investigator\npassword: " << password << "\nrole: investigator\n"
              << "# The investigator watches live video and alerts, searches and plays back.\n";
          out.close();
          if (!out) return absl::UnavailableError("cannot append to " + credentials);
        }
        std::printf("Custos is running at %s\n", UrlFor(server, "127.0.0.1").c_str());
        std::printf("Credentials: %s\n", credentials.c_str());
        std::printf("(readable only by you; log in as investigator to watch and play back)\n");
        std::printf("%zu cameras%s. Stop with Ctrl-C.\n", server.cameras().size(),
                    children.empty() ? " playing their files" : " streaming over RTSP on loopback");
        std::fflush(stdout);
        return absl::OkStatus();
      });
  StopChildren(children);
  return code;
}

}  // namespace custos::cli
