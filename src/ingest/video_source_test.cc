#include "ingest/video_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <set>
#include <thread>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opencv2/core.hpp"
#include "opencv2/imgproc.hpp"
#include "opencv2/videoio.hpp"

extern char** environ;

namespace custos::ingest {
namespace {

namespace fs = std::filesystem;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr char kPersonVideo[] = "video/one-by-one-person-detection.mp4";

// What a test keeps of a frame (not the pixels: 697 frames would be ~480 MB).
struct FrameInfo {
  int64_t index, pts_ms, wall_ms;
  int width, height;
};

struct ReadResult {
  std::vector<FrameInfo> frames;
  absl::Status end;  // The status that stopped reading; OK if max_frames was reached.
};

ReadResult ReadFrames(VideoSource& source, int max_frames = 1'000'000) {
  ReadResult result;
  while (static_cast<int>(result.frames.size()) < max_frames) {
    absl::StatusOr<Frame> frame = source.Next();
    if (!frame.ok()) {
      result.end = frame.status();
      break;
    }
    result.frames.push_back(
        {frame->index, frame->pts_ms, frame->wall_ms, frame->bgr.cols, frame->bgr.rows});
  }
  return result;
}

void ExpectIncreasingTimeline(const std::vector<FrameInfo>& frames) {
  for (size_t i = 1; i < frames.size(); ++i) {
    ASSERT_GT(frames[i].pts_ms, frames[i - 1].pts_ms) << "at frame " << i;
    ASSERT_EQ(frames[i].index, frames[i - 1].index + 1) << "at frame " << i;
  }
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  return bytes;
}

// ---------------------------------------------------------------------------------------
// Files.

TEST(VideoSource, DecodesThePersonVideoAtFiveFpsAnd360p) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  absl::StatusOr<std::unique_ptr<VideoSource>> source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();

  const StreamInfo info = (*source)->info();
  EXPECT_EQ(info.codec, "h264");
  EXPECT_EQ(info.width, 768);
  EXPECT_EQ(info.height, 432);
  EXPECT_NEAR(info.fps, 10, 0.01);
  EXPECT_NEAR(static_cast<double>(info.duration_ms), 139'400, 100);
  EXPECT_FALSE(info.live);

  const ReadResult read = ReadFrames(**source);
  EXPECT_EQ(read.end.code(), absl::StatusCode::kOutOfRange) << read.end;
  ASSERT_NEAR(static_cast<double>(read.frames.size()), 697, 2);
  ExpectIncreasingTimeline(read.frames);
  for (const FrameInfo& f : read.frames) {
    ASSERT_EQ(f.width, 640);
    ASSERT_EQ(f.height, 360);
    ASSERT_EQ(f.wall_ms, clock.WallMs() + f.pts_ms);  // Files: wall = open time + pts.
  }
  EXPECT_EQ(read.frames.front().pts_ms, 0);
  EXPECT_EQ(read.frames.front().index, 0);
  EXPECT_NEAR(static_cast<double>(read.frames.back().pts_ms), 139'000, 400);
  // 5 fps from a 10 fps source: every second frame, 200 ms apart.
  EXPECT_EQ(read.frames[1].pts_ms - read.frames[0].pts_ms, 200);

  const SourceStats stats = (*source)->stats();
  EXPECT_EQ(stats.packets, 1394);
  EXPECT_EQ(stats.frames_emitted, static_cast<int64_t>(read.frames.size()));
  EXPECT_GE(stats.frames_decoded, stats.frames_emitted);
  EXPECT_EQ(stats.frames_corrupt, 0);
  EXPECT_EQ(stats.reconnects, 0);
  EXPECT_TRUE(stats.gaps.empty());

  // The end is sticky.
  EXPECT_EQ((*source)->Next().status().code(), absl::StatusCode::kOutOfRange);
}

TEST(VideoSource, HandsOutEveryFrameAtSourceSizeWhenRateAndSizeAreZero) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  options.detect_fps = 0;
  options.detect_width = 0;
  options.detect_height = 0;
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  const ReadResult read = ReadFrames(**source);
  EXPECT_EQ(read.end.code(), absl::StatusCode::kOutOfRange) << read.end;
  ASSERT_EQ(read.frames.size(), 1394u);
  ExpectIncreasingTimeline(read.frames);
  EXPECT_EQ(read.frames[0].width, 768);
  EXPECT_EQ(read.frames[0].height, 432);
  EXPECT_EQ(read.frames[10].pts_ms, 1000);
  EXPECT_EQ((*source)->stats().frames_decoded, 1394);
}

TEST(VideoSource, ChoosesFramesByTimestampSoTheRateHoldsForAnySourceRate) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  options.detect_fps = 3;  // Not a divisor of the source's 10 fps.
  options.detect_height = 180;
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  const ReadResult read = ReadFrames(**source);
  EXPECT_EQ(read.end.code(), absl::StatusCode::kOutOfRange) << read.end;
  EXPECT_NEAR(static_cast<double>(read.frames.size()), 139.4 * 3, 2);
  ExpectIncreasingTimeline(read.frames);
  for (size_t i = 1; i < read.frames.size(); ++i) {
    const int64_t step = read.frames[i].pts_ms - read.frames[i - 1].pts_ms;
    ASSERT_TRUE(step == 300 || step == 400) << "step " << step << " at " << i;
  }
  EXPECT_EQ(read.frames[0].width, 320);
}

TEST(VideoSource, KeepsTheAspectRatioWhenOnlyTheWidthIsGiven) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  options.detect_width = 320;
  options.detect_height = 0;
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  absl::StatusOr<Frame> frame = (*source)->Next();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->bgr.cols, 320);
  EXPECT_EQ(frame->bgr.rows, 180);
  EXPECT_EQ(frame->bgr.type(), CV_8UC3);
  EXPECT_EQ(frame->source_width, 768);
  EXPECT_EQ(frame->source_height, 432);
}

