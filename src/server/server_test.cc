// Unit tests of the server module that need no model: which camera URLs the server accepts,
// and a camera supervisor facing an unreachable camera (with a fake detector).
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/camera_runner.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "store/event_json.h"

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
  const int64_t seq_at_end = (*runner)->Health().frames_analysed;
  const int64_t wall_at_end = (*runner)->Health().last_frame_ms;
  // 697 frames at 5 fps.
  EXPECT_NEAR(static_cast<double>(seq_at_end), 697, 3);
  // The camera restarts an ended stream after 1 s; give it more than that.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const api::CameraHealth health = (*runner)->Health();
  EXPECT_EQ(health.reconnects, 0) << "the file was opened again";
  EXPECT_THAT(health.last_error, HasSubstr("end of video"));
  EXPECT_EQ(health.frames_analysed, seq_at_end) << "the file was read again";
  EXPECT_EQ(health.last_frame_ms, wall_at_end);
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

// --- Face recognition on a camera (fake person detector and face models, real stores) --------

// One "person" in the middle of every image the pipeline asks about.
class OnePerson final : public Detector {
 public:
  absl::StatusOr<std::vector<Detections>> DetectBatch(const std::vector<cv::Mat>& images) override {
    std::vector<Detections> out;
    for (const cv::Mat& image : images) {
      const float w = static_cast<float>(image.cols);
      const float h = static_cast<float>(image.rows);
      out.push_back({{.class_id = 0,
                      .label = "person",
                      .score = 0.9f,
                      .box = {0.35f * w, 0.1f * h, 0.3f * w, 0.8f * h}}});
    }
    return out;
  }
  const std::vector<std::string>& labels() const override { return labels_; }
  cv::Size input_size() const override { return {320, 320}; }

 private:
  std::vector<std::string> labels_ = {"person"};
};

