#include "record/segment_writer.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/testing.h"
#include "custos/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/video_source.h"
#include "record/record_test_util.h"
#include "record/recorder.h"
#include "record/segment_index.h"
#include "record/segment_probe.h"

namespace custos::record {
namespace {

namespace fs = std::filesystem;
using ::custos::record::testing::Copy;
using ::custos::record::testing::DecodeFile;
using ::custos::record::testing::kStartWallMs;
using ::custos::record::testing::ReadPackets;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr char kPersonVideo[] = "video/one-by-one-person-detection.mp4";
constexpr int64_t kPersonVideoMs = 139'400;
constexpr int64_t kPersonVideoFrames = 1394;

// Checks that `segment`'s file exists, has the indexed size, and decodes without errors;
// returns its probed duration.
int64_t ExpectPlayable(const fs::path& data_dir, const Segment& segment) {
  const std::string file = (data_dir / segment.path).string();
  absl::StatusOr<ProbeResult> probe = ProbeSegment(file);
  EXPECT_TRUE(probe.ok()) << probe.status();
  if (!probe.ok()) return 0;
  EXPECT_EQ(probe->bytes, segment.bytes) << segment.path;
  EXPECT_TRUE(probe->starts_with_keyframe) << segment.path;
  absl::StatusOr<testing::Decoded> decoded = DecodeFile(file);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  if (decoded.ok()) {
    EXPECT_EQ(decoded->frames, decoded->packets) << segment.path;
    EXPECT_EQ(decoded->errors, 0) << segment.path;
    EXPECT_TRUE(decoded->first_packet_key) << segment.path;
  }
  EXPECT_NEAR(static_cast<double>(segment.end_ms - segment.start_ms),
              static_cast<double>(probe->duration_ms), 2)
      << segment.path;
  return probe->duration_ms;
}

TEST(SegmentWriter, RecordsTenSecondSegmentsThatEachDecodeFullyAndMatchTheIndex) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData(kPersonVideo));
  const fs::path dir = custos::testing::TempDir("record_continuous");
  absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();

  // The whole path: VideoSource feeds the packet queue while a recording thread remuxes.
  FakeClock clock(kStartWallMs);
  ingest::SourceOptions source_options;
  source_options.url = video;
  source_options.packet_queue = std::make_shared<ingest::PacketQueue>(4096);
  absl::StatusOr<std::unique_ptr<ingest::VideoSource>> source =
      ingest::VideoSource::Open(source_options, &clock);
  ASSERT_TRUE(source.ok()) << source.status();
  RecorderOptions options;
  options.data_dir = dir.string();
  options.camera = "door-1";
  absl::StatusOr<std::unique_ptr<Recorder>> recorder = Recorder::Create(options, index->get());
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  std::atomic<bool> stop{false};
  absl::Status recorded;
  std::thread recording([&] { recorded = (*recorder)->Run(*source_options.packet_queue, stop); });
  absl::Status end;
  while ((end = (*source)->Next().status()).ok()) {
  }
  recording.join();
  EXPECT_TRUE(absl::IsOutOfRange(end)) << end;
  ASSERT_TRUE(recorded.ok()) << recorded;
  EXPECT_EQ((*source)->stats().packets_dropped_for_recording, 0);

  const RecorderStats stats = (*recorder)->stats();
  EXPECT_EQ(stats.writer.packets_written, kPersonVideoFrames);
  EXPECT_EQ(stats.writer.packets_bad_timestamps, 0);
  EXPECT_EQ(stats.writer.segments_closed, 14);

