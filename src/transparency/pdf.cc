#include "transparency/pdf.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace custos::transparency {
namespace {

namespace fs = std::filesystem;

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// file:// URL of an absolute path, percent-encoding everything but unreserved characters and
// '/'.
std::string FileUrl(const std::string& absolute_path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string url = "file://";
  for (const char ch : absolute_path) {
    const auto c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      url += ch;
    } else {
      url += '%';
      url += kHex[c >> 4];
      url += kHex[c & 15];
    }
  }
  return url;
}

// The last `max_lines` lines of a file that are not Chromium's routine complaints about a
// missing D-Bus (always there in containers and on servers).
std::string TailOfLog(const std::string& path, size_t max_lines) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> kept;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    if (line.find("dbus") != absl::string_view::npos) continue;
    kept.emplace_back(line);
  }
  if (kept.size() > max_lines) kept.erase(kept.begin(), kept.end() - static_cast<long>(max_lines));
  std::string out;
  for (const std::string& line : kept) absl::StrAppend(&out, out.empty() ? "" : " | ", line);
  return out.empty() ? "no output" : out;
}

bool StartsWithPdfMagic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[5] = {};
  in.read(magic, 5);
  return in.gcount() == 5 && std::string_view(magic, 5) == "%PDF-";
}

}  // namespace

absl::StatusOr<std::string> FindChromium(const PdfOptions& options) {
  if (!options.chromium.empty()) {
    if (IsExecutableFile(options.chromium)) return options.chromium;
    return absl::FailedPreconditionError(
        absl::StrCat("the PDF needs Chromium, and '", options.chromium,
                     "' is not an executable file; give the path of chromium"));
  }
  if (const char* env = std::getenv("CUSTOS_CHROMIUM"); env != nullptr && *env != '\0') {
    if (IsExecutableFile(env)) return std::string(env);
    return absl::FailedPreconditionError(
        absl::StrCat("the PDF needs Chromium, and CUSTOS_CHROMIUM='", env,
                     "' is not an executable file; fix or unset CUSTOS_CHROMIUM"));
  }
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (const char* name :
       {"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}) {
    for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
      const std::string candidate = absl::StrCat(dir, "/", name);
      if (IsExecutableFile(candidate)) return candidate;
    }
  }
  return absl::FailedPreconditionError(
      "the PDF needs Chromium (headless), and none was found on PATH (chromium, "
      "chromium-browser, google-chrome); install it with `apt-get install chromium` "
      "(tools/setup.sh "
      "does), set CUSTOS_CHROMIUM to its path, or skip the PDF with --no-pdf");
}

absl::Status WritePdf(const std::string& html_path, const std::string& pdf_path,
                      const PdfOptions& options) {
  std::error_code ec;
  const fs::path html = fs::absolute(html_path, ec);
  if (ec || !fs::is_regular_file(html, ec)) {
    return absl::NotFoundError(absl::StrCat("no HTML file '", html_path, "' to print"));
  }
  absl::StatusOr<std::string> chromium = FindChromium(options);
  if (!chromium.ok()) return chromium.status();

  // A private profile: Chromium refuses to share one with a running browser, and nothing of
  // this run should be left behind.
  std::string profile_template = (fs::temp_directory_path(ec) / "custos-chromium-XXXXXX").string();
  if (ec || ::mkdtemp(profile_template.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create a temporary folder for Chromium's profile: ", std::strerror(errno),
        "; check TMPDIR"));
  }
  const std::string profile = profile_template;
  struct ProfileCleanup {
    std::string dir;
    ~ProfileCleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{profile};
  const std::string log_path = profile + "/chromium.log";
  const fs::path pdf = fs::absolute(pdf_path, ec);
  const std::string partial = pdf.string() + ".partial";
  fs::remove(partial, ec);

  std::vector<std::string> args = {*chromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-extensions",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--no-pdf-header-footer",
                                   "--user-data-dir=" + profile,
                                   "--print-to-pdf=" + partial,
                                   FileUrl(html.lexically_normal().string())};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  // Its own process group, so that on a timeout the browser and its helpers go together.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot start ", *chromium, ": ", std::strerror(rc)));
  }

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  for (;;) {
    // WNOWAIT leaves the browser a zombie, so its process group id cannot be reused until the
    // group is cleaned up below.
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    const int waited = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (waited == 0 && info.si_pid == pid) break;
    if (waited < 0 && errno != EINTR) {
      return absl::InternalError(
          absl::StrCat("waiting for Chromium failed: ", std::strerror(errno)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      int ignored_status = 0;
      ::waitpid(pid, &ignored_status, 0);
      fs::remove(partial, ec);
      return absl::DeadlineExceededError(absl::StrCat(
          "Chromium did not finish printing ", html_path, " within ", options.timeout_ms / 1000,
          " s and was stopped; last output: ", TailOfLog(log_path, 3)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Helpers still in the browser's group (its crash handler) go with it; then reap it.
  ::kill(-pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);

  const bool exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!exited_ok || !StartsWithPdfMagic(partial)) {
    fs::remove(partial, ec);
    const std::string how = WIFEXITED(status)
                                ? absl::StrCat("exited with status ", WEXITSTATUS(status))
                                : absl::StrCat("was killed by signal ", WTERMSIG(status));
    return absl::InternalError(absl::StrCat("Chromium (", *chromium, ") ", how,
                                            exited_ok ? " but wrote no PDF" : "",
                                            "; its output: ", TailOfLog(log_path, 3)));
  }
  fs::rename(partial, pdf, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(partial, ec);
    return absl::UnavailableError(
        absl::StrCat("cannot write ", pdf_path, ": ", why, "; check the folder"));
  }
  return absl::OkStatus();
}

}  // namespace custos::transparency
