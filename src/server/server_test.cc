// Unit tests of the server module that need no model: which camera URLs the server accepts,
// and a camera supervisor facing an unreachable camera (with a fake detector).
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/camera_runner.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace custos::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// --- CheckCameraUrl ---------------------------------------------------------------------------

class CheckCameraUrlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::weakly_canonical(custos::testing::TempDir("server-roots")).string();
    outside_ = fs::weakly_canonical(custos::testing::TempDir("server-outside")).string();
    fs::create_directories(root_ + "/sub");
    std::ofstream(root_ + "/video.mp4") << "x";
    std::ofstream(root_ + "/sub/clip.mp4") << "x";
    std::ofstream(outside_ + "/secret.mp4") << "x";
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove_all(outside_);
  }

  // Refused with kInvalidArgument and a message naming the roots.
  void ExpectRefusedNamingRoots(const std::string& url) {
    const absl::Status status = CheckCameraUrl(url, {root_});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(std::string(status.message()), HasSubstr(root_)) << url;
    EXPECT_THAT(std::string(status.message()), HasSubstr("media_roots")) << url;
  }

  std::string root_;
  std::string outside_;
};

TEST_F(CheckCameraUrlTest, NetworkCamerasAreAccepted) {
  for (const char* url : {"rtsp://192.0.2.10:554/stream", "rtsps://cam.example:322/live",
                          "http://192.0.2.10/video.mjpg", "https://cam.example/live.m3u8",
                          "rtsp://user:pass@192.0.2.10/x"}) {
    EXPECT_TRUE(CheckCameraUrl(url, {}).ok()) << url << ": " << CheckCameraUrl(url, {});
  }
}

TEST_F(CheckCameraUrlTest, FilesInsideARootAreAccepted) {
  EXPECT_TRUE(CheckCameraUrl(root_ + "/video.mp4", {root_}).ok());
  EXPECT_TRUE(CheckCameraUrl(root_ + "/sub/clip.mp4", {outside_, root_}).ok());
  EXPECT_TRUE(CheckCameraUrl("file://" + root_ + "/video.mp4", {root_}).ok());
  // ".." that stays inside the root is fine.
  EXPECT_TRUE(CheckCameraUrl(root_ + "/sub/../video.mp4", {root_}).ok());
  // A root written with a trailing slash, or with "..", is the same folder.
  EXPECT_TRUE(CheckCameraUrl(root_ + "/video.mp4", {root_ + "/"}).ok())
      << CheckCameraUrl(root_ + "/video.mp4", {root_ + "/"});
  EXPECT_TRUE(CheckCameraUrl(root_ + "/video.mp4", {root_ + "/sub/.."}).ok());
}

TEST_F(CheckCameraUrlTest, DotDotOutOfTheRootIsRefused) {
  ExpectRefusedNamingRoots(root_ + "/../etc/passwd");
  ExpectRefusedNamingRoots(root_ + "/../../../../../../etc/passwd");
  ExpectRefusedNamingRoots(root_ + "/sub/../../" + fs::path(outside_).filename().string() +
                           "/secret.mp4");
  ExpectRefusedNamingRoots("file://" + root_ + "/../../../../etc/passwd");
}

TEST_F(CheckCameraUrlTest, ASymlinkInsideTheRootPointingOutIsRefused) {
  fs::create_symlink("/etc/passwd", root_ + "/passwd.mp4");
  fs::create_directory_symlink(outside_, root_ + "/elsewhere");
  ExpectRefusedNamingRoots(root_ + "/passwd.mp4");
  ExpectRefusedNamingRoots(root_ + "/elsewhere/secret.mp4");
  ExpectRefusedNamingRoots("file://" + root_ + "/elsewhere/secret.mp4");
  // A root that is a prefix of another folder's name does not admit that folder.
  const std::string sibling = root_ + "-evil";
  fs::create_directories(sibling);
  std::ofstream(sibling + "/video.mp4") << "x";
  ExpectRefusedNamingRoots(sibling + "/video.mp4");
  fs::remove_all(sibling);
}

