#include "retention/retention_enforcer.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace custos::retention {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMinAgeMs = kHourMs;
constexpr int64_t kMaxAgeMs = 3653 * kDayMs;  // Ten years.
constexpr int kMaxBatch = 10'000;
// Quota and free-space rounds per run: each deletes up to max_batch segments.
constexpr int kMaxRounds = 1000;

class RealEnv final : public RetentionEnv {};

absl::Status CheckAge(const std::string& name, int64_t value_ms) {
  if (value_ms < kMinAgeMs || value_ms > kMaxAgeMs) {
    return absl::InvalidArgumentError(absl::StrCat("retention ", name, " is ", value_ms,
                                                   " ms; it must be between 1 hour (", kMinAgeMs,
                                                   ") and 10 years (", kMaxAgeMs, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckPolicy(const RetentionPolicy& policy, const std::string& where) {
  CUSTOS_RETURN_IF_ERROR(
      CheckAge(absl::StrCat(where, "video_max_age_ms"), policy.video_max_age_ms));
  CUSTOS_RETURN_IF_ERROR(
      CheckAge(absl::StrCat(where, "events_max_age_ms"), policy.events_max_age_ms));
  if (policy.snapshots_max_age_ms) {
    CUSTOS_RETURN_IF_ERROR(
        CheckAge(absl::StrCat(where, "snapshots_max_age_ms"), *policy.snapshots_max_age_ms));
    if (*policy.snapshots_max_age_ms > policy.events_max_age_ms) {
      return absl::InvalidArgumentError(
          absl::StrCat("retention ", where, "snapshots_max_age_ms (", *policy.snapshots_max_age_ms,
                       ") is longer than events_max_age_ms (", policy.events_max_age_ms,
                       "); a snapshot is deleted with its event, so shorten it or leave it unset"));
    }
  }
  return absl::OkStatus();
}

// "max_age_h=72", or "max_age_ms=..." when not whole hours.
std::string AgeRule(int64_t max_age_ms) {
  if (max_age_ms % kHourMs == 0) return absl::StrCat("max_age_h=", max_age_ms / kHourMs);
  return absl::StrCat("max_age_ms=", max_age_ms);
}

int64_t FileBytes(const std::string& path) {
  std::error_code error;
  const uintmax_t size = fs::file_size(path, error);
  return error ? 0 : static_cast<int64_t>(size);
}

// Writes `data` to `path` atomically and durably: temporary file, fsync, rename, fsync dir.
absl::Status WriteFileDurably(const std::string& path, const std::string& data) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoStatus(errno, "creating a pending deletion", temp);
  std::string_view rest = data;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return ErrnoStatus(error, "writing a pending deletion", temp);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    return ErrnoStatus(error, "syncing a pending deletion", temp);
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(errno, "committing a pending deletion", path);
  }
  const std::string dir = fs::path(path).parent_path().string();
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

// A receipt for a new batch; its count and time span grow with Extend.
DeletionReceipt NewReceipt(std::string id, int64_t time_ms, std::string rule, DataKind kind,
                           std::string camera) {
  DeletionReceipt r;
  r.id = std::move(id);
  r.time_ms = time_ms;
  r.rule = std::move(rule);
  r.kind = kind;
  r.camera = std::move(camera);
  r.oldest_ms = std::numeric_limits<int64_t>::max();
  r.newest_ms = std::numeric_limits<int64_t>::min();
  return r;
}

// Counts one more item covering [from_ms, to_ms] in the receipt.
void Extend(DeletionReceipt& r, int64_t from_ms, int64_t to_ms) {
  ++r.count;
  r.oldest_ms = std::min(r.oldest_ms, from_ms);
  r.newest_ms = std::max(r.newest_ms, to_ms);
}

}  // namespace

absl::Status RetentionEnv::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "deleting an expired file", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RetentionEnv::FreeBytes(const std::string& path) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) != 0) {
    return ErrnoStatus(errno, "measuring free space", path);
  }
  return static_cast<int64_t>(info.f_bavail) * static_cast<int64_t>(info.f_frsize);
}

