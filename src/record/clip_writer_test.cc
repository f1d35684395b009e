#include "record/clip_writer.h"

#include <sodium.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "record/record_test_util.h"
#include "record/segment_index.h"
#include "record/segment_probe.h"
#include "record/segment_writer.h"

extern "C" {
#include <libavformat/avformat.h>
}

namespace custos::record {
namespace {

namespace fs = std::filesystem;
using ::custos::record::testing::Copy;
using ::custos::record::testing::DecodeFile;
using ::custos::record::testing::kStartWallMs;
using ::custos::record::testing::ReadPackets;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kPersonVideo[] = "video/one-by-one-person-detection.mp4";
constexpr char kCamera[] = "door-1";

// The top-level box types of an MP4 file, in order.
std::vector<std::string> TopLevelBoxes(const std::string& path) {
  std::vector<std::string> boxes;
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  int64_t offset = 0;
  while (offset + 8 <= size) {
    std::array<unsigned char, 16> header{};
    in.seekg(offset);
    in.read(reinterpret_cast<char*>(header.data()), 16);
    uint64_t box = (uint64_t{header[0]} << 24) | (uint64_t{header[1]} << 16) |
                   (uint64_t{header[2]} << 8) | header[3];
    if (box == 1) {
      box = 0;
      for (int i = 8; i < 16; ++i) box = (box << 8) | header[i];
    } else if (box == 0) {
      box = static_cast<uint64_t>(size - offset);
    }
    boxes.emplace_back(reinterpret_cast<const char*>(header.data() + 4), 4);
    if (box < 8) break;
    offset += static_cast<int64_t>(box);
  }
  return boxes;
}

// What a demuxer sees in a clip: its codec and the largest step between successive dts.
struct Timeline {
  std::string codec;
  std::string tag;
  int64_t packets = 0;
  int64_t max_dts_step_ms = 0;
  int64_t first_dts_ms = 0;
  bool dts_increasing = true;
};
Timeline ReadTimeline(const std::string& path) {
  Timeline timeline;
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, ("file:" + path).c_str(), nullptr, nullptr) < 0) return timeline;
  AVStream* stream = raw->streams[0];
  timeline.codec = avcodec_get_name(stream->codecpar->codec_id);
  char tag[AV_FOURCC_MAX_STRING_SIZE] = {};
  av_fourcc_make_string(tag, stream->codecpar->codec_tag);
  timeline.tag = tag;
  AVPacket* packet = av_packet_alloc();
  int64_t last = AV_NOPTS_VALUE;
  while (av_read_frame(raw, packet) >= 0) {
    const int64_t dts_ms = av_rescale_q(packet->dts, stream->time_base, {1, 1000});
    if (last == AV_NOPTS_VALUE) {
      timeline.first_dts_ms = dts_ms;
    } else {
      timeline.max_dts_step_ms = std::max(timeline.max_dts_step_ms, dts_ms - last);
      if (dts_ms <= last) timeline.dts_increasing = false;
    }
    last = dts_ms;
    ++timeline.packets;
    av_packet_unref(packet);
  }
  av_packet_free(&packet);
  avformat_close_input(&raw);
  return timeline;
}

std::string Sha256Hex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return hex.data();
}

class ClipWriterTest : public ::testing::Test {
 protected:
  // The person video's packets (139.4 s, 10 fps, a keyframe every second, B-frames), read once.
  static void SetUpTestSuite() {
    const std::optional<std::string> video = custos::testing::SharedData(kPersonVideo);
    if (!video) return;
    absl::StatusOr<std::vector<ingest::EncodedPacket>> packets = ReadPackets(*video);
    ASSERT_TRUE(packets.ok()) << packets.status();
    packets_ = new std::vector<ingest::EncodedPacket>(*std::move(packets));
  }
  static void TearDownTestSuite() {
    delete packets_;
    packets_ = nullptr;
  }