TEST_F(CheckCameraUrlTest, FileUrlsOutsideTheRootsAreRefused) {
  ExpectRefusedNamingRoots("file:///etc/passwd");
  ExpectRefusedNamingRoots("file://localhost/etc/shadow");
  ExpectRefusedNamingRoots("/etc/passwd");
  ExpectRefusedNamingRoots("file://" + outside_ + "/secret.mp4");
}

TEST_F(CheckCameraUrlTest, FfmpegProtocolTricksAreRefused) {
  // concat: and subfile, would make FFmpeg read other files; neither gets through.
  for (const std::string& url : std::vector<std::string>{
           "concat:" + root_ + "/video.mp4|/etc/passwd", "subfile:" + root_ + "/video.mp4",
           "subfile,,start,0,end,100,,:/etc/passwd", "pipe:0", "data:video/mp4;base64,AAAA",
           "crypto:" + root_ + "/video.mp4", "async:file:" + root_ + "/video.mp4"}) {
    const absl::Status status = CheckCameraUrl(url, {root_});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << url;
  }
  // "subfile,,..." has no URL scheme, so it is a relative path, resolved outside the root.
  ExpectRefusedNamingRoots("subfile,,start,0,end,100,,:/etc/passwd");
}

TEST_F(CheckCameraUrlTest, RelativePathsOutsideTheRootsAreRefused) {
  ExpectRefusedNamingRoots("video.mp4");  // Relative to the working directory, not a root.
  ExpectRefusedNamingRoots("../../../../etc/passwd");
  ExpectRefusedNamingRoots("./etc/passwd");
}

TEST_F(CheckCameraUrlTest, NoRootsConfiguredRefusesEveryFile) {
  const absl::Status status = CheckCameraUrl(root_ + "/video.mp4", {});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("none configured"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("media_roots"));
  EXPECT_THAT(std::string(status.message()), HasSubstr(root_ + "/video.mp4"));
}

TEST_F(CheckCameraUrlTest, UnsupportedSchemesAreRefused) {
  for (const char* url : {"ftp://192.0.2.1/video.mp4", "gopher://192.0.2.1/1", "tcp://127.0.0.1:9",
                          "udp://127.0.0.1:1234", "rtmp://192.0.2.1/live", "smb://host/share"}) {
    const absl::Status status = CheckCameraUrl(url, {root_});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(std::string(status.message()), HasSubstr("unsupported scheme")) << url;
  }
}

TEST_F(CheckCameraUrlTest, RefusalsNeverShowThePassword) {
  const absl::Status status = CheckCameraUrl("ftp://user:hunter2@192.0.2.1/x", {root_});
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("hunter2")));
}

// --- CameraRunner against an unreachable camera -----------------------------------------------

// Returns nothing, instantly: analytics is not what these tests are about.
class NoDetections final : public Detector {
 public:
  absl::StatusOr<std::vector<Detections>> DetectBatch(const std::vector<cv::Mat>& images) override {
    return std::vector<Detections>(images.size());
  }
  const std::vector<std::string>& labels() const override { return labels_; }
  cv::Size input_size() const override { return {320, 320}; }

 private:
  std::vector<std::string> labels_ = {"person", "bicycle", "car", "motorcycle", "bus", "truck"};
};

// A loopback TCP port that nothing listens on (bound, then closed).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// Everything logged while it lives, as text (the default logger is restored afterwards).
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

struct CollectedEvents {
  std::mutex mu;
  std::vector<Event> events;
  EventSink Sink() {
    return [this](const std::vector<Event>& batch) {
      std::lock_guard<std::mutex> lock(mu);
      events.insert(events.end(), batch.begin(), batch.end());
    };
  }
};