RetentionEnv* RetentionEnv::Default() {
  static RealEnv* const kEnv = new RealEnv();
  return kEnv;
}

absl::StatusOr<std::unique_ptr<RetentionEnforcer>> RetentionEnforcer::Create(
    const RetentionOptions& options, record::SegmentIndex* index, store::SqliteEventStore* events,
    DeletionAuditor* auditor, const Clock* clock, RetentionEnv* env) {
  if (index == nullptr || clock == nullptr) {
    return absl::InvalidArgumentError("retention needs the segment index and a clock");
  }
  if (auditor == nullptr) {
    return absl::InvalidArgumentError(
        "retention needs a deletion auditor: every deletion batch is audited before anything "
        "is deleted");
  }
  CUSTOS_RETURN_IF_ERROR(CheckPolicy(options.defaults, "default "));
  for (const auto& [camera, override_policy] : options.cameras) {
    RetentionPolicy merged = options.defaults;
    if (override_policy.video_max_age_ms)
      merged.video_max_age_ms = *override_policy.video_max_age_ms;
    if (override_policy.events_max_age_ms) {
      merged.events_max_age_ms = *override_policy.events_max_age_ms;
    }
    if (override_policy.snapshots_max_age_ms) {
      merged.snapshots_max_age_ms = override_policy.snapshots_max_age_ms;
    }
    CUSTOS_RETURN_IF_ERROR(CheckPolicy(merged, absl::StrCat("camera ", camera, ": ")));
  }
  if (options.video_quota_bytes < 0 || options.min_free_bytes < 0) {
    return absl::InvalidArgumentError(
        "retention video_quota_bytes and min_free_bytes must not be negative (0 turns them off)");
  }
  if (options.max_batch < 1 || options.max_batch > kMaxBatch) {
    return absl::InvalidArgumentError(absl::StrCat("retention max_batch is ", options.max_batch,
                                                   "; it must be between 1 and ", kMaxBatch));
  }
  std::error_code error;
  if (!fs::is_directory(options.data_dir, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data directory ", options.data_dir, " does not exist; create it or set another data_dir"));
  }
  const fs::path pending = fs::path(options.data_dir) / "retention" / "pending";
  fs::create_directories(pending, error);
  if (error) {
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", pending.string(), ": ",
                                                    error.message(),
                                                    "; check the data directory's permissions"));
  }
  return std::unique_ptr<RetentionEnforcer>(new RetentionEnforcer(
      options, index, events, auditor, clock, env == nullptr ? RetentionEnv::Default() : env));
}

RetentionEnforcer::RetentionEnforcer(const RetentionOptions& options, record::SegmentIndex* index,
                                     store::SqliteEventStore* events, DeletionAuditor* auditor,
                                     const Clock* clock, RetentionEnv* env)
    : options_(options),
      index_(index),
      events_(events),
      auditor_(auditor),
      clock_(clock),
      env_(env),
      pending_dir_((fs::path(options.data_dir) / "retention" / "pending").string()),
      receipts_path_((fs::path(options.data_dir) / "retention" / "receipts.jsonl").string()),
      log_(receipts_path_) {}

RetentionPolicy RetentionEnforcer::PolicyFor(const std::string& camera) const {
  RetentionPolicy policy = options_.defaults;
  const auto it = options_.cameras.find(camera);
  if (it == options_.cameras.end()) return policy;
  if (it->second.video_max_age_ms) policy.video_max_age_ms = *it->second.video_max_age_ms;
  if (it->second.events_max_age_ms) policy.events_max_age_ms = *it->second.events_max_age_ms;
  if (it->second.snapshots_max_age_ms)
    policy.snapshots_max_age_ms = it->second.snapshots_max_age_ms;
  return policy;
}

