#include "audit/audit_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/testing.h"
#include "gtest/gtest.h"

namespace custos::audit {
namespace {

namespace fs = std::filesystem;

AuditLogOptions Opts(std::string data_dir, const Clock* clock = nullptr) {
  AuditLogOptions o;
  o.data_dir = std::move(data_dir);
  o.clock = clock;
  return o;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void Spit(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

mode_t Mode(const fs::path& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

AuditEntry Entry(int i) {
  AuditEntry e;
  e.time_ms = 1'700'000'000'000 + i;
  e.actor = "inspector" + std::to_string(i % 3);
  e.role = "investigator";
  e.action = "plate_query";
  e.object = "plate:AB-" + std::to_string(i);
  e.legal_basis = "case 2024/" + std::to_string(i);
  e.purpose = "theft investigation";
  e.result = "ok";
  e.client = "10.0.0." + std::to_string(i % 250);
  return e;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = custos::testing::TempDir("audit_log_test"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<AuditLog> OpenLog() {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(Opts(dir_.string(), &clock_));
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }
  fs::path audit() const { return dir_ / "audit"; }

  fs::path dir_;
  FakeClock clock_;
};

TEST(CanonicalJson, IsSortedCompactAndStable) {
  AuditEntry e = Entry(1);
  e.details = {{"z", 1}, {"a", "é\n"}};
  EXPECT_EQ(*CanonicalJson(e),
            "{\"action\":\"plate_query\",\"actor\":\"inspector1\",\"client\":\"10.0.0.1\","
            "\"details\":{\"a\":\"é\\n\",\"z\":1},\"legal_basis\":\"case 2024/1\","
            "\"object\":\"plate:AB-1\",\"purpose\":\"theft investigation\",\"result\":\"ok\","
            "\"role\":\"investigator\",\"time\":\"2023-11-14T22:13:20.001Z\",\"v\":1}");
  e.details = {{"score", 0.5}};
  EXPECT_EQ(CanonicalJson(e).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditLogTest, AppendedEntriesAreProvablyIncludedInTheCheckpoint) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 13; ++i) ASSERT_EQ(*log->Append(Entry(i)), static_cast<uint64_t>(i));
  absl::StatusOr<SignedCheckpoint> c = log->Checkpoint();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->checkpoint.size, 13u);
  EXPECT_EQ(c->checkpoint.origin, log->key().name);
  for (uint64_t i = 0; i < 13; ++i) {
    absl::StatusOr<InclusionProof> p = log->ProveInclusion(i, 0);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->entry, *CanonicalJson(Entry(static_cast<int>(i))));
    EXPECT_TRUE(VerifyInclusion(i, 13, LeafHash(p->entry), p->hashes, c->checkpoint.root).ok());
  }
  EXPECT_EQ(log->ProveInclusion(13, 0).status().code(), absl::StatusCode::kOutOfRange);
  absl::StatusOr<VerifyReport> report = log->Verify({});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->entries, 13u);
}

TEST_F(AuditLogTest, CheckpointsOnlyWhenTheLogGrewAndStaysConsistent) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(log->Checkpoint()->checkpoint.size, 0u);  // The first one, even when empty.
  ASSERT_TRUE(log->Append(Entry(0)).ok());
  const SignedCheckpoint first = *log->Checkpoint();
  const SignedCheckpoint again = *log->Checkpoint();
  EXPECT_EQ(first.note, again.note);
  for (int i = 1; i < 9; ++i) ASSERT_TRUE(log->Append(Entry(i)).ok());
  ASSERT_EQ(log->Checkpoint()->checkpoint.size, 9u);
  EXPECT_EQ(std::distance(fs::directory_iterator(audit() / "checkpoints"), {}), 3);
  absl::StatusOr<ConsistencyProof> p = log->ProveConsistency(1, 0);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(
      VerifyConsistency(1, 9, p->hashes, first.checkpoint.root, p->checkpoint2.checkpoint.root)
          .ok());
}

TEST_F(AuditLogTest, CheckpointVerifiesWithTheStoredKeyOnlyAndTheKeyIsPrivate) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Entry(0)).ok());
  const SignedCheckpoint c = *log->Checkpoint();
  std::string vkey = Slurp(audit() / "verifier.key");
  ASSERT_FALSE(vkey.empty());
  vkey.pop_back();
  const VerifierKey key = *ParseVerifierKey(vkey);
  EXPECT_EQ(vkey, log->verifier_key());
  EXPECT_TRUE(OpenCheckpoint(c.note, key).ok());
  std::string changed = c.note;
  changed[changed.find('\n') + 1] = '2';  // Tree size 1 -> 2.
  EXPECT_FALSE(OpenCheckpoint(changed, key).ok());
  const SignerKey other = *GenerateSignerKey(key.name);
  EXPECT_FALSE(OpenCheckpoint(c.note, other.verifier).ok());
  EXPECT_FALSE(OpenCheckpoint(SignNote(FormatCheckpoint(c.checkpoint), other), key).ok());
  EXPECT_EQ(Mode(audit() / "key" / "signing.key"), 0600u);
  EXPECT_EQ(Mode(audit() / "key"), 0700u);
  EXPECT_EQ(Mode(audit()), 0700u);
}