template <typename Predicate>
bool WaitFor(Predicate done, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

CameraRunnerOptions RunnerOptions(const std::string& url, const std::string& data_dir) {
  CameraRunnerOptions o;
  o.camera.id = "gate";
  o.camera.name = "Gate";
  o.camera.url = url;
  o.camera.record.segment_s = 2;
  o.data_dir = data_dir;
  o.realtime_files = false;
  o.reconnect_max_ms = 1000;
  o.stall_timeout_ms = 2000;
  o.record_retry_ms = 200;
  return o;
}

TEST(CameraRunner, UnreachableCameraIsShownDisconnectedWithTheReasonAndStopsPromptly) {
  const int port = ClosedPort();
  ASSERT_GT(port, 0);
  const fs::path dir = custos::testing::TempDir("server-unreachable");
  auto index = record::SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  NoDetections detector;
  CollectedEvents events;
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(port) + "/x";
  auto runner = CameraRunner::Create(RunnerOptions(url, dir.string()), &detector, index->get(),
                                     events.Sink(), Clock::Real());
  ASSERT_TRUE(runner.ok()) << runner.status();
  (*runner)->Start();
  ASSERT_TRUE(WaitFor([&] { return !(*runner)->Health().last_error.empty(); }, 10'000));
  // Let it retry at least once more.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const api::CameraHealth health = (*runner)->Health();
  EXPECT_EQ(health.camera, "gate");
  EXPECT_FALSE(health.connected);
  EXPECT_EQ(health.fps, 0);
  EXPECT_EQ(health.last_frame_ms, 0);
  EXPECT_THAT(health.last_error, HasSubstr(url));
  EXPECT_THAT(health.last_error, HasSubstr("cannot open"));
  EXPECT_FALSE((*runner)->Latest().has_value());
  EXPECT_FALSE((*runner)->WaitNewer(0, 100).has_value());

  const auto stop_start = std::chrono::steady_clock::now();
  (*runner)->Stop();
  EXPECT_LT(SecondsSince(stop_start), 3.0);
  (*runner)->Stop();  // Idempotent.
  EXPECT_TRUE(events.events.empty());
  auto segments = (*index)->All();
  ASSERT_TRUE(segments.ok());
  EXPECT_TRUE(segments->empty());
  runner->reset();
  fs::remove_all(dir);
}

TEST(CameraRunner, TheCameraPasswordIsInNoHealthFieldAndNoLogLine) {
  const int port = ClosedPort();
  ASSERT_GT(port, 0);
  const fs::path dir = custos::testing::TempDir("server-password");
  auto index = record::SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  NoDetections detector;
  CollectedEvents events;
  CapturedLog log;
  const std::string url =
      "rtsp://user:secret@127.0.0.1:" + std::to_string(port) + "/x?password=secret&token=secret";
  {
    auto runner = CameraRunner::Create(RunnerOptions(url, dir.string()), &detector, index->get(),
                                       events.Sink(), Clock::Real());
    ASSERT_TRUE(runner.ok()) << runner.status();
    (*runner)->Start();
    // Two attempts at least (0.5 s backoff, then 1 s).
    ASSERT_TRUE(WaitFor([&] { return log.text().find("retrying") != std::string::npos; }, 10'000));
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    const api::CameraHealth health = (*runner)->Health();
    EXPECT_THAT(health.last_error, HasSubstr("user:***@127.0.0.1"));
    for (const std::string& field :
         {health.camera, health.last_error, health.recording.error, health.recording.mode}) {
      EXPECT_THAT(field, Not(HasSubstr("secret")));
    }
    (*runner)->Stop();
  }
  const std::string text = log.text();
  EXPECT_THAT(text, HasSubstr("user:***@127.0.0.1")) << text;
  EXPECT_THAT(text, Not(HasSubstr("secret"))) << text;

  fs::remove_all(dir);
}

// A camera that cannot be opened when the server starts (switched off, still booting) is
// recorded once it can be: the failed attempts must not end recording for good.
TEST(CameraRunner, ACameraUnreachableAtFirstIsRecordedOnceItComesUp) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData("video/one-by-one-person-detection.mp4"));
  const fs::path dir = custos::testing::TempDir("server-late-camera");
  const std::string camera_file = (dir / "camera.mp4").string();
  // Not a video yet: opening it fails (as a camera that refuses the connection does).
  std::ofstream(camera_file) << "not a video yet";
  auto index = record::SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  NoDetections detector;
  CollectedEvents events;
  auto runner = CameraRunner::Create(RunnerOptions(camera_file, dir.string()), &detector,
                                     index->get(), events.Sink(), Clock::Real());
  ASSERT_TRUE(runner.ok()) << runner.status();
  (*runner)->Start();
  ASSERT_TRUE(WaitFor([&] { return !(*runner)->Health().last_error.empty(); }, 10'000));
  EXPECT_THAT((*runner)->Health().last_error, HasSubstr("cannot open"));
  // The camera comes up.
  fs::copy_file(video, dir / "camera.tmp");
  fs::rename(dir / "camera.tmp", camera_file);
  ASSERT_TRUE(WaitFor([&] { return (*runner)->Latest().has_value(); }, 15'000));
  // Frames flow; within a few seconds of stream time segments must be closed.
  const bool recorded = WaitFor(
      [&] {
        auto all = (*index)->All();
        return all.ok() && all->size() >= 2;
      },
      15'000);
  (*runner)->Stop();
  EXPECT_TRUE(recorded) << "nothing recorded; health: recording.segments="
                        << (*runner)->Health().recording.segments
                        << " packets_dropped=" << (*runner)->Health().recording.packets_dropped;
  auto all = (*index)->All();
  ASSERT_TRUE(all.ok());
  for (const record::Segment& s : *all) {
    EXPECT_NE(s.state, record::SegmentState::kOpen) << s.path;
    EXPECT_TRUE(fs::exists(dir / s.path)) << s.path;
  }
  runner->reset();
  fs::remove_all(dir);
}

// With realtime_files = false (tests, batch imports) a file is read once, as fast as
// analytics goes: at its end the camera stops reading. Reading it again would stamp its frames
// and segments with wall times before those already recorded.
TEST(CameraRunner, AFileReadFastIsReadOnceAndItsSegmentsFollowEachOther) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData("video/one-by-one-person-detection.mp4"));
  const fs::path dir = custos::testing::TempDir("server-read-once");
  auto index = record::SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  NoDetections detector;
  CollectedEvents events;
  CameraRunnerOptions options = RunnerOptions(video, dir.string());
  options.camera.record.segment_s = 10;
  auto runner =
      CameraRunner::Create(options, &detector, index->get(), events.Sink(), Clock::Real());
  ASSERT_TRUE(runner.ok()) << runner.status();
  (*runner)->Start();
  ASSERT_TRUE(WaitFor(
      [&] { return (*runner)->Health().last_error.find("end of video") != std::string::npos; },
      60'000))
      << (*runner)->Health().last_error;
  const int64_t seq_at_end = (*runner)->Latest()->seq;
  const int64_t wall_at_end = (*runner)->Latest()->wall_ms;
  // 697 frames at 5 fps.
  EXPECT_NEAR(static_cast<double>(seq_at_end), 697, 3);
  // The camera restarts an ended stream after 1 s; give it more than that.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const api::CameraHealth health = (*runner)->Health();
  EXPECT_EQ(health.reconnects, 0) << "the file was opened again";
  EXPECT_THAT(health.last_error, HasSubstr("end of video"));
  EXPECT_EQ((*runner)->Latest()->seq, seq_at_end) << "the file was read again";
  EXPECT_EQ((*runner)->Latest()->wall_ms, wall_at_end);
  (*runner)->Stop();
  auto all = (*index)->All();
  ASSERT_TRUE(all.ok());
  // 139.4 s in 10 s segments.
  EXPECT_GE(all->size(), 13u);
  EXPECT_LE(all->size(), 15u);
  int64_t previous_end_ms = 0;
  int64_t recorded_ms = 0;
  for (const record::Segment& s : *all) {
    EXPECT_EQ(s.state, record::SegmentState::kClosed) << s.path;
    EXPECT_GE(s.start_ms, previous_end_ms - 200) << "segments overlap: " << s.path;
    previous_end_ms = s.end_ms;
    recorded_ms += s.end_ms - s.start_ms;
  }
  EXPECT_NEAR(static_cast<double>(recorded_ms), 139'400, 1000);
  runner->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::server