absl::StatusOr<RetentionSummary> RetentionEnforcer::RunOnce() {
  absl::MutexLock lock(&mu_);
  RetentionSummary summary;
  CUSTOS_RETURN_IF_ERROR(ReconcileLocked(summary));
  CUSTOS_RETURN_IF_ERROR(VideoAge(summary));
  CUSTOS_RETURN_IF_ERROR(EventsAge(summary));
  CUSTOS_RETURN_IF_ERROR(SnapshotsAge(summary));
  CUSTOS_RETURN_IF_ERROR(Quota(summary));
  CUSTOS_RETURN_IF_ERROR(MinFree(summary));
  return summary;
}

absl::StatusOr<RetentionSummary> RetentionEnforcer::Reconcile() {
  absl::MutexLock lock(&mu_);
  RetentionSummary summary;
  CUSTOS_RETURN_IF_ERROR(ReconcileLocked(summary));
  return summary;
}

absl::Status RetentionEnforcer::ReconcileLocked(RetentionSummary& summary) {
  // Committed batches (a pending file exists) are rolled forward, oldest first.
  std::vector<std::string> pending;
  std::error_code error;
  for (auto it = fs::directory_iterator(pending_dir_, error);
       !error && it != fs::directory_iterator(); it.increment(error)) {
    if (it->path().extension() == ".json") pending.push_back(it->path().string());
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot list pending deletions in ", pending_dir_, ": ", error.message()));
  }
  std::sort(pending.begin(), pending.end());
  for (const std::string& path : pending) {
    CUSTOS_ASSIGN_OR_RETURN(const Batch batch, ReadPending(path));
    spdlog::info("retention: finishing deletion batch {} ({}) left by a crash or an error",
                 batch.receipt.id, batch.receipt.rule);
    CUSTOS_ASSIGN_OR_RETURN(const bool logged, log_.Contains(batch.receipt.id));
    if (!logged) CUSTOS_RETURN_IF_ERROR(log_.Append(batch.receipt));
    CUSTOS_RETURN_IF_ERROR(Execute(batch, summary));
    ++summary.batches_finished_after_crash;
  }
  // Marks without a pending file were never committed: nothing was promised or deleted.
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<std::string> batches, index_->PendingDeletionBatches());
  for (const std::string& batch : batches) {
    CUSTOS_ASSIGN_OR_RETURN(const int64_t rows, index_->UnmarkDeletion(batch));
    spdlog::warn("retention: batch {} was marked but never committed; {} segments unmarked", batch,
                 rows);
    ++summary.batches_rolled_back;
  }
  return absl::OkStatus();
}