TEST(VideoSource, AlsoHandsOutTheFullPictureWhenAsked) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  auto plain = VideoSource::Open(options, &clock);
  ASSERT_TRUE(plain.ok()) << plain.status();
  absl::StatusOr<Frame> without = (*plain)->Next();
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_TRUE(without->full.empty());  // Nobody asked: no cost.

  options.full_frame_max_width = 1920;  // Wider than the stream: its own size.
  auto full = VideoSource::Open(options, &clock);
  ASSERT_TRUE(full.ok()) << full.status();
  absl::StatusOr<Frame> frame = (*full)->Next();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->bgr.size(), cv::Size(640, 360));
  EXPECT_EQ(frame->full.size(), cv::Size(768, 432));
  // The same picture: the detect frame is the full one scaled down.
  cv::Mat scaled;
  cv::resize(frame->full, scaled, frame->bgr.size(), 0, 0, cv::INTER_AREA);
  cv::Mat diff;
  cv::absdiff(scaled, frame->bgr, diff);
  const cv::Scalar mean = cv::mean(diff);
  EXPECT_LT(mean[0] + mean[1] + mean[2], 3 * 4.0);

  options.full_frame_max_width = 384;  // Narrower: scaled down, aspect kept.
  auto narrow = VideoSource::Open(options, &clock);
  ASSERT_TRUE(narrow.ok()) << narrow.status();
  frame = (*narrow)->Next();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->full.size(), cv::Size(384, 216));

  options.full_frame_max_width = -1;
  EXPECT_EQ(VideoSource::Open(options, &clock).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(VideoSource, ProducesTheSamePixelsAsOpenCvsDecoder) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  cv::VideoCapture capture(video, cv::CAP_FFMPEG);
  if (!capture.isOpened()) GTEST_SKIP() << "OpenCV was built without its FFmpeg backend";
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  options.detect_fps = 0;
  options.detect_height = 0;
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  for (int i = 0; i < 30; ++i) {
    cv::Mat expected;
    ASSERT_TRUE(capture.read(expected));
    absl::StatusOr<Frame> frame = (*source)->Next();
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_EQ(frame->bgr.size(), expected.size());
    cv::Mat diff;
    cv::absdiff(frame->bgr, expected, diff);
    const cv::Scalar mean = cv::mean(diff);
    ASSERT_LT(mean[0] + mean[1] + mean[2], 3 * 2.0) << "frame " << i;
  }
}

TEST(VideoSource, ReusesFrameBuffersOnlyAfterTheCallerReleasedThem) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  // Held frames keep their pixels while later ones are decoded.
  std::vector<Frame> held;
  std::vector<cv::Mat> copies;
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<Frame> frame = (*source)->Next();
    ASSERT_TRUE(frame.ok()) << frame.status();
    copies.push_back(frame->bgr.clone());
    held.push_back(*std::move(frame));
  }
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(cv::norm(held[i].bgr, copies[i], cv::NORM_INF), 0) << "frame " << i;
    for (int j = 0; j < i; ++j) EXPECT_NE(held[i].bgr.data, held[j].bgr.data);
  }
  // Released frames' buffers come back.
  std::set<const uint8_t*> released;
  for (const Frame& f : held) released.insert(f.bgr.data);
  held.clear();
  absl::StatusOr<Frame> next = (*source)->Next();
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(released.count(next->bgr.data) == 1);
}

