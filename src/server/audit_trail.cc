#include "server/audit_trail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "auth/role.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace custos::server {

absl::StatusOr<std::unique_ptr<AuditTrail>> AuditTrail::Open(const std::string& data_dir) {
  const std::string dir = data_dir + "/audit";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return retention::ErrnoStatus(errno, "creating the audit folder", dir);
  }
  const std::string path = dir + "/access.jsonl";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return retention::ErrnoStatus(errno, "opening the access log", path);
  return std::unique_ptr<AuditTrail>(new AuditTrail(path, fd));
}

AuditTrail::~AuditTrail() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) ::close(fd_);
}

absl::Status AuditTrail::AppendLine(const std::string& line) {
  absl::MutexLock lock(&mu_);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ++failed_writes_;
      return retention::ErrnoStatus(errno, "writing the access log", path_);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) {
    ++failed_writes_;
    return retention::ErrnoStatus(errno, "syncing the access log", path_);
  }
  return absl::OkStatus();
}

void AuditTrail::Record(const auth::AccessRecord& record) {
  const nlohmann::json line = {{"time_ms", record.time_ms},
                               {"actor", record.actor},
                               {"role", auth::RoleName(record.role)},
                               {"action", auth::AccessActionName(record.action)},
                               {"object", record.object},
                               {"result", auth::AccessResultName(record.result)},
                               {"client", record.client}};
  absl::Status written =
      AppendLine(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (!written.ok()) spdlog::error("access record lost: {}", std::string(written.message()));
}

absl::Status AuditTrail::Record(const retention::DeletionReceipt& receipt) {
  const nlohmann::json line = {{"time_ms", receipt.time_ms}, {"actor", "retention"},
                               {"role", "system"},           {"action", "retention_delete"},
                               {"object", receipt.id},       {"rule", receipt.rule},
                               {"camera", receipt.camera},   {"count", receipt.count},
                               {"bytes", receipt.bytes},     {"result", "ok"}};
  return AppendLine(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

int64_t AuditTrail::failed_writes() const {
  absl::MutexLock lock(&mu_);
  return failed_writes_;
}

}  // namespace custos::server