TEST_F(AuditLogTest, ReopeningKeepsKeyEntriesAndRefusesASecondWriter) {
  std::string vkey;
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    vkey = log->verifier_key();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(Entry(i)).ok());
    ASSERT_TRUE(log->Checkpoint().ok());
    for (int i = 5; i < 8; ++i) ASSERT_TRUE(log->Append(Entry(i)).ok());
    EXPECT_EQ(AuditLog::Open(Opts(dir_.string())).status().code(), absl::StatusCode::kUnavailable);
  }
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->verifier_key(), vkey);
  EXPECT_EQ(log->size(), 8u);
  ASSERT_TRUE(log->Append(Entry(8)).ok());
  ASSERT_TRUE(log->Checkpoint().ok());
  EXPECT_TRUE(log->Verify({}).ok());
  EXPECT_EQ(AuditLog::Open([&] {
              auto o = Opts(dir_.string());
              o.origin = "other.origin";
              return o;
            }())
                .status()
                .code(),
            absl::StatusCode::kUnavailable);  // Still locked by `log`.
}

TEST_F(AuditLogTest, RefusesAKeyReadableByOthersAndAMissingKeyForAnExistingLog) {
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(Entry(0)).ok());
  }
  ::chmod((audit() / "key" / "signing.key").c_str(), 0644);
  EXPECT_EQ(AuditLog::Open(Opts(dir_.string())).status().code(),
            absl::StatusCode::kPermissionDenied);
  fs::remove(audit() / "key" / "signing.key");
  EXPECT_EQ(AuditLog::Open(Opts(dir_.string())).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AuditLogTest, ImplementsAccessLogAndDeletionAuditor) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  auth::AccessLog& access = *log;
  access.Record({.time_ms = 1'700'000'000'000,
                 .actor = "alice",
                 .role = auth::Role::kInvestigator,
                 .action = auth::AccessAction::kPlayback,
                 .object = "gate-2",
                 .result = auth::AccessResult::kOk,
                 .client = "127.0.0.1"});
  retention::DeletionAuditor& auditor = *log;
  retention::DeletionReceipt receipt;
  receipt.id = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
  receipt.time_ms = 1'700'000'000'500;
  receipt.rule = "video-age camera=gate-2 max_age_h=72";
  receipt.camera = "gate-2";
  receipt.count = 2;
  receipt.items = {"video/gate-2/a.mp4", "video/gate-2/b.mp4"};
  ASSERT_TRUE(auditor.Record(receipt).ok());
  ASSERT_TRUE(auditor.Record(receipt).ok());  // Idempotent by id.
  EXPECT_EQ(log->size(), 2u);
  EXPECT_EQ(log->failed_records(), 0);
  absl::StatusOr<std::vector<StoredEntry>> read = log->Read(0, 10, "dpo", auth::Role::kAuditor);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3u);  // The two, and the read itself.
  EXPECT_NE((*read)[0].json.find("\"action\":\"playback\""), std::string::npos);
  EXPECT_NE((*read)[0].json.find("\"actor\":\"alice\""), std::string::npos);
  EXPECT_NE((*read)[1].json.find("\"rule\":\"video-age camera=gate-2 max_age_h=72\""),
            std::string::npos);
  EXPECT_NE((*read)[2].json.find("\"action\":\"audit_read\""), std::string::npos);
  EXPECT_NE((*read)[2].json.find("\"object\":\"entries 0..9\""), std::string::npos);
  // After reopening, the receipt is still known.
  log.reset();
  log = OpenLog();
  ASSERT_TRUE(static_cast<retention::DeletionAuditor&>(*log).Record(receipt).ok());
  EXPECT_EQ(log->size(), 3u);
}

TEST_F(AuditLogTest, OnlyTheAuditorReadsAndRefusalsAreLogged) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Entry(0)).ok());
  EXPECT_EQ(log->Read(0, 1, "root", auth::Role::kAdmin).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(log->size(), 2u);
  absl::StatusOr<std::vector<StoredEntry>> read = log->Read(1, 1, "dpo", auth::Role::kAuditor);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_NE((*read)[0].json.find("\"result\":\"denied\""), std::string::npos);
  EXPECT_NE((*read)[0].json.find("\"actor\":\"root\""), std::string::npos);
}

