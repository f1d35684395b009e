#include "retention/receipt_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace custos::retention {
namespace {

using nlohmann::json;

// Closes a file descriptor on every return path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "writing receipt", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

const char* DataKindName(DataKind kind) {
  switch (kind) {
    case DataKind::kVideo:
      return "video";
    case DataKind::kEvents:
      return "events";
    case DataKind::kSnapshots:
      return "snapshots";
  }
  return "video";
}

absl::Status ErrnoStatus(int error, std::string_view what, std::string_view path) {
  const std::string message =
      absl::StrCat(std::string(what), " (", std::string(path), "): ", std::strerror(error));
  switch (error) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::ResourceExhaustedError(
          absl::StrCat(message, "; free space on the data file system"));
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(
          absl::StrCat(message, "; the server needs write access to the data directory"));
    case ENOENT:
      return absl::NotFoundError(message);
    default:
      return absl::UnavailableError(absl::StrCat(message, "; retried at the next run"));
  }
}

std::string ReceiptToJson(const DeletionReceipt& r) {
  const json j = {{"id", r.id},
                  {"time_ms", r.time_ms},
                  {"rule", r.rule},
                  {"kind", DataKindName(r.kind)},
                  {"camera", r.camera},
                  {"count", r.count},
                  {"bytes", r.bytes},
                  {"oldest_ms", r.oldest_ms},
                  {"newest_ms", r.newest_ms},
                  {"items", r.items},
                  {"files", r.files}};
  return j.dump();
}

absl::StatusOr<DeletionReceipt> ReceiptFromJson(std::string_view line) {
  // nlohmann-json throws on type mismatches; nothing escapes this function.
  try {
    const json j = json::parse(line);
    DeletionReceipt r;
    r.id = j.at("id").get<std::string>();
    r.time_ms = j.at("time_ms").get<int64_t>();
    r.rule = j.at("rule").get<std::string>();
    const std::string kind = j.at("kind").get<std::string>();
    if (kind == "video") {
      r.kind = DataKind::kVideo;
    } else if (kind == "events") {
      r.kind = DataKind::kEvents;
    } else if (kind == "snapshots") {
      r.kind = DataKind::kSnapshots;
    } else {
      return absl::DataLossError(absl::StrCat("receipt ", r.id, " has unknown kind '", kind, "'"));
    }
    r.camera = j.at("camera").get<std::string>();
    r.count = j.at("count").get<int64_t>();
    r.bytes = j.at("bytes").get<int64_t>();
    r.oldest_ms = j.at("oldest_ms").get<int64_t>();
    r.newest_ms = j.at("newest_ms").get<int64_t>();
    r.items = j.at("items").get<std::vector<std::string>>();
    r.files = j.value("files", std::vector<std::string>{});
    return r;
  } catch (const json::exception& e) {
    return absl::DataLossError(absl::StrCat("not a deletion receipt: ", e.what()));
  }
}

absl::Status ReceiptLog::Append(const DeletionReceipt& receipt) {
  Fd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (fd.get() < 0) return ErrnoStatus(errno, "opening the receipt log", path_);
  std::string line = ReceiptToJson(receipt);
  line += '\n';
  // A crash in the middle of an earlier append may have left a torn line without its
  // newline: start on a fresh line so that this receipt stays readable.
  struct stat info {};
  if (::fstat(fd.get(), &info) == 0 && info.st_size > 0) {
    Fd reader(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    char last = '\n';
    if (reader.get() >= 0 && ::pread(reader.get(), &last, 1, info.st_size - 1) == 1 &&
        last != '\n') {
      line.insert(line.begin(), '\n');
    }
  }
  // One write() of an O_APPEND file: readers see whole lines or a torn last line.
  if (absl::Status status = WriteAll(fd.get(), line, path_); !status.ok()) return status;
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "syncing the receipt log", path_);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DeletionReceipt>> ReceiptLog::ReadAll() const {
  std::vector<DeletionReceipt> receipts;
  std::ifstream in(path_);
  if (!in) {
    if (::access(path_.c_str(), F_OK) != 0) return receipts;
    return ErrnoStatus(errno == 0 ? EACCES : errno, "reading the receipt log", path_);
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    absl::StatusOr<DeletionReceipt> receipt = ReceiptFromJson(line);
    if (receipt.ok()) receipts.push_back(*std::move(receipt));  // Torn lines are skipped.
  }
  if (in.bad()) return ErrnoStatus(EIO, "reading the receipt log", path_);
  return receipts;
}

absl::StatusOr<bool> ReceiptLog::Contains(const std::string& id) const {
  absl::StatusOr<std::vector<DeletionReceipt>> receipts = ReadAll();
  if (!receipts.ok()) return receipts.status();
  for (const DeletionReceipt& r : *receipts) {
    if (r.id == id) return true;
  }
  return false;
}

}  // namespace custos::retention
