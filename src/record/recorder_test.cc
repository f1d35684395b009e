#include "record/recorder.h"

#include <filesystem>

#include "core/testing.h"
#include "gtest/gtest.h"
#include "record/record_test_util.h"
#include "record/segment_index.h"
#include "record/segment_probe.h"

namespace custos::record {
namespace {

namespace fs = std::filesystem;
using ::custos::record::testing::DecodeFile;
using ::custos::record::testing::kStartWallMs;
using ::custos::record::testing::ReadPackets;

constexpr char kPersonVideo[] = "video/one-by-one-person-detection.mp4";

TEST(Recorder, EventOnlyRecordsFromAKeyframeBeforeThePreRollUntilThePostRoll) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData(kPersonVideo));
  absl::StatusOr<std::vector<ingest::EncodedPacket>> packets = ReadPackets(video);
  ASSERT_TRUE(packets.ok()) << packets.status();
  const fs::path dir = custos::testing::TempDir("record_events");
  absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  RecorderOptions options;
  options.data_dir = dir.string();
  options.camera = "lobby";
  options.mode = RecordMode::kEventOnly;
  options.pre_roll_ms = 2'500;
  options.post_roll_ms = 1'500;
  absl::StatusOr<std::unique_ptr<Recorder>> recorder = Recorder::Create(options, index->get());
  ASSERT_TRUE(recorder.ok()) << recorder.status();

  // Events at 40.3-45.0 s and 80.0-81.0 s of stream time; keyframes every second.
  auto active = [](int64_t ms) {
    return (ms >= 40'300 && ms < 45'000) || (ms >= 80'000 && ms < 81'000);
  };
  for (ingest::EncodedPacket& packet : *packets) {
    if (packet.time_ms() >= 100'000) break;
    (*recorder)->SetEventActive(active(packet.time_ms()));
    ASSERT_TRUE((*recorder)->Write(std::move(packet)).ok());
  }
  ASSERT_TRUE((*recorder)->Close().ok());
  EXPECT_EQ((*recorder)->stats().events_recorded, 2);
  EXPECT_GT((*recorder)->stats().packets_discarded, 700);

  absl::StatusOr<std::vector<Segment>> rows = (*index)->All();
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  // The last keyframe at least 2.5 s before the event's start (40.3 s) is the one at 37 s.
  // The event ends at 45 s (the first packet seen inactive) plus 1.5 s of post-roll.
  const int64_t expected_start[] = {kStartWallMs + 37'000, kStartWallMs + 77'000};
  const int64_t expected_end[] = {kStartWallMs + 46'500, kStartWallMs + 82'500};
  for (size_t i = 0; i < 2; ++i) {
    const Segment& row = (*rows)[i];
    EXPECT_EQ(row.state, SegmentState::kClosed);
    EXPECT_EQ(row.start_ms, expected_start[i]) << row.path;
    EXPECT_NEAR(static_cast<double>(row.end_ms), static_cast<double>(expected_end[i]), 400);
    const std::string file = (dir / row.path).string();
    absl::StatusOr<ProbeResult> probe = ProbeSegment(file);
    ASSERT_TRUE(probe.ok()) << probe.status();
    EXPECT_TRUE(probe->starts_with_keyframe);
    absl::StatusOr<testing::Decoded> decoded = DecodeFile(file);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_TRUE(decoded->first_packet_key);
    EXPECT_EQ(decoded->frames, decoded->packets);
    EXPECT_EQ(decoded->errors, 0);
  }
  fs::remove_all(dir);
}

TEST(Recorder, RejectsOutOfRangeRolls) {
  const fs::path dir = custos::testing::TempDir("record_rolls");
  RecorderOptions options;
  options.data_dir = dir.string();
  options.camera = "cam";
  options.pre_roll_ms = -1;
  EXPECT_EQ(Recorder::Create(options, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  options.pre_roll_ms = 0;
  options.post_roll_ms = 700'000;
  EXPECT_EQ(Recorder::Create(options, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::record
