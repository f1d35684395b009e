#include "retention/retention_enforcer.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/testing.h"
#include "core/ulid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace custos::retention {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kNowMs = 1'700'000'000'000;
constexpr int64_t kSegmentMs = 10'000;

// Keeps every receipt; refuses them while `failure` is set.
class FakeAuditor final : public DeletionAuditor {
 public:
  absl::Status Record(const DeletionReceipt& receipt) override {
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    receipts_.push_back(receipt);
    return absl::OkStatus();
  }
  void Fail(absl::Status failure) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(failure);
  }
  std::vector<DeletionReceipt> receipts() {
    absl::MutexLock lock(&mu_);
    return receipts_;
  }

 private:
  absl::Mutex mu_;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::vector<DeletionReceipt> receipts_ ABSL_GUARDED_BY(mu_);
};

// A file system of `capacity` bytes holding only the recordings, and deletions that fail
// for paths containing `fail_substring`.
class FakeEnv final : public RetentionEnv {
 public:
  explicit FakeEnv(fs::path data_dir) : data_dir_(std::move(data_dir)) {}
  absl::Status RemoveFile(const std::string& path) override {
    if (!fail_substring.empty() && path.find(fail_substring) != std::string::npos) {
      return absl::UnavailableError("injected failure deleting " + path);
    }
    return RetentionEnv::RemoveFile(path);
  }
  absl::StatusOr<int64_t> FreeBytes(const std::string&) override {
    int64_t used = 0;
    for (const auto& entry : fs::recursive_directory_iterator(data_dir_ / "recordings")) {
      if (entry.is_regular_file() && entry.path().extension() == ".mp4") {
        used += static_cast<int64_t>(entry.file_size());
      }
    }
    return capacity - used;
  }

  int64_t capacity = 0;
  std::string fail_substring;

 private:
  const fs::path data_dir_;
};

class RetentionEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("retention");
    absl::StatusOr<std::unique_ptr<record::SegmentIndex>> index =
        record::SegmentIndex::Open(dir_.string());
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    env_ = std::make_unique<FakeEnv>(dir_);
    options_.data_dir = dir_.string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A closed segment of `bytes` bytes that ended `age_ms` ago; returns its id.
  int64_t AddSegment(const std::string& camera, int64_t age_ms, int64_t bytes, bool hold = false) {
    const int64_t end_ms = kNowMs - age_ms;
    record::Segment s;
    s.camera = camera;
    s.start_ms = end_ms - kSegmentMs;
    s.end_ms = end_ms;
    s.path = "recordings/" + camera + "/day/" + std::to_string(s.start_ms) + ".mp4";
    s.bytes = bytes;
    s.state = record::SegmentState::kClosed;
    s.evidence_hold = hold;
    s.hold_reason = hold ? "case 2024/117" : "";
    fs::create_directories((dir_ / s.path).parent_path());
    std::ofstream(dir_ / s.path, std::ios::binary) << std::string(static_cast<size_t>(bytes), 'x');
    absl::StatusOr<int64_t> id = index_->Add(s);
    EXPECT_TRUE(id.ok()) << id.status();
    paths_[id.value_or(0)] = s.path;
    return id.value_or(0);
  }

  bool FileExists(int64_t id) const { return fs::exists(dir_ / paths_.at(id)); }

  std::set<int64_t> RowIds() {
    std::set<int64_t> ids;
    absl::StatusOr<std::vector<record::Segment>> all = index_->All();
    EXPECT_TRUE(all.ok()) << all.status();
    for (const record::Segment& s : all.value_or(std::vector<record::Segment>{})) {
      ids.insert(s.id);
    }
    return ids;
  }

  std::unique_ptr<RetentionEnforcer> MakeEnforcer(store::SqliteEventStore* events = nullptr) {
    absl::StatusOr<std::unique_ptr<RetentionEnforcer>> enforcer =
        RetentionEnforcer::Create(options_, index_.get(), events, &auditor_, &clock_, env_.get());
    EXPECT_TRUE(enforcer.ok()) << enforcer.status();
    return enforcer.ok() ? *std::move(enforcer) : nullptr;
  }

  // Every line of receipts.jsonl must be one JSON object.
  std::vector<DeletionReceipt> Receipts() {
    std::ifstream in(dir_ / "retention" / "receipts.jsonl");
    std::vector<DeletionReceipt> receipts;
    std::string line;
    while (std::getline(in, line)) {
      EXPECT_TRUE(nlohmann::json::accept(line)) << line;
      absl::StatusOr<DeletionReceipt> r = ReceiptFromJson(line);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) receipts.push_back(*r);
    }
    return receipts;
  }

  fs::path dir_;
  std::unique_ptr<record::SegmentIndex> index_;
  std::unique_ptr<FakeEnv> env_;
  FakeAuditor auditor_;
  FakeClock clock_{kNowMs};
  RetentionOptions options_;
  std::map<int64_t, std::string> paths_;
};