TEST(VideoSource, LoopsAFileWithTimestampsThatKeepIncreasing) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  options.loop = true;
  options.detect_fps = 2;
  options.detect_height = 90;
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  const ReadResult read = ReadFrames(**source, 320);  // 279 frames per pass at 2 fps.
  ASSERT_TRUE(read.end.ok()) << read.end;
  ASSERT_EQ(read.frames.size(), 320u);
  ExpectIncreasingTimeline(read.frames);
  EXPECT_GT(read.frames.back().pts_ms, 150'000);
  // The second pass continues one source frame after the first pass's last frame.
  for (size_t i = 1; i < read.frames.size(); ++i) {
    ASSERT_LE(read.frames[i].pts_ms - read.frames[i - 1].pts_ms, 600) << "at " << i;
  }
}

TEST(VideoSource, PacesAFileAtNativeSpeedWhenRealtime) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  SourceOptions options;
  options.url = video;
  options.realtime = true;
  auto source = VideoSource::Open(options, Clock::Real());
  ASSERT_TRUE(source.ok()) << source.status();
  const auto start = std::chrono::steady_clock::now();
  const ReadResult read = ReadFrames(**source, 8);  // pts 0 .. 1400 ms.
  const double elapsed_s = SecondsSince(start);
  ASSERT_EQ(read.frames.size(), 8u);
  EXPECT_GT(elapsed_s, 1.3);
  EXPECT_LT(elapsed_s, 4.0);  // Generous: a loaded 2-core machine.
}

TEST(VideoSource, OffersEveryVideoPacketForRecordingWithItsStreamParameters) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  options.packet_queue = std::make_shared<PacketQueue>(4096);
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  const int64_t open_wall_ms = clock.WallMs();
  const ReadResult result = ReadFrames(**source);
  EXPECT_TRUE(absl::IsOutOfRange(result.end)) << result.end;
  const SourceStats stats = (*source)->stats();
  EXPECT_EQ(stats.packets, 1394);
  EXPECT_EQ(stats.packets_dropped_for_recording, 0);
  PacketQueue& queue = *options.packet_queue;
  EXPECT_EQ(queue.pushed(), 1394);
  EXPECT_TRUE(queue.closed()) << "the end of the file closes the queue";
  std::optional<EncodedPacket> first = queue.Pop(0);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->keyframe());
  ASSERT_NE(first->stream, nullptr);
  EXPECT_EQ(first->stream->codec, "h264");
  EXPECT_EQ(first->stream->epoch, 0);
  EXPECT_EQ(first->stream->codecpar->width, 768);
  EXPECT_GT(first->stream->codecpar->extradata_size, 0) << "SPS/PPS are needed to mux";
  EXPECT_EQ(first->wall_ms, open_wall_ms);
  int64_t keyframes = 1;
  int64_t max_wall_ms = first->wall_ms;
  while (std::optional<EncodedPacket> packet = queue.Pop(0)) {
    EXPECT_EQ(packet->stream, first->stream);
    EXPECT_EQ(packet->wall_ms, open_wall_ms + packet->time_ms());
    max_wall_ms = std::max(max_wall_ms, packet->wall_ms);
    if (packet->keyframe()) ++keyframes;
  }
  EXPECT_EQ(keyframes, 140);  // One a second.
  EXPECT_EQ(max_wall_ms, open_wall_ms + 139'300);
}

TEST(VideoSource, CountsPacketsAFullRecordingQueueRefusedAndNeverWaits) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  options.packet_queue = std::make_shared<PacketQueue>(10);  // Nobody takes them.
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  const ReadResult result = ReadFrames(**source);
  EXPECT_EQ(result.frames.size(), 697u);
  const SourceStats stats = (*source)->stats();
  EXPECT_EQ(stats.packets_dropped_for_recording, 1394 - 10);
  EXPECT_EQ(options.packet_queue->dropped(), 1394 - 10);
}

TEST(VideoSource, ReadAheadHandsOutTheSameFramesOfAFileReadAtFullSpeed) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  FakeClock clock;
  SourceOptions options;
  options.url = video;
  options.read_ahead_frames = 3;
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  const ReadResult result = ReadFrames(**source);
  EXPECT_TRUE(absl::IsOutOfRange(result.end)) << result.end;
  EXPECT_EQ(result.frames.size(), 697u);
  ExpectIncreasingTimeline(result.frames);
  EXPECT_EQ((*source)->stats().frames_dropped, 0);
  EXPECT_TRUE(absl::IsOutOfRange((*source)->Next().status())) << "the end is sticky";
}

