// The independent verifier in tools/ (Go, standard library only) accepts the proofs that
// `custos audit prove` / `consistency` print, and rejects mutated ones.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "audit/audit_log.h"
#include "cli/commands.h"
#include "core/testing.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

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
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs argv[0] with stdout to `out` (if not empty); returns the exit status, -1 if it could
// not start.
int Spawn(const std::vector<std::string>& args, const fs::path& out = {}) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!out.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// `custos audit ...` through the real binary when built, else the same code in-process.
int Custos(const std::vector<std::string>& args, const fs::path& out) {
  if (::access(CUSTOS_BINARY, X_OK) == 0) {
    std::vector<std::string> full = {CUSTOS_BINARY};
    full.insert(full.end(), args.begin(), args.end());
    return Spawn(full, out);
  }
  std::cerr << "note: " << CUSTOS_BINARY << " not built; running the command in-process\n";
  cli::AuditFlags flags;
  flags.data_dir = args[3];
  std::ofstream file(out);
  std::streambuf* saved = std::cout.rdbuf(file.rdbuf());
  int rc = 2;
  if (args[1] == "prove") {
    flags.entry = std::stoull(args[2]);
    flags.data_dir = args[4];
    for (size_t i = 5; i + 1 < args.size(); i += 2) {
      if (args[i] == "--entry-out") flags.entry_out = args[i + 1];
      if (args[i] == "--checkpoint-out") flags.checkpoint_out = args[i + 1];
    }
    rc = cli::RunAuditProve(flags);
  } else if (args[1] == "consistency") {
    flags.from = std::stoull(args[5]);
    rc = cli::RunAuditConsistency(flags);
  }
  std::cout.rdbuf(saved);
  return rc;
}

class AuditTool : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string go = CUSTOS_GO_EXECUTABLE;
    if (go.empty() || ::access(go.c_str(), X_OK) != 0) {
      GTEST_SKIP() << "no Go toolchain: tools/verify_inclusion.go not tested (install Go 1.20+)";
    }
    dir_ = custos::testing::TempDir("audit_tool_test");
    tool_ = dir_ / "verify_inclusion";
    ASSERT_EQ(Spawn({go, "build", "-o", tool_.string(),
                     std::string(CUSTOS_SOURCE_DIR) + "/tools/verify_inclusion.go"}),
              0)
        << "go build failed";
    auto log = *AuditLog::Open(Opts(dir_.string()));
    for (int i = 0; i < 12; ++i) {
      AuditEntry e;
      e.actor = "investigator" + std::to_string(i);
      e.role = "investigator";
      e.action = "plate_query";
      e.object = "plate:XY-" + std::to_string(i);
      e.legal_basis = "case 4711";
      e.purpose = "hit and run";
      e.result = "ok";
      ASSERT_TRUE(log->Append(e).ok());
      if (i == 4) {
        ASSERT_TRUE(log->Checkpoint().ok());
      }
    }
    ASSERT_TRUE(log->Checkpoint().ok());
    key_ = dir_ / "audit" / "verifier.key";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  int Verify(const fs::path& key, const fs::path& checkpoint, const fs::path& entry,
             const fs::path& proof) {
    return Spawn({tool_.string(), "-key", key.string(), "-checkpoint", checkpoint.string(),
                  "-entry", entry.string(), "-proof", proof.string()});
  }

  fs::path dir_, tool_, key_;
};

TEST_F(AuditTool, AcceptsARealInclusionProofAndRejectsMutatedOnes) {
  const fs::path proof = dir_ / "proof.json", entry = dir_ / "entry.json",
                 checkpoint = dir_ / "checkpoint";
  ASSERT_EQ(Custos({"audit", "prove", "7", "--data-dir", dir_.string(), "--entry-out",
                    entry.string(), "--checkpoint-out", checkpoint.string()},
                   proof),
            0);
  ASSERT_EQ(Verify(key_, checkpoint, entry, proof), 0);
  const nlohmann::json good = nlohmann::json::parse(Slurp(proof));
  ASSERT_EQ(good["index"], 7);
  ASSERT_EQ(good["tree_size"], 12);

  const fs::path bad = dir_ / "bad";
  // A changed entry.
  std::string e = Slurp(entry);
  e[e.find("XY-7") + 3] = '8';
  Spit(bad, e);
  EXPECT_EQ(Verify(key_, checkpoint, bad, proof), 1);
  // Index +-1, another tree size, a flipped bit in each proof hash, a hash removed / added.
  auto expect_rejected = [&](nlohmann::json j, const char* what) {
    j.erase("leaf_hash");  // So the proof itself is what is checked.
    Spit(bad, j.dump());
    EXPECT_EQ(Verify(key_, checkpoint, entry, bad), 1) << what;
  };
  for (int d : {-1, 1}) {
    nlohmann::json j = good;
    j["index"] = 7 + d;
    expect_rejected(j, "index");
  }
  {
    nlohmann::json j = good;
    j["tree_size"] = 11;
    expect_rejected(j, "tree size");
  }
  for (size_t i = 0; i < good["proof"].size(); ++i) {
    nlohmann::json j = good;
    std::string h = j["proof"][i];
    h[0] = h[0] == 'A' ? 'B' : 'A';
    j["proof"][i] = h;
    expect_rejected(j, "flipped hash");
    nlohmann::json k = good;
    k["proof"].erase(i);
    expect_rejected(k, "removed hash");
  }
  {
    nlohmann::json j = good;
    j["proof"].push_back(good["proof"][0]);
    expect_rejected(j, "added hash");
  }
  // A changed checkpoint, and another key.
  std::string c = Slurp(checkpoint);
  c[c.find("\n12\n") + 2] = '3';
  Spit(bad, c);
  EXPECT_EQ(Verify(key_, bad, entry, proof), 1);
  const SignerKey other =
      *GenerateSignerKey(ParseVerifierKey(Slurp(key_).substr(0, Slurp(key_).size() - 1))->name);
  Spit(bad, FormatVerifierKey(other.verifier));
  EXPECT_EQ(Verify(bad, checkpoint, entry, proof), 1);
}

TEST_F(AuditTool, ChecksConsistencyBetweenTwoPublishedCheckpoints) {
  const fs::path proof = dir_ / "consistency.json";
  ASSERT_EQ(Custos({"audit", "consistency", "--data-dir", dir_.string(), "--from", "5"}, proof), 0);
  const fs::path old_cp = dir_ / "audit" / "checkpoints" / "00000000000000000005";
  const fs::path new_cp = dir_ / "audit" / "checkpoints" / "00000000000000000012";
  auto check = [&](const fs::path& a, const fs::path& b, const fs::path& p) {
    return Spawn({tool_.string(), "-key", key_.string(), "-old", a.string(), "-new", b.string(),
                  "-consistency", p.string()});
  };
  EXPECT_EQ(check(old_cp, new_cp, proof), 0);
  EXPECT_EQ(check(new_cp, old_cp, proof), 1);
  nlohmann::json j = nlohmann::json::parse(Slurp(proof));
  std::string h = j["proof"][0];
  h[1] = h[1] == 'A' ? 'B' : 'A';
  j["proof"][0] = h;
  const fs::path bad = dir_ / "bad.json";
  Spit(bad, j.dump());
  EXPECT_EQ(check(old_cp, new_cp, bad), 1);
}

}  // namespace
}  // namespace custos::audit
