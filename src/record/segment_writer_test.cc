#include "record/segment_writer.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
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

extern "C" {
#include <libavutil/mathematics.h>
}

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
// returns its probed duration (and packet count in `packets`, if given).
int64_t ExpectPlayable(const fs::path& data_dir, const Segment& segment,
                       int64_t* packets = nullptr) {
  const std::string file = (data_dir / segment.path).string();
  absl::StatusOr<ProbeResult> probe = ProbeSegment(file);
  EXPECT_TRUE(probe.ok()) << probe.status();
  if (!probe.ok()) return 0;
  if (packets != nullptr) *packets = probe->packets;
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

// How a forked recorder ended: how many packets it had handed to SegmentWriter::Write (and
// seen return) when it was killed.
struct KilledRecording {
  int64_t written = 0;  // Write() calls that had returned OK before the SIGKILL.
  int status = 0;       // waitpid status of the child.
  bool failed = false;  // The child hit an error before the kill.
};

// Forks a child that records `packets` as fast as it can (not in real time) into `dir` as
// camera "cam" and SIGKILLs it. The child publishes the number of Write() calls that have
// returned in shared memory after each one. With `pause_at_kill`, the child stops after
// `kill_after` packets and is killed while waiting (a deterministic point); otherwise it keeps
// writing and is killed as soon as the parent sees the count reach `kill_after` (a random
// point inside the next Write: muxing, flushing, fsync, or an index transaction). A child
// that runs out of packets waits to be killed: it never closes its segment cleanly.
KilledRecording RecordInChildAndKill(const fs::path& dir,
                                     const std::vector<ingest::EncodedPacket>& packets,
                                     int64_t kill_after, bool pause_at_kill) {
  struct Shared {
    std::atomic<int64_t> written{0};
    std::atomic<int> state{0};  // 0 writing, 1 waiting to be killed, > 1 failed (exit code).
  };
  static_assert(std::atomic<int64_t>::is_always_lock_free);
  void* memory =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  KilledRecording result;
  if (memory == MAP_FAILED) {
    ADD_FAILURE() << "mmap failed";
    result.failed = true;
    return result;
  }
  Shared* shared = new (memory) Shared;
  const pid_t child = fork();
  if (child < 0) {
    ADD_FAILURE() << "fork failed";
    munmap(memory, sizeof(Shared));
    result.failed = true;
    return result;
  }
  if (child == 0) {
    auto fail = [&](int code) {
      shared->state.store(code);
      _exit(code);
    };
    auto index = SegmentIndex::Open(dir.string());
    if (!index.ok()) fail(2);
    SegmentWriterOptions options;
    options.data_dir = dir.string();
    options.camera = "cam";
    auto writer = SegmentWriter::Create(options, index->get());
    if (!writer.ok()) fail(3);
    for (const ingest::EncodedPacket& packet : packets) {
      if (pause_at_kill && shared->written.load() >= kill_after) break;
      if (!(*writer)->Write(packet).ok()) fail(4);
      shared->written.fetch_add(1);
    }
    shared->state.store(1);
    for (;;) pause();
  }
  // Poll every ~20 µs: the kill lands within a packet or two of `kill_after`.
  while (shared->state.load() == 0 && (pause_at_kill || shared->written.load() < kill_after)) {
    const timespec nap{0, 20'000};
    nanosleep(&nap, nullptr);
  }
  kill(child, SIGKILL);
  waitpid(child, &result.status, 0);
  result.written = shared->written.load();
  const int state = shared->state.load();
  result.failed = state > 1;
  munmap(memory, sizeof(Shared));
  EXPECT_FALSE(result.failed) << "the recording child failed with exit code " << state;
  return result;
}

// What a Reconcile() after a kill found.
struct AfterKill {
  ReconcileReport report;
  // The end of the last packet the child had written minus the end of the last playable
  // row: what the kill cost, in stream time.
  int64_t lost_ms = 0;
  int64_t lost_packets = 0;   // Packets written minus packets in the playable files.
  bool last_damaged = false;  // The crashed segment had no complete fragment.
};

// Reconciles `dir` after RecordInChildAndKill() wrote `written` of `packets`, and checks the
// promise of docs/recording.md: no row stays open; every row but the last is closed; every
// closed or recovered row plays to the end without a decoding error and matches the index;
// the rows are contiguous from the first packet; the crashed segment is recovered up to
// its last complete fragment (or, with none, marked damaged), so that at most the fragment
// in the making (`fragment_ms`) is lost; a second Reconcile() has nothing to do.
AfterKill ReconcileAndCheckAfterKill(const fs::path& dir,
                                     const std::vector<ingest::EncodedPacket>& packets,
                                     int64_t written, int64_t fragment_ms) {
  AfterKill after;
  absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
  EXPECT_TRUE(index.ok()) << index.status();
  if (!index.ok()) return after;
  absl::StatusOr<ReconcileReport> report = (*index)->Reconcile();
  EXPECT_TRUE(report.ok()) << report.status();
  if (!report.ok()) return after;
  after.report = *report;
  EXPECT_EQ(report->orphans_recovered + report->orphans_damaged, 0);
  absl::StatusOr<std::vector<Segment>> rows = (*index)->All();
  EXPECT_TRUE(rows.ok()) << rows.status();
  if (!rows.ok()) return after;

  int64_t end_ms = kStartWallMs;  // End of the last playable row.
  int64_t in_files = 0;
  for (size_t i = 0; i < rows->size(); ++i) {
    const Segment& row = (*rows)[i];
    const bool last = i + 1 == rows->size();
    EXPECT_NE(row.state, SegmentState::kOpen) << row.path;
    if (!last) {
      EXPECT_EQ(row.state, SegmentState::kClosed) << row.path;
    }
    if (last && row.state == SegmentState::kDamaged) {
      after.last_damaged = true;
      continue;
    }
    EXPECT_THAT(row.state, AnyOf(SegmentState::kClosed, SegmentState::kRecovered)) << row.path;
    EXPECT_EQ(row.start_ms, end_ms) << row.path << ": segments must be contiguous";
    int64_t row_packets = 0;
    ExpectPlayable(dir, row, &row_packets);
    in_files += row_packets;
    end_ms = row.end_ms;
  }

  int64_t written_end_ms = kStartWallMs;
  for (int64_t i = 0; i < written; ++i) {
    const ingest::EncodedPacket& packet = packets[static_cast<size_t>(i)];
    written_end_ms = std::max(written_end_ms,
                              packet.wall_ms + av_rescale_q(packet.packet->duration,
                                                            packet.stream->time_base, {1, 1000}));
  }
  after.lost_ms = written_end_ms - end_ms;
  after.lost_packets = written - in_files;
  // Never more than was written (the packet being written when killed is not counted, and a
  // fragment is flushed only when the packet after it arrives), never more lost than the
  // fragment in the making.
  EXPECT_GE(after.lost_packets, 0);
  EXPECT_GE(after.lost_ms, 0);
  EXPECT_LE(after.lost_ms, fragment_ms) << written << " packets written";

  absl::StatusOr<ReconcileReport> again = (*index)->Reconcile();
  EXPECT_TRUE(again.ok()) << again.status();
  if (again.ok()) {
    EXPECT_EQ(again->open_recovered + again->open_damaged + again->orphans_recovered +
                  again->orphans_damaged + again->missing_removed,
              0);
  }
  return after;
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

  // The child records until kKillAtMs and is killed while it waits.
  const int64_t before_kill = std::count_if(
      packets->begin(), packets->end(),
      [&](const ingest::EncodedPacket& packet) { return packet.time_ms() < kKillAtMs; });
  const KilledRecording killed =
      RecordInChildAndKill(dir, *packets, before_kill, /*pause_at_kill=*/true);
  ASSERT_FALSE(killed.failed);
  ASSERT_EQ(killed.written, before_kill);

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

// The live-server requirement (kill -9 during recording, at least 50 times in the suite):
// a child records as fast as it can and is SIGKILLed after a random number of packets, while
// it keeps writing, so the kill lands anywhere: in the muxer, between a fragment's write and
// its flush, in a segment's trailer or fsync, in an index transaction. After each kill the
// index is reconciled and checked (ReconcileAndCheckAfterKill). CUSTOS_SOAK_KILLS and
// CUSTOS_SOAK_SEED change the number of kills and the seed (tools/soak_record.sh).
TEST(SegmentWriter, SurvivesFiftyKillsAtRandomMoments) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData(kPersonVideo));
  absl::StatusOr<std::vector<ingest::EncodedPacket>> packets = ReadPackets(video);
  ASSERT_TRUE(packets.ok()) << packets.status();
  int64_t kills = 50;
  uint64_t seed = 20'261'126;
  if (const char* env = std::getenv("CUSTOS_SOAK_KILLS")) kills = std::atoll(env);
  if (const char* env = std::getenv("CUSTOS_SOAK_SEED")) seed = std::strtoull(env, nullptr, 10);
  // Kill points in the first 40 s: 4 segments, 3 segment cuts and 40 fragments to hit, and
  // little enough to decode that 50 kills take well under a minute.
  constexpr int64_t kKillWithinMs = 40'000;
  const int64_t candidates = std::count_if(
      packets->begin(), packets->end(),
      [](const ingest::EncodedPacket& packet) { return packet.time_ms() < kKillWithinMs; });
  ASSERT_GT(candidates, 1);
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int64_t> pick(1, candidates);
  const SegmentWriterOptions defaults;

  const auto started = std::chrono::steady_clock::now();
  std::vector<int64_t> lost_ms;
  int64_t max_lost_packets = 0;
  int recovered = 0;
  int damaged = 0;
  int removed = 0;
  int in_keyframe_write = 0;  // Kills while the packet being written was a keyframe.
  for (int64_t kill_number = 0; kill_number < kills; ++kill_number) {
    const fs::path dir = custos::testing::TempDir("record_kills");
    const int64_t kill_after = pick(random);
    const KilledRecording killed =
        RecordInChildAndKill(dir, *packets, kill_after, /*pause_at_kill=*/false);
    ASSERT_FALSE(killed.failed);
    const AfterKill after =
        ReconcileAndCheckAfterKill(dir, *packets, killed.written, defaults.fragment_ms);
    fs::remove_all(dir);
    ASSERT_FALSE(::testing::Test::HasFailure())
        << "kill " << kill_number << " after " << killed.written << " packets (target "
        << kill_after << "), seed " << seed;
    lost_ms.push_back(after.lost_ms);
    max_lost_packets = std::max(max_lost_packets, after.lost_packets);
    recovered += after.report.open_recovered;
    damaged += after.report.open_damaged;
    removed += after.report.missing_removed;
    if (killed.written < static_cast<int64_t>(packets->size()) &&
        (*packets)[static_cast<size_t>(killed.written)].keyframe()) {
      ++in_keyframe_write;
    }
  }
  if (lost_ms.empty()) return;
  std::sort(lost_ms.begin(), lost_ms.end());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto at = [&](size_t percent) {
    return static_cast<long long>(lost_ms[(lost_ms.size() - 1) * percent / 100]);
  };
  std::printf(
      "[ SOAK     ] kills=%lld seed=%llu lost_ms min=%lld p10=%lld p25=%lld median=%lld "
      "max=%lld max_lost_packets=%lld open_recovered=%d open_damaged=%d missing_removed=%d "
      "in_keyframe_write=%d seconds=%.1f\n",
      static_cast<long long>(lost_ms.size()), static_cast<unsigned long long>(seed), at(0), at(10),
      at(25), at(50), at(100), static_cast<long long>(max_lost_packets), recovered, damaged,
      removed, in_keyframe_write, seconds);
  RecordProperty("kills", static_cast<int>(lost_ms.size()));
  RecordProperty("max_lost_ms", static_cast<int>(lost_ms.back()));
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