TEST_F(RetentionEnforcerTest, DeletesSegmentsOlderThanTheCamerasMaxAgeAndKeepsTheRest) {
  const int64_t old1 = AddSegment("gate", 80 * kHourMs, 100);
  const int64_t old2 = AddSegment("gate", 73 * kHourMs, 100);
  const int64_t young = AddSegment("gate", 71 * kHourMs, 100);
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->segments_deleted, 2);
  EXPECT_EQ(summary->segment_bytes_deleted, 200);
  EXPECT_FALSE(FileExists(old1));
  EXPECT_FALSE(FileExists(old2));
  EXPECT_TRUE(FileExists(young));
  EXPECT_EQ(RowIds(), std::set<int64_t>{young});
  EXPECT_TRUE(fs::is_empty(dir_ / "retention" / "pending"));

  // Time passes: the young one expires too.
  clock_.AdvanceMs(2 * kHourMs);
  summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->segments_deleted, 1);
  EXPECT_TRUE(RowIds().empty());
}

TEST_F(RetentionEnforcerTest, AppliesPerCameraOverridesAndDefaultsToTheRest) {
  options_.cameras["lobby"].video_max_age_ms = 24 * kHourMs;
  options_.cameras["evidence-room"].video_max_age_ms = 30 * kDayMs;
  const int64_t lobby_old = AddSegment("lobby", 25 * kHourMs, 10);
  const int64_t lobby_young = AddSegment("lobby", 23 * kHourMs, 10);
  const int64_t room = AddSegment("evidence-room", 20 * kDayMs, 10);
  const int64_t gate_old = AddSegment("gate", 73 * kHourMs, 10);
  const int64_t gate_young = AddSegment("gate", 25 * kHourMs, 10);
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  EXPECT_EQ(enforcer->PolicyFor("lobby").video_max_age_ms, 24 * kHourMs);
  EXPECT_EQ(enforcer->PolicyFor("lobby").events_max_age_ms, 30 * kDayMs);
  EXPECT_EQ(enforcer->PolicyFor("gate").video_max_age_ms, 72 * kHourMs);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(RowIds(), (std::set<int64_t>{lobby_young, room, gate_young}));
  EXPECT_FALSE(FileExists(lobby_old));
  EXPECT_FALSE(FileExists(gate_old));
  std::set<std::string> rules;
  for (const DeletionReceipt& r : summary->receipts) rules.insert(r.rule);
  EXPECT_EQ(rules, (std::set<std::string>{"video-age camera=lobby max_age_h=24",
                                          "video-age camera=gate max_age_h=72"}));
}

TEST_F(RetentionEnforcerTest, EvidenceHeldSegmentsSurviveTheirAgeAndTheQuota) {
  const int64_t held = AddSegment("gate", 100 * kHourMs, 1000, /*hold=*/true);
  const int64_t expired = AddSegment("gate", 90 * kHourMs, 1000);
  const int64_t young1 = AddSegment("gate", 2 * kHourMs, 1000);
  const int64_t young2 = AddSegment("gate", 1 * kHourMs, 1000);
  options_.video_quota_bytes = 2500;
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  // Age takes `expired`; the quota (3000 > 2500) then takes the oldest unheld one, young1.
  EXPECT_EQ(RowIds(), (std::set<int64_t>{held, young2}));
  EXPECT_TRUE(FileExists(held));
  EXPECT_FALSE(FileExists(expired));
  EXPECT_FALSE(FileExists(young1));
  absl::StatusOr<std::vector<record::Segment>> rows = index_->All();
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].hold_reason, "case 2024/117");
}

