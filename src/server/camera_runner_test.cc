// A camera supervisor on real video with the real detector: recorded segments that decode,
// events of the people walking through, a live JPEG, tracks closed at Stop(), and a disk that
// fills up and is freed again (recording pauses and resumes while analytics goes on).
#include "server/camera_runner.h"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "infer/inference_service.h"
#include "infer/model_manifest.h"
#include "infer/openvino_detector.h"
#include "plate/hotlist.h"
#include "plate/plate_service.h"
#include "plate/plate_store.h"
#include "record/record_test_util.h"
#include "server/server.h"
#include "watchlist/enrolment.h"

namespace custos::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<Detector>> LoadDetector() {
  auto specs = infer::LoadManifest(infer::DefaultManifestPath(), infer::DefaultModelsDir());
  if (!specs.ok()) return specs.status();
  auto spec = infer::FindModel(*specs, "nanodet-coco");
  if (!spec.ok()) return spec.status();
  if (!fs::exists(spec->FilePath())) {
    return absl::NotFoundError("model not provisioned: " + spec->FilePath() + " (tools/setup.sh)");
  }
  auto detector = infer::OpenVinoDetector::Create(*spec, {});
  if (!detector.ok()) return detector.status();
  // As the server does: one batching service in front of the model.
  auto service = infer::InferenceService::Create(*std::move(detector), {});
  if (!service.ok()) return service.status();
  return std::unique_ptr<Detector>(*std::move(service));
}