TEST_F(AuditLogTest, ATornFinalRecordIsTruncatedOnOpenAndReportedBeforeThat) {
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(Entry(i)).ok());
    ASSERT_TRUE(log->Checkpoint().ok());
    ASSERT_TRUE(log->Append(Entry(5)).ok());
  }
  const std::string full = Slurp(audit() / "entries.log");
  // A half-written seventh record: the header and part of the payload.
  const std::string torn = full + std::string("CAE1", 4) + std::string("\x40\0\0\0", 4) +
                           std::string("\xbf\xff\xff\xff", 4) + "{\"action\":";
  Spit(audit() / "entries.log", torn);
  absl::StatusOr<VerifyReport> before = VerifyAuditDir(dir_.string(), {});
  EXPECT_EQ(before.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(before.status().message().find("entry 6 at byte offset"), std::string::npos)
      << before.status();
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 6u);
  EXPECT_EQ(Slurp(audit() / "entries.log"), full);
  EXPECT_TRUE(VerifyAuditDir(dir_.string(), {}).ok());
  // A zero-filled tail (what some file systems leave after a power cut) is torn as well.
  log.reset();
  Spit(audit() / "entries.log", full + std::string(300, '\0'));
  log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 6u);
}

TEST_F(AuditLogTest, ADamagedRecordInTheMiddleIsTamperingNotATornTail) {
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(log->Append(Entry(i)).ok());
  }
  std::string bytes = Slurp(audit() / "entries.log");
  const size_t at = bytes.find("plate:AB-3");
  bytes[at] = 'Q';
  Spit(audit() / "entries.log", bytes);
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(Opts(dir_.string()));
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find("entry 3 at byte offset"), std::string::npos)
      << log.status();
  // The damaged final record is not silently dropped either.
  bytes = Slurp(audit() / "entries.log");
  bytes[at] = 'p';
  bytes[bytes.find("plate:AB-5")] = 'Q';
  Spit(audit() / "entries.log", bytes);
  EXPECT_EQ(AuditLog::Open(Opts(dir_.string())).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AuditLogTest, DerivedFilesAreRebuiltAfterACrashBetweenCheckpoints) {
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(log->Append(Entry(i)).ok());
    ASSERT_TRUE(log->Checkpoint().ok());
    for (int i = 7; i < 12; ++i) ASSERT_TRUE(log->Append(Entry(i)).ok());
  }
  // As if the unsynced tail of the derived files was lost.
  fs::resize_file(audit() / "tree.hashes", StoredHashCount(7) * 32 + 5);
  fs::resize_file(audit() / "entries.idx", 7 * 8 + 3);
  EXPECT_FALSE(VerifyAuditDir(dir_.string(), {}).ok());
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 12u);
  EXPECT_TRUE(VerifyAuditDir(dir_.string(), {}).ok());
}

TEST_F(AuditLogTest, AnExternallyKeptCheckpointDetectsARewrittenLog) {
  std::string kept;
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(log->Append(Entry(i)).ok());
    kept = log->Checkpoint()->note;
    for (int i = 6; i < 10; ++i) ASSERT_TRUE(log->Append(Entry(i)).ok());
    ASSERT_TRUE(log->Checkpoint().ok());
  }
  EXPECT_TRUE(VerifyAuditDir(dir_.string(), {.external_checkpoint = kept}).ok());
  // An operator with the key rewrites history: new entries, freshly signed checkpoints.
  const std::string key = Slurp(audit() / "key" / "signing.key");
  fs::remove_all(audit());
  fs::create_directories(audit() / "key");
  fs::permissions(audit(), fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(audit() / "key", fs::perms::owner_all, fs::perm_options::replace);
  Spit(audit() / "key" / "signing.key", key);
  fs::permissions(audit() / "key" / "signing.key", fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 10; ++i) {
      AuditEntry e = Entry(i);
      if (i == 2) e.object = "plate:REWRITTEN";
      ASSERT_TRUE(log->Append(e).ok());
    }
    ASSERT_TRUE(log->Checkpoint().ok());
  }
  EXPECT_TRUE(VerifyAuditDir(dir_.string(), {}).ok());  // Internally consistent...
  absl::StatusOr<VerifyReport> r = VerifyAuditDir(dir_.string(), {.external_checkpoint = kept});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);  // ...but not with what was published.
  EXPECT_NE(r.status().message().find("external checkpoint"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace custos::audit