TEST_F(RetentionEnforcerTest, QuotaDeletesTheOldestFirstAcrossCamerasUntilUnderQuota) {
  // Interleaved in time across three cameras, oldest first: a1 b1 c1 a2 b2 c2.
  const int64_t a1 = AddSegment("a", 6 * kHourMs, 100);
  const int64_t b1 = AddSegment("b", 5 * kHourMs, 100);
  const int64_t c1 = AddSegment("c", 4 * kHourMs, 100);
  const int64_t a2 = AddSegment("a", 3 * kHourMs, 100);
  const int64_t b2 = AddSegment("b", 2 * kHourMs, 100);
  const int64_t c2 = AddSegment("c", 1 * kHourMs, 100);
  options_.video_quota_bytes = 350;
  options_.max_batch = 2;  // Several rounds.
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(RowIds(), (std::set<int64_t>{a2, b2, c2}));
  for (const int64_t gone : {a1, b1, c1}) EXPECT_FALSE(FileExists(gone));
  EXPECT_EQ(summary->segment_bytes_deleted, 300);
  ASSERT_EQ(summary->receipts.size(), 3u);  // One per camera touched.
  for (const DeletionReceipt& r : summary->receipts) {
    EXPECT_THAT(r.rule, HasSubstr("quota quota_bytes=350"));
    EXPECT_EQ(r.count, 1);
  }
}

TEST_F(RetentionEnforcerTest, QuotaWithOnlyHeldSegmentsLeftIsResourceExhaustedAndKeepsThem) {
  const int64_t held1 = AddSegment("a", 5 * kHourMs, 100, /*hold=*/true);
  const int64_t free1 = AddSegment("a", 4 * kHourMs, 100);
  const int64_t held2 = AddSegment("b", 3 * kHourMs, 100, /*hold=*/true);
  options_.video_quota_bytes = 150;
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(summary.status().message(), HasSubstr("evidence hold"));
  EXPECT_THAT(summary.status().message(), HasSubstr("raise video_quota_bytes"));
  EXPECT_EQ(RowIds(), (std::set<int64_t>{held1, held2}));
  EXPECT_TRUE(FileExists(held1));
  EXPECT_TRUE(FileExists(held2));
  EXPECT_FALSE(FileExists(free1));
  EXPECT_EQ(Receipts().size(), 1u);
}

TEST_F(RetentionEnforcerTest, LowFreeSpaceDeletesTheOldestSegmentsUntilAboveTheFloor) {
  const int64_t a1 = AddSegment("a", 3 * kHourMs, 400);
  const int64_t b1 = AddSegment("b", 2 * kHourMs, 400);
  const int64_t a2 = AddSegment("a", 1 * kHourMs, 400);
  env_->capacity = 1500;           // 300 bytes free.
  options_.min_free_bytes = 1000;  // Two segments must go.
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(RowIds(), std::set<int64_t>{a2});
  EXPECT_FALSE(FileExists(a1));
  EXPECT_FALSE(FileExists(b1));
  ASSERT_FALSE(summary->receipts.empty());
  EXPECT_THAT(summary->receipts[0].rule, HasSubstr("min-free min_free_bytes=1000 free_bytes=300"));

  // Nothing deletable left and still under the floor: a clear error, the held data stays.
  ASSERT_TRUE(index_->SetEvidenceHold(a2, true, "case 7").ok());
  env_->capacity = 1000;
  summary = enforcer->RunOnce();
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(summary.status().message(), HasSubstr("min_free_bytes"));
  EXPECT_TRUE(FileExists(a2));
}

TEST_F(RetentionEnforcerTest, WritesOneValidJsonLineReceiptPerBatchWithCountsBytesAndRule) {
  AddSegment("gate", 75 * kHourMs, 123);
  AddSegment("gate", 74 * kHourMs, 456);
  AddSegment("gate", 73 * kHourMs, 789);
  options_.max_batch = 2;
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  const std::vector<DeletionReceipt> receipts = Receipts();
  ASSERT_EQ(receipts.size(), 2u);
  EXPECT_EQ(receipts[0].rule, "video-age camera=gate max_age_h=72");
  EXPECT_EQ(receipts[0].kind, DataKind::kVideo);
  EXPECT_EQ(receipts[0].camera, "gate");
  EXPECT_EQ(receipts[0].count, 2);
  EXPECT_EQ(receipts[0].bytes, 123 + 456);
  EXPECT_EQ(receipts[0].oldest_ms, kNowMs - 75 * kHourMs - kSegmentMs);
  EXPECT_EQ(receipts[0].newest_ms, kNowMs - 74 * kHourMs);
  EXPECT_EQ(receipts[0].items.size(), 2u);
  EXPECT_THAT(receipts[0].items[0], HasSubstr("recordings/gate/"));
  EXPECT_EQ(receipts[1].count, 1);
  EXPECT_EQ(receipts[1].bytes, 789);
  EXPECT_GE(UlidTimeMs(receipts[0].id), 0);
  EXPECT_NE(receipts[0].id, receipts[1].id);
  EXPECT_EQ(receipts[0].time_ms, kNowMs);
  // The auditor got the same receipts, in the same order.
  const std::vector<DeletionReceipt> audited = auditor_.receipts();
  ASSERT_EQ(audited.size(), 2u);
  EXPECT_EQ(audited[0].id, receipts[0].id);
  EXPECT_EQ(audited[1].id, receipts[1].id);
}