#define REQUIRE_DETECTOR(var)                                                           \
  auto var##_or = LoadDetector();                                                       \
  if (absl::IsNotFound(var##_or.status())) GTEST_SKIP() << var##_or.status().message(); \
  ASSERT_TRUE(var##_or.ok()) << var##_or.status();                                      \
  std::unique_ptr<Detector> var = *std::move(var##_or)

struct CollectedEvents {
  std::mutex mu;
  std::vector<Event> events;
  EventSink Sink() {
    return [this](const std::vector<Event>& batch) {
      std::lock_guard<std::mutex> lock(mu);
      events.insert(events.end(), batch.begin(), batch.end());
    };
  }
  std::vector<Event> Snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return events;
  }
  size_t Count(EventType type, const std::string& label) {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<size_t>(std::count_if(events.begin(), events.end(), [&](const Event& e) {
      return e.type == type && e.label == label;
    }));
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

CameraRunnerOptions PersonVideoCamera(const std::string& video, const std::string& data_dir) {
  CameraRunnerOptions o;
  o.camera.id = "entrance";
  o.camera.name = "Entrance";
  o.camera.url = video;
  o.camera.detect.fps = 5;
  o.camera.detect.height = 360;
  o.camera.record.segment_s = 2;
  o.data_dir = data_dir;
  o.snapshot_dir = data_dir + "/snapshots";
  o.realtime_files = false;
  o.record_retry_ms = 200;
  return o;
}

int64_t ClosedSegments(record::SegmentIndex& index) {
  auto all = index.All();
  if (!all.ok()) return -1;
  return std::count_if(all->begin(), all->end(), [](const record::Segment& s) {
    return s.state == record::SegmentState::kClosed;
  });
}

// Every track_start has its track_end (same track id), and nothing else ended.
void ExpectEveryTrackEnded(const std::vector<Event>& events) {
  std::multiset<int64_t> started, ended;
  for (const Event& e : events) {
    if (e.type == EventType::kTrackStart) started.insert(e.track_id);
    if (e.type == EventType::kTrackEnd) ended.insert(e.track_id);
  }
  EXPECT_EQ(started, ended);
}

// Holds the analytics thread in the sink at the first person's track_start until released,
// so the test can stop the camera while that track is certainly open.
struct HeldAtFirstPerson : CollectedEvents {
  std::condition_variable cv;
  bool held = false;
  bool released = false;
  EventSink Sink() {
    return [this](const std::vector<Event>& batch) {
      std::unique_lock<std::mutex> lock(mu);
      events.insert(events.end(), batch.begin(), batch.end());
      for (const Event& e : batch) {
        if (e.type == EventType::kTrackStart && e.label == "person" && !released) {
          held = true;
          cv.notify_all();
          cv.wait(lock, [this] { return released; });
          break;
        }
      }
    };
  }
  bool WaitHeld(int timeout_ms) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return held; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    released = true;
    cv.notify_all();
  }
};

TEST(CameraRunnerOnRealVideo, RecordsDecodableSegmentsRaisesPersonEventsAndClosesTracksOnStop) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData("video/one-by-one-person-detection.mp4"));
  REQUIRE_DETECTOR(detector);
  const fs::path dir = custos::testing::TempDir("runner-person");
  auto index = record::SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  HeldAtFirstPerson events;
  auto runner = CameraRunner::Create(PersonVideoCamera(video, dir.string()), detector.get(),
                                     index->get(), events.Sink(), Clock::Real());
  ASSERT_TRUE(runner.ok()) << runner.status();
  (*runner)->Start();
  // The first person walks in at about 7 s of the video (read here as fast as analytics
  // goes); the sink holds analytics there. The reader waits for analytics, and the recorder
  // writes what was read: 2 s segments up to about 7 s.
  const bool held = events.WaitHeld(60'000);
  const bool recorded = WaitFor([&] { return ClosedSegments(**index) >= 2; }, 10'000);
  const api::CameraHealth running = (*runner)->Health();
  const std::optional<api::LiveFrame> latest = (*runner)->Latest();
  // Stop with the person's track open: Stop() must end it (track_end), close the open
  // segment and return promptly.
  const auto stop_start = std::chrono::steady_clock::now();
  std::thread stopper([&] { (*runner)->Stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  events.Release();
  stopper.join();
  const double stop_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stop_start).count();
  ASSERT_TRUE(held) << "no person track_start; last_error: " << running.last_error;
  ASSERT_TRUE(recorded) << "closed segments: " << ClosedSegments(**index);
  EXPECT_LT(stop_s, 5.0);

  // Health while running.
  EXPECT_EQ(running.camera, "entrance");
  EXPECT_TRUE(running.connected);
  EXPECT_GT(running.last_frame_ms, 0);
  EXPECT_TRUE(running.recording.active);
  EXPECT_EQ(running.recording.error, "");
  EXPECT_EQ(running.recording.mode, "continuous");

  // Live view: a JPEG of the detect size (768x432 scaled to 360 rows).
  ASSERT_TRUE(latest.has_value());
  ASSERT_NE(latest->jpeg, nullptr);
  const cv::Mat jpeg(1, static_cast<int>(latest->jpeg->size()), CV_8UC1,
                     const_cast<char*>(latest->jpeg->data()));
  const cv::Mat picture = cv::imdecode(jpeg, cv::IMREAD_COLOR);
  ASSERT_FALSE(picture.empty()) << "live frame is not a JPEG";
  EXPECT_EQ(picture.rows, 360);
  EXPECT_EQ(picture.cols, 640);
  EXPECT_EQ(latest->width, 640);
  EXPECT_EQ(latest->height, 360);
  EXPECT_GE(latest->seq, 1);
  EXPECT_GT(running.frames_analysed, 1);

  // Events: persons of this camera, in time order; every started track ended at Stop().
  const std::vector<Event> all = events.Snapshot();
  ASSERT_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].camera, "entrance");
    EXPECT_FALSE(all[i].id.empty());
    if (i > 0) {
      EXPECT_GE(all[i].time_ms, all[i - 1].time_ms) << "event times go back";
    }
  }
  EXPECT_EQ(events.Count(EventType::kTrackStart, "person"), 1u);
  ExpectEveryTrackEnded(all);
  EXPECT_GE(events.Count(EventType::kTrackEnd, "person"), 1u);

  // Recordings: every segment closed by Stop(), on disk, decodable from a keyframe, and
  // back to back in time.
  auto segments = (*index)->All();
  ASSERT_TRUE(segments.ok()) << segments.status();
  ASSERT_GE(segments->size(), 2u);
  int64_t previous_end_ms = 0;
  for (size_t i = 0; i < segments->size(); ++i) {
    const record::Segment& s = (*segments)[i];
    const bool last = i + 1 == segments->size();  // Cut short by Stop().
    EXPECT_EQ(s.state, record::SegmentState::kClosed) << s.path;
    EXPECT_EQ(s.camera, "entrance");
    EXPECT_GT(s.end_ms, s.start_ms) << s.path;
    EXPECT_GE(s.start_ms, previous_end_ms - 200) << "segments overlap: " << s.path;
    previous_end_ms = s.end_ms;
    ASSERT_TRUE(fs::exists(dir / s.path)) << s.path;
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(dir / s.path)), s.bytes) << s.path;
    auto decoded = record::testing::DecodeFile((dir / s.path).string());
    ASSERT_TRUE(decoded.ok()) << s.path << ": " << decoded.status();
    EXPECT_TRUE(decoded->first_packet_key) << s.path;
    EXPECT_GE(decoded->frames, last ? 1 : 20) << s.path;  // 2 s at 10 fps, at least.
    EXPECT_EQ(decoded->errors, 0) << s.path;
  }
  EXPECT_EQ((*runner)->Health().recording.segments, static_cast<int64_t>(segments->size()));
  runner->reset();
  fs::remove_all(dir);
}

