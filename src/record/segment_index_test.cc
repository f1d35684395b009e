#include "record/segment_index.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "core/testing.h"
#include "gtest/gtest.h"
#include "record/record_test_util.h"
#include "record/segment_probe.h"
#include "record/segment_writer.h"

namespace custos::record {
namespace {

namespace fs = std::filesystem;
using ::custos::record::testing::kStartWallMs;
using ::custos::record::testing::ReadPackets;

constexpr char kPersonVideo[] = "video/one-by-one-person-detection.mp4";

TEST(SegmentIndex, ReconcileAddsOrphanFilesAndSettlesRowsWhoseFilesAreGone) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData(kPersonVideo));
  absl::StatusOr<std::vector<ingest::EncodedPacket>> packets = ReadPackets(video);
  ASSERT_TRUE(packets.ok()) << packets.status();
  const fs::path dir = custos::testing::TempDir("record_reconcile");
  absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  {
    SegmentWriterOptions options;
    options.data_dir = dir.string();
    options.camera = "cam";
    absl::StatusOr<std::unique_ptr<SegmentWriter>> writer =
        SegmentWriter::Create(options, index->get());
    ASSERT_TRUE(writer.ok());
    for (const ingest::EncodedPacket& packet : *packets) {
      if (packet.time_ms() >= 30'000) break;
      ASSERT_TRUE((*writer)->Write(packet).ok());
    }
    ASSERT_TRUE((*writer)->CloseSegment().ok());
  }
  absl::StatusOr<std::vector<Segment>> rows = (*index)->All();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);

  // An orphan copy of segment 2, an orphan cut in the middle of a fragment, a file of
  // garbage, segment 1 deleted while on evidence hold, segment 2 deleted.
  const fs::path seg1 = dir / (*rows)[1].path;
  const fs::path seg2 = dir / (*rows)[2].path;
  const std::string copy = SegmentPath("cam", kStartWallMs + 3'600'000);
  const std::string cut = SegmentPath("other", kStartWallMs);
  const std::string garbage = SegmentPath("cam", kStartWallMs + 7'200'000);
  fs::create_directories((dir / copy).parent_path());
  fs::create_directories((dir / cut).parent_path());
  fs::create_directories((dir / garbage).parent_path());
  fs::copy_file(seg2, dir / copy);
  fs::copy_file(seg1, dir / cut);
  fs::resize_file(dir / cut, fs::file_size(dir / cut) * 2 / 3);
  std::ofstream(dir / garbage) << "this is not a video";
  ASSERT_TRUE((*index)->SetEvidenceHold((*rows)[1].id, true).ok());
  fs::remove(seg1);
  fs::remove(seg2);