class EventRetentionTest : public RetentionEnforcerTest {
 protected:
  void SetUp() override {
    RetentionEnforcerTest::SetUp();
    absl::StatusOr<std::unique_ptr<store::SqliteEventStore>> store =
        store::SqliteEventStore::Open({(dir_ / "events.db").string()});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // An event `age_ms` old, with a snapshot file of `snapshot_bytes` when > 0.
  Event AddEvent(const std::string& camera, int64_t age_ms, int snapshot_bytes = 0) {
    Event e;
    e.time_ms = kNowMs - age_ms;
    e.id = NewUlid(e.time_ms);
    e.camera = camera;
    e.type = EventType::kTrackEnd;
    e.label = "person";
    if (snapshot_bytes > 0) {
      e.snapshot = camera + "/day/" + e.id + ".jpg";
      const fs::path file = dir_ / "snapshots" / e.snapshot;
      fs::create_directories(file.parent_path());
      std::ofstream(file, std::ios::binary)
          << std::string(static_cast<size_t>(snapshot_bytes), 'j');
    }
    EXPECT_TRUE(store_->Append({e}).ok());
    return e;
  }

  bool SnapshotExists(const Event& e) const { return fs::exists(dir_ / "snapshots" / e.snapshot); }

  std::set<std::string> EventIds() {
    absl::StatusOr<std::vector<Event>> events = store_->Query({.limit = 1000});
    EXPECT_TRUE(events.ok()) << events.status();
    std::set<std::string> ids;
    for (const Event& e : events.value_or(std::vector<Event>{})) ids.insert(e.id);
    return ids;
  }

  std::unique_ptr<store::SqliteEventStore> store_;
};

TEST_F(EventRetentionTest, DeletesExpiredEventsWithTheirSnapshotFilesUnderTheSnapshotDir) {
  options_.cameras["lobby"].events_max_age_ms = 7 * kDayMs;
  const Event old_gate = AddEvent("gate", 31 * kDayMs, 50);
  const Event old_gate_plain = AddEvent("gate", 40 * kDayMs);
  const Event young_gate = AddEvent("gate", 29 * kDayMs, 60);
  const Event old_lobby = AddEvent("lobby", 8 * kDayMs, 70);
  const Event young_lobby = AddEvent("lobby", 6 * kDayMs);
  // A reference that escapes the snapshot directory is never followed.
  Event escaping;
  escaping.time_ms = kNowMs - 50 * kDayMs;
  escaping.id = NewUlid(escaping.time_ms);
  escaping.camera = "gate";
  escaping.snapshot = "../outside.jpg";
  std::ofstream(dir_ / "outside.jpg") << "keep me";
  ASSERT_TRUE(store_->Append({escaping}).ok());

  auto enforcer = MakeEnforcer(store_.get());
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(EventIds(), (std::set<std::string>{young_gate.id, young_lobby.id}));
  EXPECT_EQ(summary->events_deleted, 4);
  EXPECT_EQ(summary->snapshots_deleted, 2);
  EXPECT_EQ(summary->snapshot_bytes_deleted, 120);
  EXPECT_FALSE(SnapshotExists(old_gate));
  EXPECT_FALSE(SnapshotExists(old_lobby));
  EXPECT_TRUE(SnapshotExists(young_gate));
  EXPECT_TRUE(fs::exists(dir_ / "outside.jpg"));
  (void)old_gate_plain;

  const std::vector<DeletionReceipt> receipts = Receipts();
  ASSERT_EQ(receipts.size(), 2u);
  for (const DeletionReceipt& r : receipts) {
    EXPECT_EQ(r.kind, DataKind::kEvents);
    if (r.camera == "gate") {
      EXPECT_EQ(r.rule, "events-age camera=gate max_age_h=720");
      EXPECT_EQ(r.count, 3);
      EXPECT_EQ(r.bytes, 50);
      EXPECT_EQ(r.files, std::vector<std::string>{old_gate.snapshot});
      ASSERT_EQ(r.items.size(), 1u);
      EXPECT_THAT(r.items[0], HasSubstr(".."));
    } else {
      EXPECT_EQ(r.rule, "events-age camera=lobby max_age_h=168");
      EXPECT_EQ(r.count, 1);
    }
  }
}

TEST_F(EventRetentionTest, DeletesSnapshotsBeforeTheirEventsWhenTheirPolicyIsShorter) {
  options_.defaults.snapshots_max_age_ms = 7 * kDayMs;
  const Event week_old = AddEvent("gate", 8 * kDayMs, 40);
  const Event fresh = AddEvent("gate", 1 * kDayMs, 30);
  auto enforcer = MakeEnforcer(store_.get());
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(EventIds(), (std::set<std::string>{week_old.id, fresh.id}));
  EXPECT_FALSE(SnapshotExists(week_old));
  EXPECT_TRUE(SnapshotExists(fresh));
  absl::StatusOr<std::vector<Event>> kept = store_->Query({.camera = "gate", .limit = 10});
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 2u);
  EXPECT_EQ((*kept)[0].snapshot, "");  // The reference goes with the file.
  EXPECT_EQ((*kept)[1].snapshot, fresh.snapshot);
  ASSERT_EQ(summary->receipts.size(), 1u);
  EXPECT_EQ(summary->receipts[0].rule, "snapshots-age camera=gate max_age_h=168");
  EXPECT_EQ(summary->receipts[0].kind, DataKind::kSnapshots);
  EXPECT_EQ(summary->receipts[0].bytes, 40);
}