absl::Status RetentionEnforcer::VideoAge(RetentionSummary& summary) {
  CUSTOS_ASSIGN_OR_RETURN(const auto bytes_per_camera, index_->BytesPerCamera());
  const int64_t now_ms = clock_->WallMs();
  for (const auto& [camera, bytes] : bytes_per_camera) {
    const int64_t max_age_ms = PolicyFor(camera).video_max_age_ms;
    const std::string rule = absl::StrCat("video-age camera=", camera, " ", AgeRule(max_age_ms));
    while (true) {
      CUSTOS_ASSIGN_OR_RETURN(const std::vector<record::Segment> expired,
                              index_->Deletable(camera, now_ms - max_age_ms, options_.max_batch));
      if (expired.empty()) break;
      CUSTOS_ASSIGN_OR_RETURN(const auto deleted, DeleteSegments(expired, rule, summary));
      if (deleted.empty() || static_cast<int>(expired.size()) < options_.max_batch) break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<record::Segment>> RetentionEnforcer::DeleteSegments(
    const std::vector<record::Segment>& segments, const std::string& rule,
    RetentionSummary& summary) {
  Batch batch;
  batch.receipt.id = NewUlid(clock_->WallMs());
  std::vector<int64_t> ids;
  ids.reserve(segments.size());
  for (const record::Segment& s : segments) ids.push_back(s.id);
  // (1) Claim the rows: from here on no hold can be set on them.
  CUSTOS_ASSIGN_OR_RETURN(std::vector<record::Segment> marked,
                          index_->MarkForDeletion(ids, batch.receipt.id));
  if (marked.empty()) return marked;
  DeletionReceipt& r = batch.receipt;
  r = NewReceipt(r.id, clock_->WallMs(), rule, DataKind::kVideo, marked.front().camera);
  for (const record::Segment& s : marked) {
    Extend(r, s.start_ms, s.end_ms);
    r.bytes += s.bytes;
    r.items.push_back(s.path);
    batch.paths.push_back((fs::path(options_.data_dir) / s.path).string());
  }
  CUSTOS_RETURN_IF_ERROR(Commit(batch, summary));
  return marked;
}

absl::Status RetentionEnforcer::EventsAge(RetentionSummary& summary) {
  if (events_ == nullptr) return absl::OkStatus();
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<std::string> cameras, events_->Cameras());
  const int64_t now_ms = clock_->WallMs();
  for (const std::string& camera : cameras) {
    const int64_t max_age_ms = PolicyFor(camera).events_max_age_ms;
    const std::string rule = absl::StrCat("events-age camera=", camera, " ", AgeRule(max_age_ms));
    while (true) {
      EventQuery query;
      query.camera = camera;
      query.from_ms = std::numeric_limits<int64_t>::min();
      query.to_ms = now_ms - max_age_ms;
      query.limit = std::min(options_.max_batch, EventQuery::kMaxLimit);
      CUSTOS_ASSIGN_OR_RETURN(const std::vector<Event> expired, events_->Query(query));
      if (expired.empty()) break;
      Batch batch;
      DeletionReceipt& r = batch.receipt;
      r = NewReceipt(NewUlid(now_ms), now_ms, rule, DataKind::kEvents, camera);
      for (const Event& e : expired) {
        Extend(r, e.time_ms, e.time_ms);
        batch.event_ids.push_back(e.id);
        if (e.snapshot.empty()) continue;
        const std::string path = SnapshotPath(e.snapshot);
        if (path.empty()) {
          spdlog::warn("retention: event {} references snapshot {} outside {}; not deleting it",
                       e.id, e.snapshot, options_.snapshot_dir);
          continue;
        }
        r.files.push_back(e.snapshot);
        r.bytes += FileBytes(path);
        batch.paths.push_back(path);
      }
      r.items.push_back(absl::StrCat(expired.front().id, "..", expired.back().id));
      CUSTOS_RETURN_IF_ERROR(Commit(batch, summary));
      if (static_cast<int>(expired.size()) < query.limit) break;
    }
  }
  return absl::OkStatus();
}

absl::Status RetentionEnforcer::SnapshotsAge(RetentionSummary& summary) {
  if (events_ == nullptr) return absl::OkStatus();
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<std::string> cameras, events_->Cameras());
  const int64_t now_ms = clock_->WallMs();
  for (const std::string& camera : cameras) {
    const RetentionPolicy policy = PolicyFor(camera);
    if (!policy.snapshots_max_age_ms || *policy.snapshots_max_age_ms >= policy.events_max_age_ms) {
      continue;  // Deleted with their events.
    }
    const int64_t max_age_ms = *policy.snapshots_max_age_ms;
    const std::string rule =
        absl::StrCat("snapshots-age camera=", camera, " ", AgeRule(max_age_ms));
    const int limit = std::min(options_.max_batch, EventQuery::kMaxLimit);
    while (true) {
      CUSTOS_ASSIGN_OR_RETURN(const std::vector<Event> expired,
                              events_->WithSnapshotsBefore(camera, now_ms - max_age_ms, limit));
      if (expired.empty()) break;
      Batch batch;
      DeletionReceipt& r = batch.receipt;
      r = NewReceipt(NewUlid(now_ms), now_ms, rule, DataKind::kSnapshots, camera);
      for (const Event& e : expired) {
        Extend(r, e.time_ms, e.time_ms);
        r.items.push_back(e.snapshot);
        batch.event_ids.push_back(e.id);
        const std::string path = SnapshotPath(e.snapshot);
        if (path.empty()) continue;  // Outside the snapshot dir: only the reference goes.
        r.bytes += FileBytes(path);
        batch.paths.push_back(path);
      }
      CUSTOS_RETURN_IF_ERROR(Commit(batch, summary));
      if (static_cast<int>(expired.size()) < limit) break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RetentionEnforcer::DeleteOldest(int64_t need_bytes, const std::string& rule,
                                                        RetentionSummary& summary) {
  CUSTOS_ASSIGN_OR_RETURN(
      const std::vector<record::Segment> oldest,
      index_->Deletable("", std::numeric_limits<int64_t>::max(), options_.max_batch));
  // Oldest first across cameras; each camera's share of the round is one batch.
  std::vector<record::Segment> chosen;
  int64_t chosen_bytes = 0;
  for (const record::Segment& s : oldest) {
    if (chosen_bytes >= need_bytes) break;
    chosen.push_back(s);
    chosen_bytes += s.bytes;
  }
  std::map<std::string, std::vector<record::Segment>> by_camera;
  for (const record::Segment& s : chosen) by_camera[s.camera].push_back(s);
  int64_t freed = 0;
  for (const auto& [camera, segments] : by_camera) {
    CUSTOS_ASSIGN_OR_RETURN(const auto deleted, DeleteSegments(segments, rule, summary));
    for (const record::Segment& s : deleted) freed += s.bytes;
  }
  return freed;
}

absl::Status RetentionEnforcer::Quota(RetentionSummary& summary) {
  if (options_.video_quota_bytes == 0) return absl::OkStatus();
  for (int round = 0; round < kMaxRounds; ++round) {
    CUSTOS_ASSIGN_OR_RETURN(const int64_t used, index_->TotalBytes());
    if (used <= options_.video_quota_bytes) return absl::OkStatus();
    const std::string rule =
        absl::StrCat("quota quota_bytes=", options_.video_quota_bytes, " used_bytes=", used);
    CUSTOS_ASSIGN_OR_RETURN(const int64_t freed,
                            DeleteOldest(used - options_.video_quota_bytes, rule, summary));
    if (freed == 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "recordings use ", used, " bytes, over the quota of ", options_.video_quota_bytes,
          " bytes, and every remaining segment is on evidence hold or still being written; "
          "raise video_quota_bytes, add storage, or release holds that are no longer needed"));
    }
  }
  return absl::OkStatus();
}

absl::Status RetentionEnforcer::MinFree(RetentionSummary& summary) {
  if (options_.min_free_bytes == 0) return absl::OkStatus();
  for (int round = 0; round < kMaxRounds; ++round) {
    CUSTOS_ASSIGN_OR_RETURN(const int64_t free_bytes, env_->FreeBytes(options_.data_dir));
    if (free_bytes >= options_.min_free_bytes) return absl::OkStatus();
    const std::string rule = absl::StrCat("min-free min_free_bytes=", options_.min_free_bytes,
                                          " free_bytes=", free_bytes);
    CUSTOS_ASSIGN_OR_RETURN(const int64_t freed,
                            DeleteOldest(options_.min_free_bytes - free_bytes, rule, summary));
    if (freed == 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the data file system under ", options_.data_dir, " has ", free_bytes,
          " bytes free, below min_free_bytes ", options_.min_free_bytes,
          ", and no recording is left that retention may delete (the rest is on evidence "
          "hold or still being written); free space by other means, add storage, or release "
          "holds that are no longer needed"));
    }
  }
  return absl::OkStatus();
}