  void SetUp() override {
    if (packets_ == nullptr) {
      GTEST_SKIP() << "test data missing: " << kPersonVideo
                   << " (see ../shared/data/PROVENANCE.md, tools/setup.sh)";
    }
    dir_ = custos::testing::TempDir("clip_writer");
    absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir_.string());
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
  }
  void TearDown() override {
    writer_.reset();
    index_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Records the video's first `until_ms` into 10 s segments with SegmentWriter, as the
  // recorder does; the last segment stays open when `close` is false.
  void Record(int64_t until_ms, bool close = true) {
    SegmentWriterOptions options;
    options.data_dir = dir_.string();
    options.camera = kCamera;
    absl::StatusOr<std::unique_ptr<SegmentWriter>> writer =
        SegmentWriter::Create(options, index_.get());
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
    for (const ingest::EncodedPacket& packet : *packets_) {
      if (packet.time_ms() >= until_ms) break;
      ASSERT_TRUE(writer_->Write(Copy(packet)).ok());
    }
    if (close) {
      ASSERT_TRUE(writer_->CloseSegment().ok());
    }
  }

  Segment SegmentAt(int64_t offset_ms) {
    absl::StatusOr<std::vector<Segment>> rows = index_->All();
    EXPECT_TRUE(rows.ok()) << rows.status();
    for (const Segment& row : *rows) {
      if (row.start_ms == kStartWallMs + offset_ms) return row;
    }
    ADD_FAILURE() << "no segment at " << offset_ms;
    return Segment();
  }

  std::string Out(const std::string& name) const { return (dir_ / name).string(); }

  static std::vector<ingest::EncodedPacket>* packets_;
  fs::path dir_;
  std::unique_ptr<SegmentIndex> index_;
  std::unique_ptr<SegmentWriter> writer_;
};
std::vector<ingest::EncodedPacket>* ClipWriterTest::packets_ = nullptr;