face::Embedding UnitVector(uint32_t seed) {
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

// Every head region holds one sharp frontal face with the same embedding (as
// watchlist_test.cc's fake); counts how often face analysis ran.
class SameFace final : public watchlist::FaceSource {
 public:
  explicit SameFace(face::Embedding embedding) : embedding_(std::move(embedding)) {}
  absl::StatusOr<std::optional<face::AnalyzedFace>> LargestFace(const cv::Mat& image) override {
    ++calls;
    face::AnalyzedFace f;
    f.detection.score = 0.9f;
    f.detection.box =
        cv::Rect2f(2, 2, static_cast<float>(image.cols) - 4, static_cast<float>(image.rows) / 2);
    f.quality = {120, 200, 0.05f, 0.45f, true, ""};
    f.embedding = embedding_;
    return f;
  }
  std::atomic<int> calls{0};

 private:
  const face::Embedding embedding_;
};

class CameraFaceRecognitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("server-faces");
    policy::PolicyEngineOptions po;
    po.path = (dir_ / "policy.db").string();
    po.cameras = {{"gate", std::nullopt, {}}};
    auto engine = policy::PolicyEngine::Create(po, {Clock::Real(), &auditor_, nullptr});
    ASSERT_TRUE(engine.ok()) << engine.status();
    policy_ = *std::move(engine);
    watchlist::WatchlistOptions wo;
    wo.path = (dir_ / "watchlist.db").string();
    wo.key_path = (dir_ / "keys" / "watchlist.key").string();
    auto store = watchlist::WatchlistStore::Create(wo, {Clock::Real(), policy_.get(), &auditor_});
    ASSERT_TRUE(store.ok()) << store.status();
    watchlist_ = *std::move(store);
    watchlist::MatchStoreOptions mo;
    mo.path = (dir_ / "face_matches.db").string();
    mo.key_path = wo.key_path;
    auto matches = watchlist::MatchStore::Create(mo, {Clock::Real(), &auditor_});
    ASSERT_TRUE(matches.ok()) << matches.status();
    matches_ = *std::move(matches);
    auto matcher = watchlist::WatchlistMatcher::Create({}, watchlist_.get());
    ASSERT_TRUE(matcher.ok()) << matcher.status();
    matcher_ = *std::move(matcher);
    const int64_t now = Clock::Real()->WallMs();
    AddBasis("WL-1", policy::Act::kWatchlistEntry, now);
    AddBasis("FR-1", policy::Act::kFaceRecognition, now);
    // An active entry with the face every head region holds.
    auto entry = watchlist_->Propose(kIvy, Spec(), {face_});
    ASSERT_TRUE(entry.ok()) << entry.status();
    auto active = watchlist_->Approve(kSam, entry->id);
    ASSERT_TRUE(active.ok()) << active.status();
    entry_id_ = active->id;
  }
  void TearDown() override {
    matcher_.reset();
    matches_.reset();
    watchlist_.reset();
    policy_.reset();
    fs::remove_all(dir_);
  }

  void AddBasis(const std::string& reference, policy::Act act, int64_t now) {
    policy::LegalBasis basis;
    basis.reference = reference;
    basis.type = policy::LegalBasisType::kCourtOrder;
    basis.issuing_authority = "Amtsgericht Musterstadt";
    basis.scope.acts = {act};
    basis.valid_from_ms = now - 86'400'000;
    basis.expires_ms = now + 30 * 86'400'000LL;
    auto added = policy_->AddLegalBasis(kAdmin, basis);
    ASSERT_TRUE(added.ok()) << added.status();
  }

  void Authorise(const std::string& camera) {
    const int64_t now = Clock::Real()->WallMs();
    auto request = policy_->RequestApproval(
        kAdmin, {policy::ApprovalKind::kFaceAuthorisation, "search", "FR-1", "", "manhunt"});
    ASSERT_TRUE(request.ok()) << request.status();
    ASSERT_TRUE(policy_->Approve(kSam, request->id).ok());
    policy::FaceAuthorisation a;
    a.name = "search";
    a.legal_basis_ref = "FR-1";
    a.approval_id = request->id;
    a.cameras = {camera};
    a.start_ms = now - 3'600'000;
    a.end_ms = now + 3'600'000;
    a.purpose = policy::FacePurpose::kWantedPerson;
    a.issuing_authority = "Amtsgericht Musterstadt";
    a.expires_ms = now + 86'400'000;
    auto added = policy_->AddFaceAuthorisation(kAdmin, a);
    ASSERT_TRUE(added.ok()) << added.status();
  }

  static watchlist::ProposalSpec Spec() {
    watchlist::ProposalSpec spec;
    spec.label = "Case 114 - J. Doe";
    spec.category = watchlist::SubjectCategory::kWantedSuspect;
    spec.legal_basis_ref = "WL-1";
    spec.reason = "arrest warrant 12 Gs 345/26";
    return spec;
  }

  // The person video as camera "gate", with face recognition wired as the server wires it.
  absl::StatusOr<std::unique_ptr<CameraRunner>> Runner(const std::string& video) {
    CameraRunnerOptions options = RunnerOptions(video, dir_.string());
    options.camera.record.mode = config::RecordMode::kOff;
    options.motion.threshold = 1;  // Every frame "moves": the fake person is always seen.
    options.motion.min_area = 0;
    options.face_policy = policy_.get();
    options.watchlist_matcher = matcher_.get();
    options.face_source = &faces_;
    return CameraRunner::Create(
        options, &detector_, nullptr, [](const std::vector<Event>&) {}, Clock::Real(),
        [this](watchlist::FaceMatch match, BoxF box) {
          auto raised = RecordFaceMatch(*matches_, bus_, match, box);
          EXPECT_TRUE(raised.ok()) << raised.status();
        });
  }

  static inline const auth::Principal kAdmin{auth::Principal::Kind::kUser, 1, "root",
                                             auth::Role::kAdmin};
  static inline const auth::Principal kIvy{auth::Principal::Kind::kUser, 2, "ivy",
                                           auth::Role::kInvestigator};
  static inline const auth::Principal kSam{auth::Principal::Kind::kUser, 3, "sam",
                                           auth::Role::kSupervisor};
  fs::path dir_;
  policy::InMemoryPolicyAuditor auditor_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::unique_ptr<watchlist::WatchlistStore> watchlist_;
  std::unique_ptr<watchlist::MatchStore> matches_;
  std::unique_ptr<watchlist::WatchlistMatcher> matcher_;
  face::Embedding face_ = UnitVector(7);
  SameFace faces_{UnitVector(7)};
  OnePerson detector_;
  api::EventBus bus_;
  std::string entry_id_;
};

TEST_F(CameraFaceRecognitionTest, WithoutAnAuthorisationNoFaceIsEverLookedFor) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData("video/one-by-one-person-detection.mp4"));
  auto runner = Runner(video);
  ASSERT_TRUE(runner.ok()) << runner.status();
  (*runner)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*runner)->FaceStats().refused_tracks >= 50; }, 60'000))
      << "no person tracks reached the recognizer; frames " << (*runner)->Health().frames_analysed
      << ", error " << (*runner)->Health().last_error;
  (*runner)->Stop();
  const watchlist::RecognizerStats stats = (*runner)->FaceStats();
  EXPECT_EQ(stats.attempts, 0);
  EXPECT_EQ(stats.embedded, 0);
  EXPECT_EQ(faces_.calls.load(), 0) << "face analysis ran without an authorisation";
  EXPECT_EQ(stats.refused_by_rule.size(), 1u);
  EXPECT_EQ(stats.refused_by_rule.count("face.no_authorisation"), 1u)
      << "refused by another rule than the missing authorisation";
  EXPECT_TRUE(matches_->List({})->empty());
}