absl::Status RetentionEnforcer::Commit(Batch& batch, RetentionSummary& summary) {
  const std::string& id = batch.receipt.id;
  // (2) The pending file: from here the batch is rolled forward after a crash.
  if (absl::Status status = WritePending(batch); !status.ok()) {
    if (batch.receipt.kind == DataKind::kVideo) index_->UnmarkDeletion(id).IgnoreError();
    return status;
  }
  // (3) The local receipt. (4) happens in Execute(), which Reconcile() repeats until done.
  if (absl::Status status = log_.Append(batch.receipt); !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat(status.message(), "; deletion batch ", id,
                                     " is pending: nothing was deleted, retried at the next run"));
  }
  return Execute(batch, summary);
}

absl::Status RetentionEnforcer::Execute(const Batch& batch, RetentionSummary& summary) {
  const DeletionReceipt& r = batch.receipt;
  // (4) Fail-closed: nothing is deleted before the auditor has the receipt.
  if (absl::Status status = auditor_->Record(r); !status.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the deletion auditor refused receipt ", r.id, " (", r.rule, "): ", status.message(),
        "; nothing of this batch was deleted, it is retried at the next run"));
  }
  // (5) Files; one that is already gone counts as deleted.
  for (const std::string& path : batch.paths) CUSTOS_RETURN_IF_ERROR(env_->RemoveFile(path));
  // (6) Rows.
  switch (r.kind) {
    case DataKind::kVideo: {
      CUSTOS_ASSIGN_OR_RETURN(const int64_t rows, index_->RemoveDeleted(r.id));
      (void)rows;
      summary.segments_deleted += r.count;
      summary.segment_bytes_deleted += r.bytes;
      break;
    }
    case DataKind::kEvents: {
      if (events_ == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("pending deletion batch ", r.id,
                         " is about events but retention runs without an event store"));
      }
      CUSTOS_ASSIGN_OR_RETURN(const int64_t rows, events_->Delete(batch.event_ids));
      (void)rows;
      summary.events_deleted += r.count;
      summary.snapshots_deleted += static_cast<int64_t>(r.files.size());
      summary.snapshot_bytes_deleted += r.bytes;
      break;
    }
    case DataKind::kSnapshots: {
      if (events_ == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("pending deletion batch ", r.id,
                         " is about snapshots but retention runs without an event store"));
      }
      CUSTOS_ASSIGN_OR_RETURN(const int64_t rows, events_->ClearSnapshots(batch.event_ids));
      (void)rows;
      summary.snapshots_deleted += r.count;
      summary.snapshot_bytes_deleted += r.bytes;
      break;
    }
  }
  // (7) Done.
  CUSTOS_RETURN_IF_ERROR(env_->RemoveFile(PendingPath(r.id)));
  summary.receipts.push_back(r);
  spdlog::info("retention: {} deleted {} {} ({} bytes) of camera {}, receipt {}", r.rule, r.count,
               DataKindName(r.kind), r.bytes, r.camera, r.id);
  return absl::OkStatus();
}

