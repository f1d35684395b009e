// Audit log costs: a durable append (one fdatasync each) on the disk of $CUSTOS_BENCH_DIR
// (default: the current folder), and inclusion / consistency proofs at 10k and 1M entries,
// which read O(log n) stored hashes (counter "hash_reads"). The 1M-entry log is filled on
// /dev/shm when it exists, where fdatasync costs nothing, so the set-up takes seconds.
//
//   build-audit/src/audit/audit_log_benchmark --benchmark_filter=Prove
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>

#include "audit/audit_log.h"
#include "benchmark/benchmark.h"
#include "core/testing.h"

namespace custos::audit {
namespace {

namespace fs = std::filesystem;

AuditEntry Sample(uint64_t i) {
  AuditEntry e;
  e.time_ms = 1'700'000'000'000 + static_cast<int64_t>(i);
  e.actor = "investigator" + std::to_string(i % 17);
  e.role = "investigator";
  e.action = "plate_query";
  e.object = "plate:AB-" + std::to_string(i);
  e.legal_basis = "case 2024/" + std::to_string(i % 1000);
  e.purpose = "theft investigation";
  e.result = "ok";
  e.client = "10.0.0.1";
  return e;
}

AuditLogOptions Opts(const fs::path& dir) {
  AuditLogOptions o;
  o.data_dir = dir.string();
  return o;
}

fs::path FreshDir(const fs::path& parent, const std::string& name) {
  fs::path dir = parent / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void BM_AppendDurable(benchmark::State& state) {
  const char* env = std::getenv("CUSTOS_BENCH_DIR");
  const fs::path dir = FreshDir(env != nullptr ? fs::path(env) : fs::current_path(), "audit-bench");
  auto log = *AuditLog::Open(Opts(dir));
  uint64_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<uint64_t> index = log->Append(Sample(i++));
    if (!index.ok()) state.SkipWithError(std::string(index.status().message()).c_str());
  }
  state.SetItemsProcessed(state.iterations());
  log.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_AppendDurable)->Iterations(10'000)->Unit(benchmark::kMicrosecond);

// One log per size, filled once and kept for the process.
AuditLog& LogOfSize(uint64_t n) {
  static auto* logs = new std::map<uint64_t, std::unique_ptr<AuditLog>>();
  auto& log = (*logs)[n];
  if (!log) {
    const fs::path parent =
        fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    const fs::path dir = FreshDir(parent, "audit-bench-" + std::to_string(n));
    log = *AuditLog::Open(Opts(dir));
    for (uint64_t i = 0; i < n; ++i) (void)log->Append(Sample(i));
    (void)log->Checkpoint();
  }
  return *log;
}

void BM_ProveInclusion(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  AuditLog& log = LogOfSize(n);
  uint64_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<InclusionProof> p = log.ProveInclusion((i * 7919) % n, 0);
    if (!p.ok()) state.SkipWithError(std::string(p.status().message()).c_str());
    benchmark::DoNotOptimize(p);
    ++i;
  }
  state.counters["proof_hashes"] = static_cast<double>(log.ProveInclusion(n / 3, 0)->hashes.size());
}
BENCHMARK(BM_ProveInclusion)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

void BM_ProveConsistency(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  AuditLog& log = LogOfSize(n);
  (void)log.ProveConsistency(n, 0);  // Warm.
  for (auto _ : state) {
    absl::StatusOr<ConsistencyProof> p = log.ProveConsistency(n, 0);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_ProveConsistency)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

// The same proofs over an in-memory tree, to show the file-backed proof reads only a few
// hashes: the ratio of the two is the cost of reading O(log n) hashes from the page cache.
void BM_ProveInclusionInMemory(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  static auto* trees = new std::map<uint64_t, std::unique_ptr<MemoryTree>>();
  auto& tree = (*trees)[n];
  if (!tree) {
    tree = std::make_unique<MemoryTree>();
    for (uint64_t i = 0; i < n; ++i) tree->AppendData(std::to_string(i));
  }
  uint64_t i = 0;
  int64_t reads = 0;
  for (auto _ : state) {
    ProofBuilder builder(*tree);
    benchmark::DoNotOptimize(builder.Inclusion((i++ * 7919) % n, n));
    reads = builder.reads();
  }
  state.counters["hash_reads"] = static_cast<double>(reads);
}
BENCHMARK(BM_ProveInclusionInMemory)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace custos::audit