  absl::StatusOr<std::vector<Segment>> rows = (*index)->All();
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 14u);
  int64_t total_ms = 0;
  int64_t total_bytes = 0;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "recordings")) {
    if (entry.path().extension() == ".mp4") ++files;
  }
  EXPECT_EQ(files, 14);
  for (size_t i = 0; i < rows->size(); ++i) {
    const Segment& row = (*rows)[i];
    EXPECT_EQ(row.camera, "door-1");
    EXPECT_EQ(row.state, SegmentState::kClosed);
    EXPECT_EQ(row.path, SegmentPath("door-1", row.start_ms));
    EXPECT_EQ(row.start_ms, kStartWallMs + 10'000 * static_cast<int64_t>(i)) << row.path;
    const int64_t duration_ms = ExpectPlayable(dir, row);
    if (i + 1 < rows->size()) {
      EXPECT_NEAR(static_cast<double>(duration_ms), 10'000, 150);
    }
    if (i > 0) {
      EXPECT_EQ(row.start_ms, (*rows)[i - 1].end_ms) << "segments must be contiguous";
    }
    total_ms += duration_ms;
    total_bytes += row.bytes;
  }
  EXPECT_NEAR(static_cast<double>(total_ms), kPersonVideoMs, 1000);
  EXPECT_EQ(SegmentPath("door-1", kStartWallMs),
            "recordings/door-1/2023-11-14/22/1700000000000.mp4");

  absl::StatusOr<std::vector<Segment>> overlapping =
      (*index)->Overlapping("door-1", kStartWallMs + 15'000, kStartWallMs + 25'000);
  ASSERT_TRUE(overlapping.ok()) << overlapping.status();
  ASSERT_EQ(overlapping->size(), 2u);
  EXPECT_EQ((*overlapping)[0].start_ms, kStartWallMs + 10'000);
  EXPECT_EQ((*overlapping)[1].start_ms, kStartWallMs + 20'000);
  absl::StatusOr<std::vector<Segment>> other = (*index)->Overlapping("door-2", 0, INT64_MAX);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
  absl::StatusOr<std::map<std::string, int64_t>> bytes = (*index)->BytesPerCamera();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ((*bytes)["door-1"], total_bytes);
  // Remuxing keeps the bitstream: the segments together are about the source's size.
  EXPECT_NEAR(static_cast<double>(total_bytes), static_cast<double>(fs::file_size(video)),
              0.1 * static_cast<double>(fs::file_size(video)));
  fs::remove_all(dir);
}

TEST(SegmentWriter, KilledWriterLosesAtMostTheLastFragmentAndReconcileRecoversTheRest) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData(kPersonVideo));
  absl::StatusOr<std::vector<ingest::EncodedPacket>> packets = ReadPackets(video);
  ASSERT_TRUE(packets.ok()) << packets.status();
  const fs::path dir = custos::testing::TempDir("record_crash");
  constexpr int64_t kKillAtMs = 25'500;  // In the third segment, in the middle of a fragment.

  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child records until kKillAtMs, says so, and waits to be killed.
    close(ready[0]);
    auto index = SegmentIndex::Open(dir.string());
    if (!index.ok()) _exit(2);
    SegmentWriterOptions options;
    options.data_dir = dir.string();
    options.camera = "cam";
    auto writer = SegmentWriter::Create(options, index->get());
    if (!writer.ok()) _exit(3);
    for (const ingest::EncodedPacket& packet : *packets) {
      if (packet.time_ms() >= kKillAtMs) break;
      if (!(*writer)->Write(packet).ok()) _exit(4);
    }
    if (write(ready[1], "x", 1) != 1) _exit(5);
    for (;;) pause();
  }
  close(ready[1]);
  char byte = 0;
  const ssize_t got = read(ready[0], &byte, 1);
  close(ready[0]);
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  ASSERT_EQ(got, 1) << "the recording child failed, exit status " << WEXITSTATUS(wstatus);

  absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  absl::StatusOr<std::vector<Segment>> before = (*index)->All();
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 3u);
  EXPECT_EQ((*before)[2].state, SegmentState::kOpen);

  absl::StatusOr<ReconcileReport> report = (*index)->Reconcile();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->open_recovered, 1);
  EXPECT_EQ(report->open_damaged, 0);
  EXPECT_EQ(report->orphans_recovered + report->orphans_damaged, 0);
  EXPECT_EQ(report->missing_removed, 0);

  absl::StatusOr<std::vector<Segment>> rows = (*index)->All();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  int64_t total_ms = 0;
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*rows)[i].state, SegmentState::kClosed);
    total_ms += ExpectPlayable(dir, (*rows)[i]);
  }
  const Segment& crashed = (*rows)[2];
  EXPECT_EQ(crashed.state, SegmentState::kRecovered);
  EXPECT_EQ(crashed.start_ms, kStartWallMs + 20'000);
  const int64_t crashed_ms = ExpectPlayable(dir, crashed);
  RecordProperty("recovered_ms", static_cast<int>(crashed_ms));
  total_ms += crashed_ms;
  // Fragments end at every keyframe (each second in this video): the fragment in the
  // making, 25.0-25.5 s, is all that is lost.
  EXPECT_GE(crashed_ms, 4'500);
  EXPECT_LE(crashed_ms, 5'500);
  EXPECT_GE(total_ms, kKillAtMs - 1'100);

  // A second reconcile finds nothing to do.
  absl::StatusOr<ReconcileReport> again = (*index)->Reconcile();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->open_recovered + again->orphans_recovered + again->missing_removed, 0);
  fs::remove_all(dir);
}

TEST(SegmentWriter, FullDiskIsResourceExhaustedAndLeavesAConsistentIndex) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData(kPersonVideo));
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  const fs::path dir = custos::testing::TempDir("record_full");
  const std::string mount = "mount -t tmpfs -o size=1m tmpfs " + dir.string() + " 2>/dev/null";
  if (std::system(mount.c_str()) != 0) {
    fs::remove_all(dir);
    GTEST_SKIP() << "cannot mount a tmpfs here (container without CAP_SYS_ADMIN?)";
  }
  struct Unmount {
    fs::path dir;
    ~Unmount() {
      (void)std::system(("umount " + dir.string()).c_str());
      fs::remove_all(dir);
    }
  } unmount{dir};

  absl::StatusOr<std::vector<ingest::EncodedPacket>> packets = ReadPackets(video);
  ASSERT_TRUE(packets.ok()) << packets.status();
  absl::Status failed;
  {
    absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
    ASSERT_TRUE(index.ok()) << index.status();
    RecorderOptions options;
    options.data_dir = dir.string();
    options.camera = "cam";
    absl::StatusOr<std::unique_ptr<Recorder>> recorder = Recorder::Create(options, index->get());
    ASSERT_TRUE(recorder.ok()) << recorder.status();
    for (ingest::EncodedPacket& packet : *packets) {
      failed = (*recorder)->Write(std::move(packet));
      if (!failed.ok()) break;
    }
    // 1 MB holds about 40 s of this video.
    ASSERT_FALSE(failed.ok()) << "the disk never filled up";
    RecordProperty("error", std::string(failed.message()));
    EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted) << failed;
    EXPECT_THAT(failed.message(), AnyOf(HasSubstr("free space"), HasSubstr("free disk space")));
    (void)(*recorder)->Close();
  }

  // With space again, the index opens, is intact, and every playable row plays.
  ASSERT_EQ(std::system(("mount -o remount,size=64m " + dir.string()).c_str()), 0);
  absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2((dir / "recordings" / "index.db").c_str(), &db, SQLITE_OPEN_READONLY,
                              nullptr),
              SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "ok");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  absl::StatusOr<ReconcileReport> report = (*index)->Reconcile();
  ASSERT_TRUE(report.ok()) << report.status();
  absl::StatusOr<std::vector<Segment>> rows = (*index)->All();
  ASSERT_TRUE(rows.ok());
  ASSERT_GE(rows->size(), 2u);
  int playable = 0;
  for (const Segment& row : *rows) {
    EXPECT_NE(row.state, SegmentState::kOpen) << row.path;
    if (row.state == SegmentState::kClosed || row.state == SegmentState::kRecovered) {
      ExpectPlayable(dir, row);
      ++playable;
    }
  }
  EXPECT_GE(playable, 2);
}