std::string RetentionEnforcer::SnapshotPath(const std::string& relative) const {
  const fs::path root = (options_.snapshot_dir.empty() ? fs::path(options_.data_dir) / "snapshots"
                                                       : fs::path(options_.snapshot_dir))
                            .lexically_normal();
  const fs::path rel(relative);
  if (relative.empty() || rel.is_absolute()) return "";
  const fs::path full = (root / rel).lexically_normal();
  const fs::path inside = full.lexically_relative(root);
  if (inside.empty() || *inside.begin() == "..") return "";
  return full.string();
}

std::string RetentionEnforcer::PendingPath(const std::string& id) const {
  return (fs::path(pending_dir_) / (id + ".json")).string();
}

absl::Status RetentionEnforcer::WritePending(const Batch& batch) const {
  const json j = {{"receipt", json::parse(ReceiptToJson(batch.receipt))},
                  {"event_ids", batch.event_ids},
                  {"paths", batch.paths}};
  return WriteFileDurably(PendingPath(batch.receipt.id), j.dump());
}

absl::StatusOr<RetentionEnforcer::Batch> RetentionEnforcer::ReadPending(
    const std::string& path) const {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    const json j = json::parse(text);
    Batch batch;
    CUSTOS_ASSIGN_OR_RETURN(batch.receipt, ReceiptFromJson(j.at("receipt").dump()));
    batch.event_ids = j.at("event_ids").get<std::vector<std::string>>();
    batch.paths = j.at("paths").get<std::vector<std::string>>();
    return batch;
  } catch (const json::exception& e) {
    return absl::DataLossError(absl::StrCat(
        "pending deletion ", path, " is unreadable (", e.what(),
        "); it was written atomically, so something else changed it. Check the receipts in ",
        receipts_path_, " and move the file away to continue"));
  }
}

}  // namespace custos::retention