TEST_F(ClipWriterTest, ExportsAcrossThreeSegmentBoundariesIntoOnePlayableFastStartMp4) {
  Record(60'000);
  const int64_t from = kStartWallMs + 15'500;
  const int64_t to = kStartWallMs + 48'200;  // Crosses the segments starting at 20, 30, 40 s.
  const std::string out = Out("clip.mp4");
  absl::StatusOr<ClipInfo> info = WriteClip(*index_, kCamera, from, to, out);
  ASSERT_TRUE(info.ok()) << info.status();

  // Starts at the keyframe at or before from (one a second), ends with the last frame before to.
  EXPECT_EQ(info->start_ms, kStartWallMs + 15'000);
  EXPECT_GE(info->end_ms, to - 100);
  EXPECT_LE(info->end_ms, to + 300);
  EXPECT_EQ(info->segments_used, 4);
  EXPECT_TRUE(info->skipped.empty());
  EXPECT_EQ(info->gaps, 0);
  EXPECT_NEAR(static_cast<double>(info->packets), 332, 3);  // 33.2 s at 10 fps.
  EXPECT_NEAR(static_cast<double>(info->duration_ms), static_cast<double>(to - from), 1000);
  EXPECT_EQ(info->bytes, static_cast<int64_t>(fs::file_size(out)));
  EXPECT_EQ(info->sha256_hex, Sha256Hex(out));
  EXPECT_FALSE(fs::exists(out + ".part"));

  // Plays: every packet decodes, from a keyframe on, with no error.
  absl::StatusOr<testing::Decoded> decoded = DecodeFile(out);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->first_packet_key);
  EXPECT_EQ(decoded->packets, info->packets);
  EXPECT_EQ(decoded->frames, info->packets);
  EXPECT_EQ(decoded->errors, 0);
  absl::StatusOr<ProbeResult> probe = ProbeSegment(out);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_NEAR(static_cast<double>(probe->duration_ms), static_cast<double>(to - from), 1000);

  // An ordinary (not fragmented) MP4 with its index in front: browsers start at once.
  const std::vector<std::string> boxes = TopLevelBoxes(out);
  ASSERT_GE(boxes.size(), 3u);
  EXPECT_EQ(boxes[0], "ftyp");
  const auto moov = std::find(boxes.begin(), boxes.end(), "moov");
  const auto mdat = std::find(boxes.begin(), boxes.end(), "mdat");
  ASSERT_NE(moov, boxes.end());
  ASSERT_NE(mdat, boxes.end());
  EXPECT_LT(moov, mdat) << "moov must come before mdat (faststart)";
  EXPECT_EQ(std::find(boxes.begin(), boxes.end(), "moof"), boxes.end());

  // H.264 stays H.264 (avc1), and the timeline runs on from 0 across the segment boundaries.
  const Timeline timeline = ReadTimeline(out);
  EXPECT_EQ(timeline.codec, "h264");
  EXPECT_EQ(timeline.tag, "avc1");
  EXPECT_TRUE(timeline.dts_increasing);
  EXPECT_LE(timeline.first_dts_ms, 0);
  EXPECT_GE(timeline.first_dts_ms, -200);
  EXPECT_LE(timeline.max_dts_step_ms, 101);

  // The same name again is refused, not overwritten.
  EXPECT_EQ(WriteClip(*index_, kCamera, from, to, out).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(ClipWriterTest, StartsAtTheFirstKeyframeWhenTheRangeBeginsBeforeTheRecording) {
  Record(30'000);
  absl::StatusOr<ClipInfo> info =
      WriteClip(*index_, kCamera, kStartWallMs - 5'000, kStartWallMs + 2'000, Out("early.mp4"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->start_ms, kStartWallMs);
  EXPECT_NEAR(static_cast<double>(info->packets), 20, 2);
  absl::StatusOr<testing::Decoded> decoded = DecodeFile(Out("early.mp4"));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->errors, 0);
  EXPECT_EQ(decoded->frames, info->packets);
}

TEST_F(ClipWriterTest, NothingRecordedInTheRangeIsNotFound) {
  Record(30'000);
  const std::string out = Out("none.mp4");
  EXPECT_EQ(WriteClip(*index_, kCamera, kStartWallMs - 60'000, kStartWallMs - 30'000, out)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(WriteClip(*index_, kCamera, kStartWallMs + 100'000, kStartWallMs + 110'000, out)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(WriteClip(*index_, "door-2", kStartWallMs, kStartWallMs + 10'000, out).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".part"));
}

TEST_F(ClipWriterTest, SkipsAndReportsMissingAndTruncatedSegments) {
  Record(60'000);
  const Segment missing = SegmentAt(20'000);
  const Segment cut = SegmentAt(30'000);
  fs::remove(dir_ / missing.path);
  fs::resize_file(dir_ / cut.path, static_cast<uintmax_t>(cut.bytes / 2));
  const int64_t from = kStartWallMs + 15'500;
  const int64_t to = kStartWallMs + 48'200;

  // Real time kept: the clip covers the range, holding a frame over the 20 s that are lost.
  absl::StatusOr<ClipInfo> info = WriteClip(*index_, kCamera, from, to, Out("gaps.mp4"));
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->skipped.size(), 2u);
  EXPECT_EQ(info->skipped[0].path, missing.path);
  EXPECT_THAT(info->skipped[0].reason, HasSubstr("missing"));
  EXPECT_EQ(info->skipped[1].path, cut.path);
  EXPECT_THAT(info->skipped[1].reason, HasSubstr("bytes"));
  EXPECT_EQ(info->segments_used, 2);
  EXPECT_EQ(info->gaps, 1);
  EXPECT_NEAR(static_cast<double>(info->gap_ms), 20'000, 150);
  EXPECT_NEAR(static_cast<double>(info->duration_ms), static_cast<double>(to - from), 1000);
  absl::StatusOr<testing::Decoded> decoded = DecodeFile(Out("gaps.mp4"));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->errors, 0);
  EXPECT_EQ(decoded->frames, info->packets);
  EXPECT_NEAR(static_cast<double>(ReadTimeline(Out("gaps.mp4")).max_dts_step_ms), 20'100, 150);

  // Gaps closed: the same frames, back to back.
  ClipOptions closed;
  closed.keep_gaps = false;
  absl::StatusOr<ClipInfo> short_clip =
      WriteClip(*index_, kCamera, from, to, Out("closed.mp4"), closed);
  ASSERT_TRUE(short_clip.ok()) << short_clip.status();
  EXPECT_EQ(short_clip->packets, info->packets);
  EXPECT_NEAR(static_cast<double>(short_clip->duration_ms), static_cast<double>(to - from - 20'000),
              1000);
  EXPECT_LE(ReadTimeline(Out("closed.mp4")).max_dts_step_ms, 101);
  decoded = DecodeFile(Out("closed.mp4"));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->errors, 0);

  // Nothing usable left in the range: kDataLoss naming both files.
  absl::StatusOr<ClipInfo> lost =
      WriteClip(*index_, kCamera, kStartWallMs + 21'000, kStartWallMs + 39'000, Out("lost.mp4"));
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(lost.status().message(), HasSubstr(missing.path));
  EXPECT_THAT(lost.status().message(), HasSubstr(cut.path));
  EXPECT_FALSE(fs::exists(Out("lost.mp4")));
  EXPECT_FALSE(fs::exists(Out("lost.mp4.part")));
}

TEST_F(ClipWriterTest, SkipsTheSegmentStillBeingWritten) {
  Record(25'000, /*close=*/false);  // The segment from 20 s is open.
  absl::StatusOr<ClipInfo> info =
      WriteClip(*index_, kCamera, kStartWallMs + 5'000, kStartWallMs + 25'000, Out("live.mp4"));
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->skipped.size(), 1u);
  EXPECT_EQ(info->skipped[0].path, writer_->segment_path());
  EXPECT_THAT(info->skipped[0].reason, HasSubstr("still being recorded"));
  EXPECT_NEAR(static_cast<double>(info->end_ms), kStartWallMs + 20'000, 150);
  EXPECT_EQ(
      WriteClip(*index_, kCamera, kStartWallMs + 21'000, kStartWallMs + 24'000, Out("open.mp4"))
          .status()
          .code(),
      absl::StatusCode::kUnavailable);
}

TEST_F(ClipWriterTest, FullDiskIsResourceExhaustedAndLeavesNoPartialFile) {
  Record(100'000);  // About 2.4 MB of video.
  const int64_t from = kStartWallMs;
  const int64_t to = kStartWallMs + 100'000;

  // A .part that lands on /dev/full: every write fails with ENOSPC (works without root).
  if (fs::exists("/dev/full")) {
    const std::string out = Out("full.mp4");
    fs::create_symlink("/dev/full", out + ".part");
    absl::StatusOr<ClipInfo> info = WriteClip(*index_, kCamera, from, to, out);
    EXPECT_EQ(info.status().code(), absl::StatusCode::kResourceExhausted) << info.status();
    EXPECT_FALSE(fs::exists(fs::symlink_status(out + ".part")));
    EXPECT_FALSE(fs::exists(out));
  }

  // A real 1 MB file system, as in SegmentWriter.FullDiskIsResourceExhausted...
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const fs::path small = dir_ / "small";
  fs::create_directories(small);
  if (std::system(("mount -t tmpfs -o size=1m tmpfs " + small.string() + " 2>/dev/null").c_str()) !=
      0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (container without CAP_SYS_ADMIN?)";
  }
  struct Unmount {
    fs::path dir;
    ~Unmount() { (void)std::system(("umount " + dir.string()).c_str()); }
  } unmount{small};
  const std::string out = (small / "clip.mp4").string();
  absl::StatusOr<ClipInfo> info = WriteClip(*index_, kCamera, from, to, out);
  EXPECT_EQ(info.status().code(), absl::StatusCode::kResourceExhausted) << info.status();
  EXPECT_THAT(info.status().message(), HasSubstr("free space"));
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(small)) left.push_back(entry.path().string());
  EXPECT_THAT(left, ElementsAre()) << "the .part file must be removed";
}

TEST_F(ClipWriterTest, RejectsEmptyReversedAndOverlongRanges) {
  Record(20'000);
  const std::string out = Out("bad.mp4");
  auto code = [&](int64_t from, int64_t to, const ClipOptions& options = {}) {
    return WriteClip(*index_, kCamera, from, to, out, options).status().code();
  };
  EXPECT_EQ(code(kStartWallMs + 5'000, kStartWallMs + 5'000), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(kStartWallMs + 5'000, kStartWallMs), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(kStartWallMs, kStartWallMs + 2 * 3'600'000), absl::StatusCode::kInvalidArgument);
  ClipOptions short_max;
  short_max.max_duration_ms = 10'000;
  EXPECT_EQ(code(kStartWallMs, kStartWallMs + 15'000, short_max),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(kStartWallMs, kStartWallMs + 10'000, short_max), absl::StatusCode::kOk);
  fs::remove(out);
  EXPECT_EQ(WriteClip(*index_, "../etc", kStartWallMs, kStartWallMs + 1'000, out).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteClip(*index_, kCamera, kStartWallMs, kStartWallMs + 1'000,
                      (dir_ / "no-such-folder" / "x.mp4").string())
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace custos::record