TEST_F(RetentionEnforcerTest, AFailedFileDeletionLeavesAConsistentStateThatTheNextRunFinishes) {
  const int64_t s1 = AddSegment("gate", 76 * kHourMs, 100);
  const int64_t s2 = AddSegment("gate", 75 * kHourMs, 100);
  const int64_t s3 = AddSegment("gate", 74 * kHourMs, 100);
  const int64_t keep = AddSegment("gate", 1 * kHourMs, 100);
  env_->fail_substring = std::to_string(kNowMs - 75 * kHourMs - kSegmentMs);  // s2's file.
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kUnavailable);
  // The receipt was written before anything was deleted; s1 went, s2 and s3 did not; all
  // three rows stay, marked, so no hold can land on them and playback knows they expire.
  ASSERT_EQ(Receipts().size(), 1u);
  EXPECT_EQ(Receipts()[0].count, 3);
  EXPECT_FALSE(FileExists(s1));
  EXPECT_TRUE(FileExists(s2));
  EXPECT_TRUE(FileExists(s3));
  EXPECT_EQ(RowIds(), (std::set<int64_t>{s1, s2, s3, keep}));
  EXPECT_EQ(index_->SetEvidenceHold(s3, true, "too late").code(),
            absl::StatusCode::kFailedPrecondition);

  // A restart: the recorder's reconcile drops the row whose file is gone, retention finishes
  // the batch under the same receipt.
  env_->fail_substring.clear();
  ASSERT_TRUE(index_->Reconcile().ok());
  auto restarted = MakeEnforcer();
  ASSERT_NE(restarted, nullptr);
  summary = restarted->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->batches_finished_after_crash, 1);
  EXPECT_EQ(RowIds(), std::set<int64_t>{keep});
  EXPECT_FALSE(FileExists(s2));
  EXPECT_FALSE(FileExists(s3));
  EXPECT_EQ(Receipts().size(), 1u);
  EXPECT_TRUE(fs::is_empty(dir_ / "retention" / "pending"));
}