  absl::StatusOr<ReconcileReport> report = (*index)->Reconcile();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->orphans_recovered, 2);
  EXPECT_EQ(report->orphans_damaged, 1);
  EXPECT_EQ(report->missing_removed, 1);
  EXPECT_EQ(report->missing_flagged, 1);
  EXPECT_EQ(report->open_recovered, 0);

  absl::StatusOr<std::vector<Segment>> after = (*index)->All();
  ASSERT_TRUE(after.ok());
  std::map<std::string, Segment> by_path;
  for (const Segment& row : *after) by_path[row.path] = row;
  ASSERT_EQ(by_path.size(), 5u);
  EXPECT_EQ(by_path[(*rows)[0].path].state, SegmentState::kClosed);
  EXPECT_EQ(by_path[(*rows)[1].path].state, SegmentState::kDamaged);
  EXPECT_TRUE(by_path[(*rows)[1].path].evidence_hold);
  EXPECT_EQ(by_path.count((*rows)[2].path), 0u);
  const Segment& copied = by_path[copy];
  EXPECT_EQ(copied.state, SegmentState::kRecovered);
  EXPECT_EQ(copied.camera, "cam");
  EXPECT_EQ(copied.start_ms, kStartWallMs + 3'600'000);
  EXPECT_NEAR(static_cast<double>(copied.end_ms - copied.start_ms), 10'000, 150);
  const Segment& truncated = by_path[cut];
  EXPECT_EQ(truncated.camera, "other");
  EXPECT_EQ(truncated.state, SegmentState::kRecovered);
  EXPECT_GT(truncated.end_ms - truncated.start_ms, 3'000);
  EXPECT_LT(truncated.end_ms - truncated.start_ms, 9'000);
  EXPECT_EQ(truncated.bytes, static_cast<int64_t>(fs::file_size(dir / cut)));
  absl::StatusOr<ProbeResult> probe = ProbeSegment((dir / cut).string());
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(by_path[garbage].state, SegmentState::kDamaged);

  absl::StatusOr<std::map<std::string, int64_t>> bytes = (*index)->BytesPerCamera();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ((*bytes)["other"], truncated.bytes);
  fs::remove_all(dir);
}

TEST(SegmentIndex, RefusesADataDirectoryThatDoesNotExist) {
  absl::StatusOr<std::unique_ptr<SegmentIndex>> index =
      SegmentIndex::Open("/nonexistent/custos-data");
  EXPECT_EQ(index.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(index.status().message().find("create it"), std::string::npos);
}

TEST(SegmentIndex, KeepsRowsAcrossReopeningAndRefusesUnknownIds) {
  const fs::path dir = custos::testing::TempDir("record_reopen");
  {
    absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
    ASSERT_TRUE(index.ok()) << index.status();
    absl::StatusOr<int64_t> id = (*index)->AddOpen("cam", "recordings/cam/x/1.mp4", 1000);
    ASSERT_TRUE(id.ok()) << id.status();
    ASSERT_TRUE((*index)->Finish(*id, 5000, 123, SegmentState::kClosed).ok());
    EXPECT_EQ((*index)->Finish(*id + 100, 1, 1, SegmentState::kClosed).code(),
              absl::StatusCode::kNotFound);
    EXPECT_FALSE((*index)->AddOpen("cam", "recordings/cam/x/1.mp4", 1000).ok());
  }
  absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  absl::StatusOr<std::vector<Segment>> rows = (*index)->Overlapping("cam", 4000, 9000);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].end_ms, 5000);
  EXPECT_EQ((*rows)[0].bytes, 123);
  rows = (*index)->Overlapping("cam", 5001, 9000);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
  fs::remove_all(dir);
}

TEST(SegmentIndex, KeepsTheHoldReasonAndRefusesHoldsOnSegmentsMarkedForDeletion) {
  const fs::path dir = custos::testing::TempDir("record_hold");
  absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  absl::StatusOr<int64_t> a = (*index)->AddOpen("cam", "recordings/cam/x/1.mp4", 1000);
  absl::StatusOr<int64_t> b = (*index)->AddOpen("cam", "recordings/cam/x/2.mp4", 2000);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*index)->Finish(*a, 2000, 10, SegmentState::kClosed).ok());
  ASSERT_TRUE((*index)->Finish(*b, 3000, 20, SegmentState::kClosed).ok());
  ASSERT_TRUE((*index)->SetEvidenceHold(*a, true, "case 12/2024").ok());
  // The held row is skipped by the mark; the other is claimed and can no longer be held.
  absl::StatusOr<std::vector<Segment>> marked = (*index)->MarkForDeletion({*a, *b}, "BATCH");
  ASSERT_TRUE(marked.ok()) << marked.status();
  ASSERT_EQ(marked->size(), 1u);
  EXPECT_EQ((*marked)[0].id, *b);
  absl::Status refused = (*index)->SetEvidenceHold(*b, true, "late");
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("BATCH"), std::string::npos);
  EXPECT_EQ((*index)->SetEvidenceHold(*b + 100, true).code(), absl::StatusCode::kNotFound);
  absl::StatusOr<int64_t> removed = (*index)->RemoveDeleted("BATCH");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  absl::StatusOr<std::vector<Segment>> rows = (*index)->All();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_TRUE((*rows)[0].evidence_hold);
  EXPECT_EQ((*rows)[0].hold_reason, "case 12/2024");
  ASSERT_TRUE((*index)->SetEvidenceHold(*a, false).ok());
  rows = (*index)->All();
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].hold_reason, "");
  fs::remove_all(dir);
}

TEST(SegmentIndex, UpgradesAVersionOneIndexKeepingItsRows) {
  const fs::path dir = custos::testing::TempDir("record_upgrade");
  fs::create_directories(dir / "recordings");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "recordings" / "index.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE segments (id INTEGER PRIMARY KEY, camera TEXT NOT NULL,"
                         " path TEXT NOT NULL UNIQUE, start_ms INTEGER NOT NULL,"
                         " end_ms INTEGER NOT NULL, bytes INTEGER NOT NULL DEFAULT 0,"
                         " state TEXT NOT NULL, evidence_hold INTEGER NOT NULL DEFAULT 0);"
                         "CREATE INDEX segments_camera_start ON segments (camera, start_ms);"
                         "INSERT INTO segments VALUES (1, 'cam', 'recordings/cam/1.mp4', 1, 2,"
                         " 3, 'closed', 1);"
                         "PRAGMA user_version = 1; PRAGMA application_id = 1129534023;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  absl::StatusOr<std::unique_ptr<SegmentIndex>> index = SegmentIndex::Open(dir.string());
  ASSERT_TRUE(index.ok()) << index.status();
  absl::StatusOr<std::vector<Segment>> rows = (*index)->All();
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_TRUE((*rows)[0].evidence_hold);
  EXPECT_EQ((*rows)[0].hold_reason, "");
  EXPECT_EQ((*rows)[0].delete_batch, "");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::record
