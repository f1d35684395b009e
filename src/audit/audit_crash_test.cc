// kill -9 while appending loses no acknowledged entry, and the log verifies after reopening.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>

#include "audit/audit_log.h"
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

// The child: appends forever, checkpointing every 16 entries, and reports each index once
// Append() returned OK. Never returns.
[[noreturn]] void AppendUntilKilled(const std::string& data_dir, int report_fd) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(Opts(data_dir));
  if (!log.ok()) _exit(3);
  for (;;) {
    AuditEntry e;
    const uint64_t expected = (*log)->size();
    e.actor = "crash-test";
    e.role = "system";
    e.action = "crash_test";
    e.object = "i" + std::to_string(expected);
    e.result = "ok";
    e.details = {{"padding", std::string(expected % 700, 'x')}};
    absl::StatusOr<uint64_t> index = (*log)->Append(e);
    if (!index.ok() || *index != expected) _exit(4);
    if (::write(report_fd, &expected, sizeof(expected)) != sizeof(expected)) _exit(5);
    if (expected % 16 == 15 && !(*log)->Checkpoint().ok()) _exit(6);
  }
}

TEST(AuditCrash, KillDashNineDuringAppendsLosesNoAcknowledgedEntry) {
  const fs::path dir = custos::testing::TempDir("audit_crash_test");
  std::mt19937 rng(20240611);
  std::set<uint64_t> acknowledged;
  int torn_seen = 0;
  for (int round = 0; round < 60; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      AppendUntilKilled(dir.string(), fds[1]);
    }
    ::close(fds[1]);
    std::uniform_int_distribution<int> delay_us(2'000, 80'000);
    ::usleep(static_cast<useconds_t>(delay_us(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    uint64_t index = 0;
    while (::read(fds[0], &index, sizeof(index)) == sizeof(index)) acknowledged.insert(index);
    ::close(fds[0]);

    // Occasionally also leave a torn record, as a crash in the middle of write() would.
    if (round % 5 == 4) {
      std::ofstream out(dir / "audit" / "entries.log", std::ios::binary | std::ios::app);
      out.write("CAE1\x20\x00\x00\x00\xdf\xff\xff\xff{\"act", 17);
      ++torn_seen;
    }

    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(Opts(dir.string()));
    ASSERT_TRUE(log.ok()) << "round " << round << ": " << log.status();
    const uint64_t size = (*log)->size();
    if (!acknowledged.empty()) {
      EXPECT_GT(size, *acknowledged.rbegin()) << "round " << round;
    }
    absl::StatusOr<VerifyReport> report = (*log)->Verify({});
    ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.status();
    // Every acknowledged entry is there, with its content.
    const uint64_t from = size > 21 ? size - 21 : 0;
    absl::StatusOr<std::vector<StoredEntry>> entries =
        (*log)->Read(from, 21, "test", auth::Role::kAuditor);
    ASSERT_TRUE(entries.ok()) << entries.status();
    for (const StoredEntry& e : *entries) {
      if (!acknowledged.contains(e.index)) continue;
      EXPECT_NE(e.json.find("\"object\":\"i" + std::to_string(e.index) + "\""), std::string::npos)
          << e.json;
    }
    // Spot checks: the first entries are still there too.
    absl::StatusOr<std::vector<StoredEntry>> head =
        (*log)->Read(0, 5, "test", auth::Role::kAuditor);
    ASSERT_TRUE(head.ok());
    for (const StoredEntry& e : *head) {
      if (acknowledged.contains(e.index)) {
        EXPECT_NE(e.json.find("\"object\":\"i" + std::to_string(e.index) + "\""),
                  std::string::npos);
      }
    }
  }
  {
    // At the end, every acknowledged entry is read back with its content.
    auto log = *AuditLog::Open(Opts(dir.string()));
    std::set<uint64_t> found;
    const uint64_t size = log->size();
    for (uint64_t from = 0; from < size; from += 1000) {
      absl::StatusOr<std::vector<StoredEntry>> entries =
          log->Read(from, 1000, "test", auth::Role::kAuditor);
      ASSERT_TRUE(entries.ok()) << entries.status();
      for (const StoredEntry& e : *entries) {
        if (e.json.find("\"object\":\"i" + std::to_string(e.index) + "\"") != std::string::npos) {
          found.insert(e.index);
        }
      }
    }
    for (uint64_t a : acknowledged) EXPECT_TRUE(found.contains(a)) << "lost entry " << a;
  }
  EXPECT_TRUE(VerifyAuditDir(dir.string(), {}).ok());
  // How many depends on the disk's fsync speed; some rounds kill before the first append.
  std::cerr << "note: " << acknowledged.size() << " acknowledged entries over 60 kills\n";
  EXPECT_GT(acknowledged.size(), 30u);
  EXPECT_EQ(torn_seen, 12);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::audit