TEST(VideoSource, SlowAnalyticsLoseFramesButNeverRecordedPackets) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  SourceOptions options;
  options.url = video;
  options.realtime = true;  // Paced like a camera: 10 packets a second.
  options.detect_fps = 0;
  options.detect_height = 90;
  options.read_ahead_frames = 2;
  options.packet_queue = std::make_shared<PacketQueue>(1000);
  auto source = VideoSource::Open(options, Clock::Real());
  ASSERT_TRUE(source.ok()) << source.status();
  // Analytics that need 400 ms per frame, for two seconds.
  const auto start = std::chrono::steady_clock::now();
  int taken = 0;
  while (SecondsSince(start) < 2.0) {
    ASSERT_TRUE((*source)->Next().ok());
    ++taken;
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  const int64_t packets = options.packet_queue->pushed();
  (*source)->Interrupt();
  EXPECT_TRUE(absl::IsCancelled((*source)->Next().status()));
  const SourceStats stats = (*source)->stats();
  EXPECT_GE(packets, 15) << "the reader kept pace with the camera";
  EXPECT_EQ(stats.packets_dropped_for_recording, 0);
  EXPECT_GE(stats.frames_dropped, 5);
  EXPECT_LE(taken, 6);
}

TEST(VideoSource, MissingFileIsNotFound) {
  FakeClock clock;
  SourceOptions options;
  options.url = "/nonexistent/dir/cam.mp4";
  auto source = VideoSource::Open(options, &clock);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(source.status().message(), "video file not found: /nonexistent/dir/cam.mp4");
}

TEST(VideoSource, DirectoryIsRejected) {
  FakeClock clock;
  SourceOptions options;
  options.url = fs::temp_directory_path().string();
  auto source = VideoSource::Open(options, &clock);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(source.status().message()), HasSubstr("directory"));
}

TEST(VideoSource, RandomBytesAreRejectedAsNotAVideo) {
  const fs::path dir = testing::TempDir("ingest-random");
  const fs::path path = dir / "random.mp4";
  WriteFile(path, RandomBytes(1 << 20, 42));
  FakeClock clock;
  SourceOptions options;
  options.url = path.string();
  auto source = VideoSource::Open(options, &clock);
  EXPECT_THAT(source.status().code(),
              AnyOf(absl::StatusCode::kInvalidArgument, absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(source.status().message()),
              HasSubstr("cannot read video " + path.string()));
  EXPECT_THAT(
      std::string(source.status().message()),
      AnyOf(HasSubstr("not a video file or unsupported format"), HasSubstr("no video stream")));
  fs::remove_all(dir);
}

TEST(VideoSource, EmptyFileIsRejectedAsNotAVideo) {
  const fs::path dir = testing::TempDir("ingest-empty");
  const fs::path path = dir / "empty.mp4";
  WriteFile(path, "");
  FakeClock clock;
  SourceOptions options;
  options.url = path.string();
  auto source = VideoSource::Open(options, &clock);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kInvalidArgument) << source.status();
  EXPECT_THAT(std::string(source.status().message()),
              HasSubstr("not a video file or unsupported format"));
  fs::remove_all(dir);
}

TEST(VideoSource, AudioOnlyFileHasNoVideoStream) {
  // One second of silence as 8 kHz 8-bit mono WAV.
  std::string wav = "RIFF____WAVEfmt ";
  auto le32 = [](uint32_t v) {
    return std::string{static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
                       static_cast<char>((v >> 16) & 0xff), static_cast<char>(v >> 24)};
  };
  auto le16 = [](uint16_t v) {
    return std::string{static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  };
  wav += le32(16) + le16(1) + le16(1) + le32(8000) + le32(8000) + le16(1) + le16(8);
  wav += "data" + le32(8000) + std::string(8000, '\x80');
  wav.replace(4, 4, le32(static_cast<uint32_t>(wav.size() - 8)));
  const fs::path dir = testing::TempDir("ingest-audio");
  const fs::path path = dir / "audio.wav";
  WriteFile(path, wav);
  FakeClock clock;
  SourceOptions options;
  options.url = path.string();
  auto source = VideoSource::Open(options, &clock);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kInvalidArgument) << source.status();
  EXPECT_THAT(std::string(source.status().message()), HasSubstr("no video stream"));
  fs::remove_all(dir);
}

TEST(VideoSource, TruncatedFileGivesFramesThenACleanEnd) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  const std::string bytes = ReadFile(video);
  const fs::path dir = testing::TempDir("ingest-truncated");
  const fs::path path = dir / "truncated.mp4";
  WriteFile(path, bytes.substr(0, bytes.size() * 3 / 10));
  FakeClock clock;
  SourceOptions options;
  options.url = path.string();
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();  // The index (moov) is at the start.
  const ReadResult read = ReadFrames(**source);
  EXPECT_THAT(read.end.code(), AnyOf(absl::StatusCode::kOutOfRange, absl::StatusCode::kDataLoss))
      << read.end;
  EXPECT_GT(read.frames.size(), 100u);
  EXPECT_LT(read.frames.size(), 400u);
  ExpectIncreasingTimeline(read.frames);
  fs::remove_all(dir);
}