// The recognizer on the analytics thread costs ~nothing while nothing is authorised: it asks
// the policy engine per person and returns.
TEST_F(CameraFaceRecognitionTest, RecognitionCostsMicrosecondsPerFrameWhenNothingIsAuthorised) {
  auto recognizer =
      watchlist::TrackFaceRecognizer::Create({}, policy_.get(), matcher_.get(), &faces_);
  ASSERT_TRUE(recognizer.ok()) << recognizer.status();
  const cv::Mat frame(360, 640, CV_8UC3, cv::Scalar::all(80));
  std::vector<watchlist::PersonTrack> persons;
  for (int i = 0; i < 5; ++i) {
    persons.push_back(
        {i + 1, BoxF{40.0f + 100.0f * static_cast<float>(i), 40, 60, 200}, false, std::nullopt});
  }
  const int kFrames = 2000;
  const int64_t t0 = Clock::Real()->WallMs();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kFrames; ++i) {
    auto found = (*recognizer)->ProcessFrame("gate", t0 + i * 200, frame, persons);
    ASSERT_TRUE(found.ok()) << found.status();
  }
  const double us_per_frame = SecondsSince(start) * 1e6 / kFrames;
  std::cout << "recognizer, 5 persons, no authorisation: " << us_per_frame << " us per frame\n";
  EXPECT_EQ((*recognizer)->stats().attempts, 0);
  EXPECT_EQ(faces_.calls.load(), 0);
  // One detector inference is tens of ms; this must be far below one.
  EXPECT_LT(us_per_frame, 500);
}

TEST_F(CameraFaceRecognitionTest, UnderAnAuthorisationAnEnrolledFaceBecomesAStoredLeadAndAnAlert) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData("video/one-by-one-person-detection.mp4"));
  ASSERT_NO_FATAL_FAILURE(Authorise("gate"));
  auto alerts = bus_.Subscribe([](const Event& e) { return e.type == EventType::kFaceMatch; }, 16);
  auto runner = Runner(video);
  ASSERT_TRUE(runner.ok()) << runner.status();
  (*runner)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*runner)->FaceStats().matches >= 1; }, 60'000))
      << "attempts " << (*runner)->FaceStats().attempts << ", refused "
      << (*runner)->FaceStats().refused_tracks << ", error " << (*runner)->Health().last_error;
  (*runner)->Stop();
  EXPECT_GT(faces_.calls.load(), 0);

  auto stored = matches_->List({});
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_GE(stored->size(), 1u);
  const watchlist::StoredMatch& lead = stored->back();
  EXPECT_EQ(lead.status, watchlist::MatchStatus::kLead);
  EXPECT_EQ(lead.match.entry_id, entry_id_);
  EXPECT_EQ(lead.match.camera, "gate");
  EXPECT_GE(lead.match.score, 0.99f);
  auto with_crop = matches_->Get(lead.id);
  ASSERT_TRUE(with_crop.ok()) << with_crop.status();
  EXPECT_EQ(with_crop->match.crop_jpeg.substr(0, 2), "\xff\xd8");

  // The alert: a face_match event with the match's id, the entry and its label, a lead.
  auto published = alerts->Next(absl::Seconds(1));
  ASSERT_TRUE(published.ok()) << published.status();
  ASSERT_FALSE(published->empty());
  const Event& alert = published->front();
  EXPECT_EQ(alert.type, EventType::kFaceMatch);
  EXPECT_EQ(alert.camera, "gate");
  EXPECT_EQ(alert.watchlist_entry, entry_id_);
  EXPECT_EQ(alert.watchlist_label, "Case 114 - J. Doe");
  bool is_stored = false;
  for (const watchlist::StoredMatch& m : *stored) is_stored = is_stored || m.id == alert.id;
  EXPECT_TRUE(is_stored) << "the alert's id is not a stored match";
  const std::string line = store::EventToJsonLine(alert);
  EXPECT_THAT(line, HasSubstr("\"type\":\"face_match\""));
  EXPECT_THAT(line, HasSubstr("\"lead\":true"));
  // Recorded through the auditor.
  int recorded = 0;
  for (const policy::PolicyChange& c : auditor_.records()) {
    recorded += c.action == policy::PolicyAction::kFaceMatchRecord;
  }
  EXPECT_EQ(recorded, static_cast<int>(stored->size()));
}

}  // namespace
}  // namespace custos::server