// A tmpfs of a few MB, unmounted when the test ends.
class SmallDisk {
 public:
  explicit SmallDisk(const fs::path& where) : path_(where) {
    fs::create_directories(path_);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=4m,mode=0700") == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  int64_t free_bytes() const {
    struct statvfs vfs {};
    if (::statvfs(path_.c_str(), &vfs) != 0) return -1;
    return static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
  }

 private:
  fs::path path_;
  bool mounted_ = false;
  std::string error_;
};

TEST(CameraRunnerOnRealVideo, AFullDiskPausesRecordingNotAnalyticsAndRecordingResumesWhenFreed) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData("video/one-by-one-person-detection.mp4"));
  REQUIRE_DETECTOR(detector);
  const fs::path dir = custos::testing::TempDir("runner-full-disk");
  const fs::path data = dir / "disk";
  {
    SmallDisk disk(data);
    if (!disk.mounted()) {
      fs::remove_all(dir);
      GTEST_SKIP() << "cannot mount a 4 MB tmpfs at " << data << " (" << disk.error()
                   << "); this test needs root or CAP_SYS_ADMIN";
    }
    auto index = record::SegmentIndex::Open(data.string());
    ASSERT_TRUE(index.ok()) << index.status();
    // Leave about two seconds of video's worth of space (the video is ~24 KB/s), so the disk
    // is full before the first person walks in (7 s into the video).
    const fs::path filler = data / "filler";
    {
      const int64_t size = disk.free_bytes() - 64 * 1024;
      ASSERT_GT(size, 0);
      std::ofstream out(filler, std::ios::binary);
      const std::string block(64 * 1024, 'f');
      for (int64_t written = 0; written < size; written += static_cast<int64_t>(block.size())) {
        out.write(block.data(), static_cast<std::streamsize>(std::min<int64_t>(
                                    static_cast<int64_t>(block.size()), size - written)));
      }
      out.close();
      ASSERT_TRUE(out.good());
    }
    CollectedEvents events;
    CameraRunnerOptions options = PersonVideoCamera(video, data.string());
    options.snapshot_dir = (dir / "snapshots").string();  // Not on the small disk.
    options.realtime_files = true;  // A live camera: the file plays at its speed.
    auto runner =
        CameraRunner::Create(options, detector.get(), index->get(), events.Sink(), Clock::Real());
    ASSERT_TRUE(runner.ok()) << runner.status();
    (*runner)->Start();

    // The disk fills up: recording pauses and says why.
    ASSERT_TRUE(WaitFor([&] { return !(*runner)->Health().recording.active; }, 30'000))
        << "recording never paused; free bytes: " << disk.free_bytes();
    const api::CameraHealth paused = (*runner)->Health();
    const std::string reason = absl::AsciiStrToLower(paused.recording.error);
    EXPECT_TRUE(reason.find("disk") != std::string::npos ||
                reason.find("space") != std::string::npos)
        << paused.recording.error;
    EXPECT_THAT(paused.recording.error, HasSubstr("recording paused"));
    const int64_t segments_when_paused = paused.recording.segments;

    // Analytics goes on: frames and events keep coming while recording is paused.
    const int64_t seq_when_paused = (*runner)->Health().frames_analysed;
    const size_t events_when_paused = events.Snapshot().size();
    // Health must say "paused" the whole time, not only right after each failed attempt.
    int shown_active = 0;
    EXPECT_TRUE(WaitFor(
        [&] {
          if ((*runner)->Health().recording.active) ++shown_active;
          return (*runner)->Health().frames_analysed >= seq_when_paused + 10 &&
                 events.Snapshot().size() > events_when_paused;
        },
        30'000))
        << "analytics stalled while the disk was full: seq " << seq_when_paused << " -> "
        << (*runner)->Health().frames_analysed << ", events " << events_when_paused << " -> "
        << events.Snapshot().size();
    const api::CameraHealth still = (*runner)->Health();
    EXPECT_EQ(shown_active, 0) << "health showed recording active while the disk was full";
    EXPECT_FALSE(still.recording.active) << "the disk is still full";
    EXPECT_TRUE(still.connected);
    EXPECT_GT(still.recording.packets_dropped, 0);

    // Space is freed: recording resumes on its own and new segments are closed.
    fs::remove(filler);
    const bool resumed = WaitFor(
        [&] {
          const api::CameraHealth h = (*runner)->Health();
          return h.recording.active && h.recording.error.empty() &&
                 h.recording.segments >= segments_when_paused + 2;
        },
        30'000);
    const api::CameraHealth after = (*runner)->Health();
    (*runner)->Stop();
    EXPECT_TRUE(resumed) << "active=" << after.recording.active << " error='"
                         << after.recording.error << "' segments " << segments_when_paused << " -> "
                         << after.recording.segments;

    // The index agrees with the files; segments written after the pause decode.
    auto segments = (*index)->All();
    ASSERT_TRUE(segments.ok()) << segments.status();
    int decodable = 0;
    for (const record::Segment& s : *segments) {
      EXPECT_NE(s.state, record::SegmentState::kOpen) << s.path;
      ASSERT_TRUE(fs::exists(data / s.path)) << s.path;
      if (s.state != record::SegmentState::kClosed) continue;
      auto decoded = record::testing::DecodeFile((data / s.path).string());
      ASSERT_TRUE(decoded.ok()) << s.path << ": " << decoded.status();
      EXPECT_EQ(decoded->errors, 0) << s.path;
      if (decoded->frames > 0) ++decodable;
    }
    EXPECT_GE(decodable, segments_when_paused + 2);
    runner->reset();
    index->reset();
  }
  fs::remove_all(dir);
}

// The real face models on the person video under an authorisation, with an entry enrolled
// from photos of someone who is not in it: face analysis runs on the person tracks, and
// nothing of the passers-by is stored or raised (the positive path with real faces is
// watchlist_model_test's; the person video has no usable face, docs/face.md).
TEST(CameraRunnerOnRealVideo, UnderAnAuthorisationFacesAreAnalysedAndPassersByLeaveNothing) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData("video/one-by-one-person-detection.mp4"));
  CUSTOS_REQUIRE_DATA(photo_a, custos::testing::SharedData("faces/obama.jpg"));
  CUSTOS_REQUIRE_DATA(photo_b, custos::testing::SharedData("faces/obama1.jpg"));
  REQUIRE_DETECTOR(detector);
  auto analyzer =
      face::FaceAnalyzer::Create(infer::DefaultManifestPath(), infer::DefaultModelsDir(),
                                 face::kDefaultDetector, face::kDefaultEmbedder, {});
  if (absl::IsNotFound(analyzer.status())) GTEST_SKIP() << analyzer.status().message();
  ASSERT_TRUE(analyzer.ok()) << analyzer.status();
  watchlist::AnalyzerFaceSource faces(analyzer->get());

  const fs::path dir = custos::testing::TempDir("runner-faces");
  policy::InMemoryPolicyAuditor auditor;
  policy::PolicyEngineOptions po;
  po.path = (dir / "policy.db").string();
  po.cameras = {{"entrance", std::nullopt, {}}};
  auto policy = policy::PolicyEngine::Create(po, {Clock::Real(), &auditor, nullptr});
  ASSERT_TRUE(policy.ok()) << policy.status();
  const auth::Principal admin{auth::Principal::Kind::kUser, 1, "root", auth::Role::kAdmin};
  const auth::Principal ivy{auth::Principal::Kind::kUser, 2, "ivy", auth::Role::kInvestigator};
  const auth::Principal sam{auth::Principal::Kind::kUser, 3, "sam", auth::Role::kSupervisor};
  const int64_t now = Clock::Real()->WallMs();
  for (const auto& [reference, act] : {std::pair{"WL-1", policy::Act::kWatchlistEntry},
                                       std::pair{"FR-1", policy::Act::kFaceRecognition}}) {
    policy::LegalBasis basis;
    basis.reference = reference;
    basis.type = policy::LegalBasisType::kCourtOrder;
    basis.issuing_authority = "Amtsgericht Musterstadt";
    basis.scope.acts = {act};
    basis.valid_from_ms = now - 86'400'000;
    basis.expires_ms = now + 30 * 86'400'000LL;
    ASSERT_TRUE((*policy)->AddLegalBasis(admin, basis).ok());
  }
  auto request = (*policy)->RequestApproval(
      admin, {policy::ApprovalKind::kFaceAuthorisation, "search", "FR-1", "", "manhunt"});
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_TRUE((*policy)->Approve(sam, request->id).ok());
  policy::FaceAuthorisation a;
  a.name = "search";
  a.legal_basis_ref = "FR-1";
  a.approval_id = request->id;
  a.cameras = {"entrance"};
  a.start_ms = now - 3'600'000;
  a.end_ms = now + 3'600'000;
  a.purpose = policy::FacePurpose::kWantedPerson;
  a.issuing_authority = "Amtsgericht Musterstadt";
  a.expires_ms = now + 86'400'000;
  ASSERT_TRUE((*policy)->AddFaceAuthorisation(admin, a).ok());

  watchlist::WatchlistOptions wo;
  wo.path = (dir / "watchlist.db").string();
  wo.key_path = (dir / "keys" / "watchlist.key").string();
  auto store = watchlist::WatchlistStore::Create(wo, {Clock::Real(), policy->get(), &auditor});
  ASSERT_TRUE(store.ok()) << store.status();
  watchlist::MatchStoreOptions mo;
  mo.path = (dir / "face_matches.db").string();
  mo.key_path = wo.key_path;
  auto matches = watchlist::MatchStore::Create(mo, {Clock::Real(), &auditor});
  ASSERT_TRUE(matches.ok()) << matches.status();
  std::vector<cv::Mat> photos = {cv::imread(photo_a), cv::imread(photo_b)};
  auto embeddings = watchlist::EmbedEnrolmentPhotos(faces, photos);
  ASSERT_TRUE(embeddings.ok()) << embeddings.status();
  watchlist::ProposalSpec spec;
  spec.label = "Case 1 - test subject";
  spec.legal_basis_ref = "WL-1";
  spec.reason = "test";
  auto entry = (*store)->Propose(ivy, spec, *embeddings);
  ASSERT_TRUE(entry.ok()) << entry.status();
  ASSERT_TRUE((*store)->Approve(sam, entry->id).ok());
  auto matcher =
      watchlist::WatchlistMatcher::Create({(*analyzer)->match_threshold()}, store->get());
  ASSERT_TRUE(matcher.ok()) << matcher.status();

  api::EventBus bus;
  auto alerts = bus.Subscribe([](const Event& e) { return e.type == EventType::kFaceMatch; }, 16);
  CameraRunnerOptions options = PersonVideoCamera(video, dir.string());
  options.camera.record.mode = config::RecordMode::kOff;
  options.face_policy = policy->get();
  options.watchlist_matcher = matcher->get();
  options.face_source = &faces;
  CollectedEvents events;
  auto runner =
      CameraRunner::Create(options, detector.get(), nullptr, events.Sink(), Clock::Real(),
                           [&](watchlist::FaceMatch match, BoxF box) {
                             EXPECT_TRUE(RecordFaceMatch(**matches, bus, match, box).ok());
                           });
  ASSERT_TRUE(runner.ok()) << runner.status();
  (*runner)->Start();
  ASSERT_TRUE(WaitFor(
      [&] { return (*runner)->Health().last_error.find("end of video") != std::string::npos; },
      300'000))
      << (*runner)->Health().last_error;
  (*runner)->Stop();
  const watchlist::RecognizerStats stats = (*runner)->FaceStats();
  std::cout << "person video under an authorisation: " << stats.frames << " frames, "
            << stats.attempts << " attempts, " << stats.no_face << " without a face, "
            << stats.low_quality << " below the gate, " << stats.embedded << " embedded, "
            << stats.matches << " matches\n";
  EXPECT_GT(stats.attempts, 20) << "face analysis did not run on the person tracks";
  EXPECT_EQ(stats.refused_tracks, 0);
  EXPECT_EQ(stats.matches, 0);
  EXPECT_TRUE((*matches)->List({})->empty());
  auto raised = alerts->Next(absl::Milliseconds(10));
  EXPECT_TRUE(!raised.ok() || raised->empty());
  runner->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::server

namespace custos::server {
namespace {

// A road photo of ../shared/data/plates/us (plate K179658, read at 0.997 on its own) sliding
// across a wider picture for 5 s at 10 fps: a car passing the camera. MJPEG in AVI, which
// OpenCV writes without an external encoder.
absl::StatusOr<std::string> PassingCarVideo(const std::string& photo_path, const fs::path& dir) {
  cv::Mat photo = cv::imread(photo_path, cv::IMREAD_COLOR);
  if (photo.empty()) return absl::NotFoundError("cannot read " + photo_path);
  if (photo.cols > 1280) {
    cv::resize(photo, photo, cv::Size(), 1280.0 / photo.cols, 1280.0 / photo.cols, cv::INTER_AREA);
  }
  const int width = (photo.cols * 3 / 2) / 2 * 2;
  const int height = photo.rows / 2 * 2;
  const std::string path = (dir / "passing-car.avi").string();
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10,
                         cv::Size(width, height));
  if (!writer.isOpened()) return absl::InternalError("cannot write " + path);
  const int frames = 50;
  for (int i = 0; i < frames; ++i) {
    cv::Mat canvas(height, width, CV_8UC3, cv::Scalar(90, 90, 90));
    const int x = (width - photo.cols) * i / (frames - 1);
    photo(cv::Rect(0, 0, photo.cols, height)).copyTo(canvas(cv::Rect(x, 0, photo.cols, height)));
    writer.write(canvas);
  }
  return path;
}

TEST(CameraRunnerOnRealVideo, ReadsThePlateOfAPassingCarAndRaisesAnApprovedHotlistHit) {
  CUSTOS_REQUIRE_DATA(
      photo, custos::testing::SharedData("plates/us/316b64c0-55bf-4079-a1c0-d93f461a576f.jpg"));
  REQUIRE_DETECTOR(detector);
  plate::PlateReaderOptions reader_options;
  auto reader = plate::PlateReader::Create(reader_options);
  if (absl::IsNotFound(reader.status())) GTEST_SKIP() << reader.status().message();
  ASSERT_TRUE(reader.ok()) << reader.status();
  const fs::path dir = custos::testing::TempDir("runner-plates");
  absl::StatusOr<std::string> video = PassingCarVideo(photo, dir);
  ASSERT_TRUE(video.ok()) << video.status();

  // Policy: a basis for hotlists; ivy proposes the plate, sam approves (four eyes).
  policy::InMemoryPolicyAuditor auditor;
  policy::PolicyEngineOptions po;
  po.path = (dir / "policy.db").string();
  po.cameras = {{"road", std::nullopt, {}}};
  auto policy = policy::PolicyEngine::Create(po, {Clock::Real(), &auditor, nullptr});
  ASSERT_TRUE(policy.ok()) << policy.status();
  const auth::Principal admin{auth::Principal::Kind::kUser, 1, "root", auth::Role::kAdmin};
  const auth::Principal ivy{auth::Principal::Kind::kUser, 2, "ivy", auth::Role::kInvestigator};
  const auth::Principal sam{auth::Principal::Kind::kUser, 3, "sam", auth::Role::kSupervisor};
  policy::LegalBasis basis;
  basis.reference = "HL-1";
  basis.issuing_authority = "Amtsgericht Musterstadt";
  basis.scope.acts = {policy::Act::kPlateHotlist};
  basis.valid_from_ms = Clock::Real()->WallMs() - 3'600'000;
  basis.expires_ms = Clock::Real()->WallMs() + 10LL * 86'400'000;
  ASSERT_TRUE((*policy)->AddLegalBasis(admin, basis).ok());
  auto plates = plate::PlateStore::Create({.path = (dir / "plates.db").string()},
                                          {.clock = Clock::Real(), .auditor = &auditor});
  ASSERT_TRUE(plates.ok()) << plates.status();
  auto hotlist = plate::HotlistStore::Create(
      {.path = (dir / "hotlist.db").string()},
      {.clock = Clock::Real(), .policy = policy->get(), .auditor = &auditor});
  ASSERT_TRUE(hotlist.ok()) << hotlist.status();
  auto entry = (*hotlist)->Propose(ivy, {.plate = "K179658",
                                         .label = "stolen car, case 4711",
                                         .reason = "reported stolen",
                                         .legal_basis_ref = "HL-1"});
  ASSERT_TRUE(entry.ok()) << entry.status();
  ASSERT_TRUE((*hotlist)->Approve(sam, entry->id).ok());

  std::mutex mu;
  std::vector<plate::StoredHit> hits;
  auto service = plate::PlateService::Create(
      {}, reader->get(), plates->get(), hotlist->get(),
      [&](const plate::StoredHit& hit) {
        std::lock_guard<std::mutex> lock(mu);
        hits.push_back(hit);
      },
      Clock::Real());
  ASSERT_TRUE(service.ok()) << service.status();

  CameraRunnerOptions o = PersonVideoCamera(*video, dir.string());
  o.camera.id = "road";
  o.camera.record.mode = config::RecordMode::kOff;
  o.plates = service->get();
  CollectedEvents events;
  auto runner = CameraRunner::Create(o, detector.get(), nullptr, events.Sink(), Clock::Real());
  ASSERT_TRUE(runner.ok()) << runner.status();
  (*runner)->Start();
  // The car is in every frame; its track ends when the camera stops at the end of the file.
  WaitFor([&] { return (*service)->stats().crops_read >= 4; }, 120'000);
  (*runner)->Stop();
  (*service)->Stop();  // Votes the tracks still open and stores them.
  const plate::PlateServiceStats stats = (*service)->stats();
  EXPECT_GE(stats.crops_read, 2) << stats.last_error;
  EXPECT_EQ(stats.errors, 0) << stats.last_error;

  // The file is read faster than real time, so its frames' wall times (and the read's) run
  // up to a few seconds ahead of the clock: the query reaches an hour ahead.
  auto reads =
      (*plates)->Query({.pattern = "", .to_ms = Clock::Real()->WallMs() + 3'600'000, .limit = 100});
  ASSERT_TRUE(reads.ok()) << reads.status();
  ASSERT_FALSE(reads->empty()) << "no plate read stored; crops offered " << stats.crops_offered
                               << ", dropped " << stats.crops_dropped << ", read "
                               << stats.crops_read << ", reads stored " << stats.reads_stored
                               << ", errors " << stats.errors << " " << stats.last_error;
  const plate::StoredRead& read = (*reads)[0];
  EXPECT_EQ(read.plate, "K179658");
  EXPECT_EQ(read.camera, "road");
  EXPECT_EQ(read.label, "car");
  EXPECT_GE(read.frames, 2);
  EXPECT_GT(read.confidence, 0.5f);
  EXPECT_EQ(read.expires_ms, read.time_ms + 72LL * 3'600'000);
  auto with_crop = (*plates)->GetRead(read.id);
  ASSERT_TRUE(with_crop.ok());
  const cv::Mat crop =
      cv::imdecode(cv::Mat(1, static_cast<int>(with_crop->crop_jpeg.size()), CV_8UC1,
                           const_cast<char*>(with_crop->crop_jpeg.data())),
                   cv::IMREAD_COLOR);
  ASSERT_FALSE(crop.empty()) << "the stored crop is not a JPEG";
  EXPECT_GT(crop.cols, crop.rows);  // A plate: wider than high.

  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].entry_id, entry->id);
  EXPECT_EQ(hits[0].read.plate, "K179658");
  EXPECT_EQ(hits[0].distance, 0);
  EXPECT_EQ(hits[0].keep_until_ms, basis.expires_ms);
  const Event alert = PlateHitAlert(hits[0]);
  EXPECT_EQ(alert.type, EventType::kPlateHit);
  EXPECT_EQ(alert.plate, "K179658");
  EXPECT_EQ(alert.watchlist_label, "stolen car, case 4711");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::server