TEST(VideoSource, DamagedBytesInTheMiddleAreSkippedAndCounted) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  std::string bytes = ReadFile(video);
  bytes.replace(bytes.size() / 2, 64 * 1024, RandomBytes(64 * 1024, 7));
  const fs::path dir = testing::TempDir("ingest-damaged");
  const fs::path path = dir / "damaged.mp4";
  WriteFile(path, bytes);
  FakeClock clock;
  SourceOptions options;
  options.url = path.string();
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  const ReadResult read = ReadFrames(**source);
  EXPECT_EQ(read.end.code(), absl::StatusCode::kOutOfRange) << read.end;
  ExpectIncreasingTimeline(read.frames);
  EXPECT_GT(read.frames.size(), 600u);  // Frames after the damage still come out.
  EXPECT_GT(read.frames.back().pts_ms, 130'000);
  const SourceStats stats = (*source)->stats();
  EXPECT_GT(stats.frames_corrupt, 0);
  EXPECT_THAT(stats.last_error, HasSubstr("damaged"));
  std::cout << "[          ] " << read.frames.size() << " frames, " << stats.frames_corrupt
            << " corrupt, last error: " << stats.last_error << "\n";
  fs::remove_all(dir);
}

TEST(VideoSource, RejectsBadOptionsNamingTheField) {
  FakeClock clock;
  SourceOptions options;
  options.url = "rtsp://127.0.0.1:1/x";
  options.rtsp_transport = "sctp";
  auto source = VideoSource::Open(options, &clock);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(source.status().message()), HasSubstr("rtsp_transport"));

  options.rtsp_transport = "tcp";
  options.detect_fps = -1;
  EXPECT_THAT(std::string(VideoSource::Open(options, &clock).status().message()),
              HasSubstr("detect_fps"));

  options.detect_fps = 5;
  options.read_ahead_frames = 65;
  EXPECT_THAT(std::string(VideoSource::Open(options, &clock).status().message()),
              HasSubstr("read_ahead_frames"));

  options.read_ahead_frames = 0;
  options.url = "ftp://x";
  EXPECT_EQ(VideoSource::Open(options, &clock).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------
// Network sources, against real servers on loopback.

// A child process whose stdout the test reads. Killed (SIGKILL) when destroyed.
class ChildProcess {
 public:
  static std::unique_ptr<ChildProcess> Start(const std::vector<std::string>& args,
                                             bool quiet_stderr = false) {
    int fds[2];
    if (pipe(fds) != 0) return nullptr;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    if (quiet_stderr) {
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    }
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      return nullptr;
    }
    return std::unique_ptr<ChildProcess>(new ChildProcess(pid, fds[0]));
  }

  ~ChildProcess() {
    KillAndWait();
    close(stdout_fd_);
  }

  // The first stdout line containing `text`, or "" after `timeout_ms` or at EOF.
  std::string WaitForLine(const std::string& text, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      size_t newline;
      while ((newline = buffer_.find('\n')) != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        if (line.find(text) != std::string::npos) return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{stdout_fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[512];
      const ssize_t n = read(stdout_fd_, chunk, sizeof(chunk));
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  void Signal(int signal) { kill(pid_, signal); }

  // Kills the process; returns its wait status.
  int KillAndWait() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGKILL);
    waitpid(pid_, &exit_status_, 0);
    pid_ = -1;
    return exit_status_;
  }

  // The exit status if the process ended by itself, else -1.
  int ExitStatusIfExited() {
    if (pid_ <= 0) return exit_status_;
    if (waitpid(pid_, &exit_status_, WNOHANG) != pid_) return -1;
    pid_ = -1;
    return exit_status_;
  }

 private:
  ChildProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}
  pid_t pid_;
  int stdout_fd_;
  int exit_status_ = -1;
  std::string buffer_;
};

int FreeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

constexpr char kSystemPython[] = "/usr/bin/python3";

// Why the loopback RTSP server cannot run here, or "" if it can.
std::string RtspServerUnavailableReason() {
  static const std::string reason = [] {
    if (access(kSystemPython, X_OK) != 0) return std::string("no /usr/bin/python3");
    const std::string check = std::string(kSystemPython) +
                              " -c \"import gi; gi.require_version('GstRtspServer', '1.0'); "
                              "from gi.repository import GstRtspServer\" >/dev/null 2>&1";
    if (std::system(check.c_str()) != 0) {
      return std::string(
          "GStreamer RTSP server Python bindings missing (apt install python3-gi "
          "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)");
    }
    return std::string();
  }();
  return reason;
}