TEST(SegmentWriter, RejectsCameraIdsThatAreNotSafeFolderNames) {
  const fs::path dir = custos::testing::TempDir("record_names");
  for (const std::string& bad :
       std::vector<std::string>{"", "../etc", ".hidden", "a/b", "cam 1", std::string(65, 'x')}) {
    SegmentWriterOptions options;
    options.data_dir = dir.string();
    options.camera = bad;
    absl::StatusOr<std::unique_ptr<SegmentWriter>> writer = SegmentWriter::Create(options, nullptr);
    EXPECT_EQ(writer.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  SegmentWriterOptions options;
  options.data_dir = dir.string();
  options.camera = "Gate_2.north-east";
  EXPECT_TRUE(SegmentWriter::Create(options, nullptr).ok());
  options.segment_ms = 10;
  EXPECT_THAT(SegmentWriter::Create(options, nullptr).status().message(), HasSubstr("segment_ms"));
  fs::remove_all(dir);
}

TEST(SegmentWriter, DropsPacketsWhoseTimestampsGoBackAndCountsThem) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData(kPersonVideo));
  absl::StatusOr<std::vector<ingest::EncodedPacket>> packets = ReadPackets(video);
  ASSERT_TRUE(packets.ok()) << packets.status();
  const fs::path dir = custos::testing::TempDir("record_bad_ts");
  SegmentWriterOptions options;
  options.data_dir = dir.string();
  options.camera = "cam";
  absl::StatusOr<std::unique_ptr<SegmentWriter>> writer = SegmentWriter::Create(options, nullptr);
  ASSERT_TRUE(writer.ok());
  // The first 3 s, with one non-key packet sent twice and one without timestamps.
  int written = 0;
  for (size_t i = 0; i < packets->size() && (*packets)[i].time_ms() < 3000; ++i) {
    ASSERT_TRUE((*writer)->Write((*packets)[i]).ok());
    ++written;
    if (i == 5) {
      ASSERT_TRUE((*writer)->Write((*packets)[i]).ok());
    }
    if (i == 7) {
      ingest::EncodedPacket bad = Copy((*packets)[i]);
      bad.packet->pts = bad.packet->dts = INT64_MIN;  // AV_NOPTS_VALUE
      ASSERT_TRUE((*writer)->Write(bad).ok());
    }
  }
  const std::string path = (dir / (*writer)->segment_path()).string();
  ASSERT_TRUE((*writer)->CloseSegment().ok());
  EXPECT_EQ((*writer)->stats().packets_bad_timestamps, 2);
  EXPECT_EQ((*writer)->stats().packets_written, written);
  absl::StatusOr<testing::Decoded> decoded = DecodeFile(path);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->frames, written);
  EXPECT_EQ(decoded->errors, 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::record