TEST_F(RetentionEnforcerTest, AFailingAuditorStopsDeletionUntilItAcceptsTheReceipt) {
  const int64_t old = AddSegment("gate", 80 * kHourMs, 100);
  auditor_.Fail(absl::UnavailableError("audit log unreachable"));
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(summary.status().message(), HasSubstr("audit log unreachable"));
  EXPECT_THAT(summary.status().message(), HasSubstr("nothing of this batch was deleted"));
  EXPECT_TRUE(FileExists(old));
  EXPECT_EQ(RowIds(), std::set<int64_t>{old});
  summary = enforcer->RunOnce();  // Still refused: still nothing deleted.
  EXPECT_FALSE(summary.ok());
  EXPECT_TRUE(FileExists(old));

  auditor_.Fail(absl::OkStatus());
  summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_FALSE(FileExists(old));
  EXPECT_TRUE(RowIds().empty());
  // One batch, one receipt, recorded once it was accepted.
  ASSERT_EQ(Receipts().size(), 1u);
  ASSERT_EQ(auditor_.receipts().size(), 1u);
  EXPECT_EQ(auditor_.receipts()[0].id, Receipts()[0].id);
}

TEST_F(EventRetentionTest, AFailingAuditorKeepsEventsUntilTheReceiptIsAccepted) {
  const Event old = AddEvent("gate", 40 * kDayMs, 10);
  auditor_.Fail(absl::UnavailableError("audit log unreachable"));
  auto enforcer = MakeEnforcer(store_.get());
  ASSERT_NE(enforcer, nullptr);
  EXPECT_FALSE(enforcer->RunOnce().ok());
  EXPECT_EQ(EventIds(), std::set<std::string>{old.id});
  EXPECT_TRUE(SnapshotExists(old));
  auditor_.Fail(absl::OkStatus());
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_TRUE(EventIds().empty());
  EXPECT_FALSE(SnapshotExists(old));
  EXPECT_EQ(Receipts().size(), 1u);
}

TEST_F(RetentionEnforcerTest, MarksLeftByACrashBeforeTheReceiptAreRolledBack) {
  const int64_t old = AddSegment("gate", 80 * kHourMs, 100);
  const int64_t young = AddSegment("gate", 1 * kHourMs, 100);
  // A crash right after step (1): rows marked, no pending file, no receipt.
  ASSERT_TRUE(index_->MarkForDeletion({old, young}, NewUlid(kNowMs)).ok());
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->batches_rolled_back, 1);
  // The young one is back to normal; the old one was deleted afresh, with its own receipt.
  EXPECT_EQ(RowIds(), std::set<int64_t>{young});
  EXPECT_TRUE(FileExists(young));
  ASSERT_EQ(Receipts().size(), 1u);
  EXPECT_EQ(Receipts()[0].count, 1);
  EXPECT_TRUE(index_->SetEvidenceHold(young, true, "case 9").ok());
}

TEST_F(RetentionEnforcerTest, NeverDeletesSegmentsThatAreStillBeingWritten) {
  absl::StatusOr<int64_t> open =
      index_->AddOpen("gate", "recordings/gate/day/1.mp4", kNowMs - 100 * kHourMs);
  ASSERT_TRUE(open.ok());
  options_.video_quota_bytes = 1;
  AddSegment("gate", 90 * kHourMs, 10);
  auto enforcer = MakeEnforcer();
  ASSERT_NE(enforcer, nullptr);
  absl::StatusOr<RetentionSummary> summary = enforcer->RunOnce();
  ASSERT_TRUE(summary.ok()) << summary.status();  // Open rows have 0 bytes: under quota.
  EXPECT_EQ(RowIds(), std::set<int64_t>{*open});
}

TEST_F(RetentionEnforcerTest, RejectsBadOptionsNamingTheOption) {
  auto create = [&] {
    return RetentionEnforcer::Create(options_, index_.get(), nullptr, &auditor_, &clock_,
                                     env_.get())
        .status();
  };
  options_.defaults.video_max_age_ms = 0;
  EXPECT_THAT(create().message(), HasSubstr("default video_max_age_ms"));
  options_.defaults = {};
  options_.cameras["lobby"].snapshots_max_age_ms = 60 * kDayMs;
  EXPECT_THAT(create().message(), HasSubstr("camera lobby: snapshots_max_age_ms"));
  options_.cameras.clear();
  options_.max_batch = 0;
  EXPECT_EQ(create().code(), absl::StatusCode::kInvalidArgument);
  options_.max_batch = 500;
  options_.data_dir = "/nonexistent/custos";
  EXPECT_EQ(create().code(), absl::StatusCode::kFailedPrecondition);
  options_.data_dir = dir_.string();
  EXPECT_THAT(RetentionEnforcer::Create(options_, index_.get(), nullptr, nullptr, &clock_)
                  .status()
                  .message(),
              HasSubstr("auditor"));
  EXPECT_TRUE(create().ok());
}

}  // namespace
}  // namespace custos::retention