// tools/rtsp_server.py serving the person video at rtsp://127.0.0.1:<port>/cam.
class RtspServer {
 public:
  // Starts on `port` (0: a free one). Retries briefly while the port is still held.
  static std::unique_ptr<RtspServer> Start(const std::string& video, int port) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      std::unique_ptr<ChildProcess> child = ChildProcess::Start(
          {kSystemPython, std::string(CUSTOS_SOURCE_DIR) + "/tools/rtsp_server.py", "--file", video,
           "--port", std::to_string(port), "--path", "/cam"});
      if (!child) return nullptr;
      const std::string line = child->WaitForLine("ready ", 30'000);
      if (!line.empty()) {
        return std::unique_ptr<RtspServer>(
            new RtspServer(std::move(child), std::stoi(line.substr(6))));
      }
      child->KillAndWait();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return nullptr;
  }

  std::string url() const { return "rtsp://127.0.0.1:" + std::to_string(port_) + "/cam"; }
  int port() const { return port_; }
  ChildProcess& process() { return *process_; }

 private:
  RtspServer(std::unique_ptr<ChildProcess> process, int port)
      : process_(std::move(process)), port_(port) {}
  std::unique_ptr<ChildProcess> process_;
  int port_;
};

class RtspTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::optional<std::string> data = testing::SharedData(kPersonVideo);
    if (!data) GTEST_SKIP() << "test data missing: " << kPersonVideo;
    video_ = *data;
    if (const std::string reason = RtspServerUnavailableReason(); !reason.empty()) {
      GTEST_SKIP() << reason;
    }
    server_ = RtspServer::Start(video_, 0);
    ASSERT_NE(server_, nullptr) << "tools/rtsp_server.py did not print 'ready' in 30 s";
  }

  SourceOptions Options() const {
    SourceOptions options;
    options.url = server_->url();
    options.rtsp_transport = GetParam();
    options.stall_timeout_ms = 3000;
    options.open_timeout_ms = 15000;
    options.reconnect_initial_ms = 200;
    options.reconnect_max_ms = 1000;
    return options;
  }

  std::string video_;
  std::unique_ptr<RtspServer> server_;
};

