// Every single-byte change anywhere in a stored log, and every truncation or removed record,
// must make verification fail.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/audit_log.h"
#include "cli/commands.h"
#include "core/testing.h"
#include "gtest/gtest.h"

extern char** environ;

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
  std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs the real CLI when it has been built; -1 when it has not.
int RunCli(const std::vector<std::string>& args) {
  const std::string binary = CUSTOS_BINARY;
  if (::access(binary.c_str(), X_OK) != 0) return -1;
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

AuditEntry Entry(int i) {
  AuditEntry e;
  e.time_ms = 1'700'000'000'000 + i;
  e.actor = "user" + std::to_string(i);
  e.role = i % 2 ? "investigator" : "viewer";
  e.action = i % 2 ? "plate_query" : "live_view";
  e.object = "camera-" + std::to_string(i % 4);
  e.legal_basis = i % 2 ? "court order 17/2024" : "";
  e.result = "ok";
  return e;
}

class AuditTamper : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("audit_tamper_test");
    auto log = *AuditLog::Open(Opts(dir_.string()));
    // 20 entries; checkpoints at 7, 13 and GetParam() (20: all covered; 17: three are not).
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(log->Append(Entry(i)).ok());
      if (i + 1 == 7 || i + 1 == 13 || i + 1 == static_cast<int>(GetParam())) {
        ASSERT_TRUE(log->Checkpoint().ok());
      }
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  bool Verifies() { return VerifyAuditDir(dir_.string(), {}).ok(); }

  fs::path dir_;
};

TEST_P(AuditTamper, EverySingleByteChangeInEveryFileIsDetected) {
  ASSERT_TRUE(Verifies()) << VerifyAuditDir(dir_.string(), {}).status();
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "audit")) {
    if (e.is_regular_file() && e.path().filename() != "LOCK") files.push_back(e.path());
  }
  ASSERT_GE(files.size(), 8u);  // entries, idx, tree, 3 checkpoints, two keys.
  int64_t checked = 0;
  int cli_checked = 0;
  for (const fs::path& file : files) {
    const std::string original = Slurp(file);
    ASSERT_FALSE(original.empty()) << file;
    for (size_t offset = 0; offset < original.size(); ++offset) {
      std::string bad = original;
      bad[offset] = static_cast<char>(bad[offset] ^ (1 << (offset % 8)));
      Spit(file, bad);
      absl::StatusOr<VerifyReport> r = VerifyAuditDir(dir_.string(), {});
      EXPECT_FALSE(r.ok()) << file << " byte " << offset << " not detected";
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
      }
      ++checked;
      if (offset % 211 == 0) {
        // The command line too: in-process, and the real binary when it has been built.
        cli::AuditFlags flags;
        flags.data_dir = dir_.string();
        EXPECT_EQ(cli::RunAuditVerify(flags), 1) << file << " byte " << offset;
        // The binary starts slowly (it links the whole server): a sparser sample.
        const int rc =
            offset % 1055 == 0 ? RunCli({"audit", "verify", "--data-dir", dir_.string()}) : -1;
        if (rc >= 0) {
          EXPECT_EQ(rc, 1) << file << " byte " << offset;
          ++cli_checked;
        }
      }
    }
    Spit(file, original);
  }
  EXPECT_GT(checked, 5000);
  ASSERT_TRUE(Verifies());
  if (cli_checked == 0)
    std::cerr << "note: " << CUSTOS_BINARY << " not built; CLI checked in-process\n";
  const int rc = RunCli({"audit", "verify", "--data-dir", dir_.string()});
  if (rc >= 0) {
    EXPECT_EQ(rc, 0);
  }
}

TEST_P(AuditTamper, TruncationAndRemovedRecordsAreDetected) {
  const fs::path entries = dir_ / "audit" / "entries.log";
  const std::string original = Slurp(entries);
  const std::string idx = Slurp(dir_ / "audit" / "entries.idx");
  auto end_of = [&](int i) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b)
      v = (v << 8) | static_cast<uint8_t>(idx[static_cast<size_t>(i * 8 + b)]);
    return static_cast<size_t>(v);
  };
  for (size_t cut : {size_t{1}, size_t{12}, size_t{40}, original.size() - end_of(18)}) {
    Spit(entries, original.substr(0, original.size() - cut));
    EXPECT_FALSE(Verifies()) << "cut " << cut;
  }
  // Remove record 9 from the middle.
  Spit(entries, original.substr(0, end_of(8)) + original.substr(end_of(9)));
  absl::StatusOr<VerifyReport> r = VerifyAuditDir(dir_.string(), {});
  EXPECT_FALSE(r.ok());
  // Swap records 3 and 4.
  Spit(entries, original.substr(0, end_of(2)) + original.substr(end_of(3), end_of(4) - end_of(3)) +
                    original.substr(end_of(2), end_of(3) - end_of(2)) + original.substr(end_of(4)));
  EXPECT_FALSE(Verifies());
  // Remove the last record and the index/tree entries that go with it.
  Spit(entries, original.substr(0, end_of(18)));
  fs::resize_file(dir_ / "audit" / "entries.idx", 19 * 8);
  fs::resize_file(dir_ / "audit" / "tree.hashes", StoredHashCount(19) * 32);
  EXPECT_EQ(Verifies(), GetParam() < 20);  // Undetectable only if no checkpoint covered it.
  Spit(entries, original);
  Spit(dir_ / "audit" / "entries.idx", idx);
}

INSTANTIATE_TEST_SUITE_P(LastCheckpoint, AuditTamper, ::testing::Values(20, 17));

}  // namespace
}  // namespace custos::audit