TEST_P(RtspTest, ReadsALiveStream) {
  auto source = VideoSource::Open(Options(), Clock::Real());
  ASSERT_TRUE(source.ok()) << source.status();
  const StreamInfo info = (*source)->info();
  EXPECT_TRUE(info.live);
  EXPECT_EQ(info.duration_ms, -1);
  EXPECT_EQ(info.width, 768);
  const ReadResult read = ReadFrames(**source, 10);
  ASSERT_TRUE(read.end.ok()) << read.end;
  ExpectIncreasingTimeline(read.frames);
  for (const FrameInfo& f : read.frames) {
    EXPECT_EQ(f.width, 640);
    EXPECT_EQ(f.height, 360);
    // Live: wall time is the arrival time.
    EXPECT_NEAR(static_cast<double>(f.wall_ms), static_cast<double>(Clock::Real()->WallMs()),
                10'000);
  }
  // 5 fps out of the 10 fps stream: about 200 ms of stream time apart.
  const double mean_step =
      static_cast<double>(read.frames.back().pts_ms - read.frames.front().pts_ms) / 9;
  EXPECT_NEAR(mean_step, 200, 20);
  EXPECT_EQ((*source)->stats().frames_corrupt, 0);
}

TEST_P(RtspTest, ReconnectsWhenTheServerIsKilledAndRestartedAndRecordsTheGap) {
  auto source = VideoSource::Open(Options(), Clock::Real());
  ASSERT_TRUE(source.ok()) << source.status();
  const ReadResult before = ReadFrames(**source, 5);
  ASSERT_TRUE(before.end.ok()) << before.end;

  const int port = server_->port();
  server_->process().KillAndWait();  // SIGKILL: no goodbye to the client.
  // Frames buffered before the kill still come out; then Next() waits and reconnects.
  std::future<ReadResult> after = std::async(std::launch::async, [&] {
    ReadResult result;
    while (result.frames.size() < 5) {
      absl::StatusOr<Frame> frame = (*source)->Next();
      if (!frame.ok()) {
        result.end = frame.status();
        break;
      }
      if ((*source)->stats().gaps.empty()) continue;  // Still from before the outage.
      result.frames.push_back(
          {frame->index, frame->pts_ms, frame->wall_ms, frame->bgr.cols, frame->bgr.rows});
    }
    return result;
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  server_ = RtspServer::Start(video_, port);
  ASSERT_NE(server_, nullptr) << "could not restart the server on port " << port;
  const auto restarted = std::chrono::steady_clock::now();

  ASSERT_EQ(after.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "no frames 30 s after the restart";
  const ReadResult read = after.get();
  ASSERT_TRUE(read.end.ok()) << read.end;
  const double reconnect_s = SecondsSince(restarted);
  std::cout << "[          ] 5 frames " << reconnect_s << " s after the server restarted\n";
  EXPECT_LT(reconnect_s, 10 + 2.0);  // The 5 frames at 5 fps take ~1 s more.

  std::vector<FrameInfo> all = before.frames;
  all.insert(all.end(), read.frames.begin(), read.frames.end());
  ExpectIncreasingTimeline(all);

  const SourceStats stats = (*source)->stats();
  EXPECT_GE(stats.reconnects, 1);
  ASSERT_EQ(stats.gaps.size(), 1u);
  const Gap& gap = stats.gaps[0];
  EXPECT_GE(gap.start_wall_ms, before.frames.back().wall_ms);
  EXPECT_LE(gap.end_wall_ms, read.frames.front().wall_ms);
  EXPECT_GT(gap.end_wall_ms - gap.start_wall_ms, 900);
  EXPECT_FALSE(gap.reason.empty());
  std::cout << "[          ] gap " << gap.end_wall_ms - gap.start_wall_ms << " ms: " << gap.reason
            << "\n";
  // The timeline skips the outage rather than pretending it did not happen.
  EXPECT_GT(read.frames.front().pts_ms - before.frames.back().pts_ms, 900);
}

TEST_P(RtspTest, DetectsAStalledStreamWithinTheStallTimeout) {
  SourceOptions options = Options();
  options.stall_timeout_ms = 2000;
  options.max_reconnects = 0;
  auto source = VideoSource::Open(options, Clock::Real());
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_TRUE(ReadFrames(**source, 3).end.ok());

  server_->process().Signal(SIGSTOP);  // The connection stays up; nothing flows.
  const auto stopped = std::chrono::steady_clock::now();
  const ReadResult read = ReadFrames(**source);
  const double detect_s = SecondsSince(stopped);
  server_->process().Signal(SIGCONT);
  std::cout << "[          ] stall reported after " << detect_s << " s\n";
  EXPECT_EQ(read.end.code(), absl::StatusCode::kUnavailable) << read.end;
  EXPECT_THAT(std::string(read.end.message()), HasSubstr("stalled"));
  EXPECT_LT(detect_s, 5.0);
  EXPECT_EQ((*source)->stats().stalls, 1);
  EXPECT_THAT((*source)->stats().last_error, HasSubstr("stalled"));
}

TEST_P(RtspTest, InterruptUnblocksAWaitingNextPromptly) {
  SourceOptions options = Options();
  options.stall_timeout_ms = 60'000;  // Only Interrupt() can end the wait.
  auto source = VideoSource::Open(options, Clock::Real());
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_TRUE(ReadFrames(**source, 2).end.ok());

  server_->process().Signal(SIGSTOP);
  std::future<ReadResult> reader =
      std::async(std::launch::async, [&] { return ReadFrames(**source); });
  ASSERT_EQ(reader.wait_for(std::chrono::seconds(2)), std::future_status::timeout)
      << "Next() should be waiting for packets";
  const auto interrupted = std::chrono::steady_clock::now();
  (*source)->Interrupt();
  ASSERT_EQ(reader.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const double unblock_s = SecondsSince(interrupted);
  server_->process().Signal(SIGCONT);
  std::cout << "[          ] Next() returned " << unblock_s << " s after Interrupt()\n";
  EXPECT_LT(unblock_s, 1.0);
  EXPECT_EQ(reader.get().end.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ((*source)->Next().status().code(), absl::StatusCode::kCancelled);
}

TEST_P(RtspTest, GivesUpWithUnavailableWhenReconnectAttemptsRunOut) {
  SourceOptions options = Options();
  options.max_reconnects = 2;
  options.reconnect_initial_ms = 100;
  auto source = VideoSource::Open(options, Clock::Real());
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_TRUE(ReadFrames(**source, 2).end.ok());
  server_->process().KillAndWait();
  const auto killed = std::chrono::steady_clock::now();
  const ReadResult read = ReadFrames(**source);
  EXPECT_EQ(read.end.code(), absl::StatusCode::kUnavailable) << read.end;
  EXPECT_THAT(std::string(read.end.message()), HasSubstr("2 reconnect attempt(s) failed"));
  EXPECT_THAT(std::string(read.end.message()), HasSubstr("Connection refused"));
  EXPECT_LT(SecondsSince(killed), 3 + 5.0);  // Stall at worst, then ~0.3 s of backoff.
  const SourceStats stats = (*source)->stats();
  EXPECT_EQ(stats.reconnects, 0);
  EXPECT_TRUE(stats.gaps.empty());  // The outage never ended.
}

TEST_P(RtspTest, InterruptAlsoEndsAReconnectBackoff) {
  SourceOptions options = Options();
  options.reconnect_initial_ms = 60'000;
  options.reconnect_max_ms = 60'000;
  auto source = VideoSource::Open(options, Clock::Real());
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_TRUE(ReadFrames(**source, 2).end.ok());
  server_->process().KillAndWait();
  std::future<ReadResult> reader =
      std::async(std::launch::async, [&] { return ReadFrames(**source); });
  // Buffered frames, then the loss (at worst a 3 s stall), then a 30-60 s backoff.
  ASSERT_EQ(reader.wait_for(std::chrono::seconds(6)), std::future_status::timeout);
  const auto interrupted = std::chrono::steady_clock::now();
  (*source)->Interrupt();
  ASSERT_EQ(reader.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_LT(SecondsSince(interrupted), 1.0);
  EXPECT_EQ(reader.get().end.code(), absl::StatusCode::kCancelled);
}

TEST_P(RtspTest, UnknownStreamPathIsNotFound) {
  SourceOptions options = Options();
  options.url = "rtsp://127.0.0.1:" + std::to_string(server_->port()) + "/no-such-stream";
  auto source = VideoSource::Open(options, Clock::Real());
  EXPECT_EQ(source.status().code(), absl::StatusCode::kNotFound) << source.status();
}

INSTANTIATE_TEST_SUITE_P(Transports, RtspTest, ::testing::Values("tcp", "udp"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(VideoSource, UnreachableRtspCameraIsUnavailableWithinSeconds) {
  const int port = FreeTcpPort();
  ASSERT_GT(port, 0);
  SourceOptions options;
  options.url = "rtsp://admin:secret@127.0.0.1:" + std::to_string(port) + "/x";
  options.max_reconnects = 1;
  const auto start = std::chrono::steady_clock::now();
  auto source = VideoSource::Open(options, Clock::Real());
  absl::Status status = source.status();
  if (source.ok()) status = (*source)->Next().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_LT(SecondsSince(start), 5.0);
  EXPECT_THAT(std::string(status.message()), HasSubstr("admin:***@127.0.0.1"));
  EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr("secret")));
}

TEST(VideoSource, SilentServerIsUnavailableAfterTheOpenTimeout) {
  // Accepts TCP connections but never answers.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  SourceOptions options;
  options.url = "rtsp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x";
  options.open_timeout_ms = 1500;
  const auto start = std::chrono::steady_clock::now();
  auto source = VideoSource::Open(options, Clock::Real());
  const double elapsed_s = SecondsSince(start);
  close(fd);
  EXPECT_EQ(source.status().code(), absl::StatusCode::kUnavailable) << source.status();
  EXPECT_THAT(std::string(source.status().message()), HasSubstr("open_timeout_ms"));
  EXPECT_GT(elapsed_s, 1.0);
  EXPECT_LT(elapsed_s, 4.0);
}

TEST(VideoSource, ReadsAVideoServedOverHttp) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData(kPersonVideo));
  if (access(kSystemPython, X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3 for http.server";
  std::unique_ptr<ChildProcess> server =
      ChildProcess::Start({kSystemPython, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                           "--directory", fs::path(video).parent_path().string()},
                          /*quiet_stderr=*/true);
  ASSERT_NE(server, nullptr);
  const std::string line = server->WaitForLine("Serving HTTP", 30'000);
  ASSERT_FALSE(line.empty()) << "http.server did not start";
  const size_t port_at = line.find(" port ");
  ASSERT_NE(port_at, std::string::npos) << line;
  const int port = std::stoi(line.substr(port_at + 6));

  FakeClock clock;
  SourceOptions options;
  options.url =
      "http://127.0.0.1:" + std::to_string(port) + "/" + fs::path(video).filename().string();
  auto source = VideoSource::Open(options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_FALSE((*source)->info().live);  // A finite video: ends instead of reconnecting.
  const ReadResult read = ReadFrames(**source, 20);
  ASSERT_TRUE(read.end.ok()) << read.end;
  ExpectIncreasingTimeline(read.frames);
  EXPECT_EQ(read.frames.back().pts_ms, 19 * 200);
  EXPECT_EQ(read.frames.back().width, 640);
}

}  // namespace
}  // namespace custos::ingest
