#include "audit/audit_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "auth/role.h"
#include "spdlog/spdlog.h"

namespace custos::audit {
namespace {

// Record: "CAE1" | u32 LE payload length | u32 LE ~length | payload | SHA-256(0x00||payload).
constexpr char kMagic[4] = {'C', 'A', 'E', '1'};
constexpr size_t kHeaderBytes = 12;
constexpr size_t kTrailerBytes = 32;
constexpr size_t kReadChunk = 1 << 20;
constexpr uint64_t kMaxRead = 1000;

struct Paths {
  explicit Paths(const std::string& audit_dir)
      : dir(audit_dir),
        entries(dir + "/entries.log"),
        idx(dir + "/entries.idx"),
        tree(dir + "/tree.hashes"),
        checkpoints(dir + "/checkpoints"),
        verifier_key(dir + "/verifier.key"),
        key_dir(dir + "/key"),
        signing_key(key_dir + "/signing.key"),
        lock(dir + "/LOCK") {}
  std::string dir, entries, idx, tree, checkpoints, verifier_key, key_dir, signing_key, lock;
};

absl::Status Errno(int error, std::string_view what, std::string_view path) {
  return retention::ErrnoStatus(error, what, path);
}

// Closes a file descriptor when it goes out of scope unless released.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

uint32_t Le32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t Le64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
void PutLe32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutLe64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string_view HashBytes(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

std::string EncodeRecord(std::string_view payload, const Hash& leaf) {
  std::string out;
  out.reserve(kHeaderBytes + payload.size() + kTrailerBytes);
  out.append(kMagic, 4);
  const auto len = static_cast<uint32_t>(payload.size());
  PutLe32(&out, len);
  PutLe32(&out, ~len);
  out.append(payload);
  out.append(HashBytes(leaf));
  return out;
}

absl::Status PwriteAll(int fd, std::string_view data, uint64_t offset, std::string_view path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, "writing", path);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Reads up to n bytes at offset; fewer only at the end of the file.
absl::StatusOr<std::string> PreadUpTo(int fd, uint64_t offset, size_t n, std::string_view path) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, "reading", path);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  out.resize(done);
  return out;
}

absl::StatusOr<uint64_t> FileSize(int fd, std::string_view path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Errno(errno, "inspecting", path);
  return static_cast<uint64_t>(st.st_size);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return Errno(errno, "opening", path);
  absl::StatusOr<uint64_t> size = FileSize(fd.get(), path);
  if (!size.ok()) return size.status();
  return PreadUpTo(fd.get(), 0, *size, path);
}

absl::Status FsyncPath(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Errno(errno, "opening", path);
  if (::fsync(fd.get()) != 0) return Errno(errno, "syncing", path);
  return absl::OkStatus();
}

// Writes `content` to dir/name through a temporary file: write, fsync, rename, fsync dir.
absl::Status WriteFileAtomic(const std::string& dir, const std::string& name,
                             std::string_view content, mode_t mode) {
  const std::string tmp = absl::StrCat(dir, "/.", name, ".tmp");
  const std::string path = absl::StrCat(dir, "/", name);
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
    if (fd.get() < 0) return Errno(errno, "creating", tmp);
    if (::fchmod(fd.get(), mode) != 0) return Errno(errno, "setting the mode of", tmp);
    if (absl::Status s = PwriteAll(fd.get(), content, 0, tmp); !s.ok()) return s;
    if (::fsync(fd.get()) != 0) return Errno(errno, "syncing", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno(errno, "renaming", tmp);
  return FsyncPath(dir);
}

// Creates `dir` with mode 0700, or narrows an existing one to 0700.
absl::Status EnsurePrivateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno(errno, "creating the folder", dir);
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) return Errno(errno, "inspecting", dir);
  if (!S_ISDIR(st.st_mode)) return absl::FailedPreconditionError(dir + " is not a folder");
  if ((st.st_mode & 0077) != 0) {
    if (::chmod(dir.c_str(), 0700) != 0) return Errno(errno, "restricting the mode of", dir);
    spdlog::warn("audit: {} was accessible to others; its mode is now 0700", dir);
  }
  return absl::OkStatus();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string CheckpointName(uint64_t size) { return absl::StrFormat("%020d", size); }

bool ParseCheckpointName(std::string_view name, uint64_t* size) {
  if (name.size() != 20) return false;
  uint64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *size = v;
  return true;
}

struct DirListing {
  std::vector<uint64_t> sizes;       // Checkpoint files, ascending.
  std::vector<std::string> temps;    // Leftover temporary files (".<name>.tmp").
  std::vector<std::string> strange;  // Anything else.
};

absl::StatusOr<DirListing> ListCheckpoints(const std::string& dir) {
  DirListing out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return Errno(errno, "listing", dir);
  }
  while (struct dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    uint64_t size = 0;
    if (ParseCheckpointName(name, &size)) {
      out.sizes.push_back(size);
    } else if (name.starts_with(".") && name.ends_with(".tmp")) {
      out.temps.emplace_back(name);
    } else {
      out.strange.emplace_back(name);
    }
  }
  ::closedir(d);
  std::sort(out.sizes.begin(), out.sizes.end());
  return out;
}

// Hashes of complete subtrees read from tree.hashes, limited to a tree of `size` leaves.
class TreeFileSource final : public SubtreeSource {
 public:
  TreeFileSource(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  absl::StatusOr<Hash> Subtree(int level, uint64_t index) const override {
    if (level < 0 || level > 62 || ((index + 1) << level) > size_) {
      return absl::OutOfRangeError(
          absl::StrCat("subtree ", level, "/", index, " is not in a tree of size ", size_));
    }
    const uint64_t offset = StoredHashIndex(level, index) * 32;
    absl::StatusOr<std::string> bytes = PreadUpTo(fd_, offset, 32, path_);
    if (!bytes.ok()) return bytes.status();
    if (bytes->size() != 32) {
      return absl::DataLossError(
          absl::StrCat(path_, " ends at byte ", offset + bytes->size(), "; hash missing"));
    }
    Hash h;
    std::memcpy(h.data(), bytes->data(), 32);
    return h;
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
};

// Sequential reader over a file snapshot of `size` bytes.
class SeqReader {
 public:
  SeqReader(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  uint64_t offset() const { return pos_; }
  // Fills `out` with n bytes; false at the end of the snapshot (short).
  absl::StatusOr<bool> Read(size_t n, std::string* out) {
    if (pos_ + n > size_) return false;
    if (pos_ < buf_off_ || pos_ + n > buf_off_ + buf_.size()) {
      absl::StatusOr<std::string> chunk =
          PreadUpTo(fd_, pos_, std::max<size_t>(n, kReadChunk), path_);
      if (!chunk.ok()) return chunk.status();
      buf_ = *std::move(chunk);
      buf_off_ = pos_;
      if (buf_.size() < n) return false;
    }
    out->assign(buf_, static_cast<size_t>(pos_ - buf_off_), n);
    pos_ += n;
    return true;
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
  uint64_t pos_ = 0;
  std::string buf_;
  uint64_t buf_off_ = 0;
};

// Walks the records of entries.log from `start` to `size` (a snapshot of the file size).
class RecordScanner {
 public:
  enum class Result { kRecord, kEnd, kTorn, kCorrupt };

  RecordScanner(int fd, uint64_t start, uint64_t size, std::string path)
      : fd_(fd), pos_(start), size_(size), path_(std::move(path)) {}

  // The start of the record Next() looks at.
  uint64_t offset() const { return pos_; }

  // kRecord: payload and leaf set, offset() advanced. kTorn: the rest of the file is an
  // incomplete record (a crash while appending). kCorrupt: `problem` says what.
  absl::StatusOr<Result> Next(std::string* payload, Hash* leaf, std::string* problem) {
    if (pos_ >= size_) return Result::kEnd;
    const uint64_t rem = size_ - pos_;
    if (rem < kHeaderBytes) {
      absl::StatusOr<std::string_view> b = Get(static_cast<size_t>(rem));
      if (!b.ok()) return b.status();
      const size_t m = std::min<size_t>(b->size(), 4);
      if (b->substr(0, m) == std::string_view(kMagic, m) || AllZero(*b)) return Result::kTorn;
      *problem = "bad record marker";
      return Result::kCorrupt;
    }
    absl::StatusOr<std::string_view> head = Get(kHeaderBytes);
    if (!head.ok()) return head.status();
    if (std::memcmp(head->data(), kMagic, 4) != 0) {
      absl::StatusOr<bool> zero = RestIsZero();
      if (!zero.ok()) return zero.status();
      if (*zero) return Result::kTorn;
      *problem = "bad record marker";
      return Result::kCorrupt;
    }
    const uint32_t len = Le32(head->data() + 4);
    if (Le32(head->data() + 8) != ~len) {
      *problem = "the record's length field is damaged";
      return Result::kCorrupt;
    }
    if (len > kMaxEntryBytes) {
      *problem = absl::StrCat("record length ", len, " is over the limit");
      return Result::kCorrupt;
    }
    const uint64_t total = kHeaderBytes + len + kTrailerBytes;
    if (total > rem) return Result::kTorn;
    absl::StatusOr<std::string_view> rec = Get(static_cast<size_t>(total));
    if (!rec.ok()) return rec.status();
    const std::string_view body = rec->substr(kHeaderBytes, len);
    const std::string_view stored = rec->substr(kHeaderBytes + len, kTrailerBytes);
    const Hash h = LeafHash(body);
    if (stored != HashBytes(h)) {
      if (total == rem && AllZero(stored)) return Result::kTorn;  // Zero-filled by a crash.
      *problem = "the record's bytes do not match its hash";
      return Result::kCorrupt;
    }
    payload->assign(body);
    *leaf = h;
    pos_ += total;
    return Result::kRecord;
  }

 private:
  static bool AllZero(std::string_view b) {
    return std::all_of(b.begin(), b.end(), [](char c) { return c == 0; });
  }

  // n bytes at pos_ (REQUIRES: pos_ + n <= size_).
  absl::StatusOr<std::string_view> Get(size_t n) {
    if (pos_ < buf_off_ || pos_ + n > buf_off_ + buf_.size()) {
      absl::StatusOr<std::string> chunk =
          PreadUpTo(fd_, pos_, std::max<size_t>(n, kReadChunk), path_);
      if (!chunk.ok()) return chunk.status();
      buf_ = *std::move(chunk);
      buf_off_ = pos_;
      if (buf_.size() < n) {
        return absl::DataLossError(absl::StrCat(path_, " shrank while it was read"));
      }
    }
    return std::string_view(buf_).substr(static_cast<size_t>(pos_ - buf_off_), n);
  }

  absl::StatusOr<bool> RestIsZero() {
    for (uint64_t off = pos_; off < size_; off += kReadChunk) {
      absl::StatusOr<std::string> chunk = PreadUpTo(
          fd_, off, static_cast<size_t>(std::min<uint64_t>(kReadChunk, size_ - off)), path_);
      if (!chunk.ok()) return chunk.status();
      if (!AllZero(*chunk)) return false;
    }
    return true;
  }

  int fd_;
  uint64_t pos_;
  uint64_t size_;
  std::string path_;
  std::string buf_;
  uint64_t buf_off_ = 0;
};

absl::Status CheckNoFloats(const nlohmann::json& j) {
  if (j.is_number_float()) {
    return absl::InvalidArgumentError("audit entry details must not hold floating-point numbers");
  }
  if (j.is_structured()) {
    for (const auto& v : j) {
      if (absl::Status s = CheckNoFloats(v); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::Status Problem(std::string message) { return absl::DataLossError(std::move(message)); }

}  // namespace

std::string FormatUtcMs(int64_t time_ms) {
  int64_t secs = time_ms / 1000;
  int64_t ms = time_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  const auto t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

absl::StatusOr<std::string> CanonicalJson(const AuditEntry& entry) {
  if (!entry.details.is_object()) {
    return absl::InvalidArgumentError("audit entry details must be a JSON object");
  }
  if (absl::Status s = CheckNoFloats(entry.details); !s.ok()) return s;
  // nlohmann::json keeps object keys in a std::map: sorted by bytes, as RFC 8785 for ASCII.
  nlohmann::json j = {{"v", 1},
                      {"time", FormatUtcMs(entry.time_ms)},
                      {"actor", entry.actor},
                      {"role", entry.role},
                      {"action", entry.action},
                      {"object", entry.object},
                      {"legal_basis", entry.legal_basis},
                      {"purpose", entry.purpose},
                      {"result", entry.result},
                      {"client", entry.client}};
  if (!entry.details.empty()) j["details"] = entry.details;
  return Dump(j);
}

nlohmann::json ToJson(const InclusionProof& proof) {
  nlohmann::json hashes = nlohmann::json::array();
  for (const Hash& h : proof.hashes) hashes.push_back(Base64Encode(HashBytes(h)));
  return {{"index", proof.index},
          {"tree_size", proof.tree_size},
          {"leaf_hash", Base64Encode(HashBytes(proof.leaf_hash))},
          {"proof", hashes},
          {"checkpoint", proof.checkpoint.note},
          {"entry", proof.entry}};
}

nlohmann::json ToJson(const ConsistencyProof& proof) {
  nlohmann::json hashes = nlohmann::json::array();
  for (const Hash& h : proof.hashes) hashes.push_back(Base64Encode(HashBytes(h)));
  return {{"size1", proof.size1},
          {"size2", proof.size2},
          {"proof", hashes},
          {"checkpoint1", proof.checkpoint1.note},
          {"checkpoint2", proof.checkpoint2.note}};
}

// ---------------------------------------------------------------------------------------
// Verification.

namespace {

absl::StatusOr<VerifierKey> ReadVerifierKey(const Paths& p) {
  absl::StatusOr<std::string> text = ReadFile(p.verifier_key);
  if (!text.ok()) return text.status();
  std::string_view t = *text;
  if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
  absl::StatusOr<VerifierKey> key = ParseVerifierKey(t);
  if (!key.ok()) return Problem(absl::StrCat("verifier.key: ", key.status().message()));
  if (absl::StrCat(FormatVerifierKey(*key), "\n") != *text) {
    return Problem("verifier.key: not in canonical form");
  }
  return key;
}

absl::StatusOr<SignedCheckpoint> ReadCheckpointFile(const Paths& p, uint64_t size,
                                                    const VerifierKey& key) {
  const std::string name = CheckpointName(size);
  absl::StatusOr<std::string> note = ReadFile(p.checkpoints + "/" + name);
  if (!note.ok()) return note.status();
  absl::StatusOr<SignedCheckpoint> c = OpenCheckpoint(*note, key);
  if (!c.ok()) return Problem(absl::StrCat("checkpoints/", name, ": ", c.status().message()));
  if (c->checkpoint.size != size) {
    return Problem(
        absl::StrCat("checkpoints/", name, ": it is for tree size ", c->checkpoint.size));
  }
  return c;
}

absl::Status CheckMode(const std::string& path, mode_t want, std::string_view what) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Errno(errno, "inspecting", path);
  if ((st.st_mode & 0777) != want) {
    return Problem(absl::StrFormat("%s has mode %04o; want %04o (chmod %o %s)", what,
                                   st.st_mode & 0777, want, want, path));
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifyReport> VerifyFiles(const std::string& dir, const VerifyOptions& options,
                                         bool quiescent) {
  const Paths p(dir);
  if (!Exists(p.entries)) return absl::NotFoundError(absl::StrCat("no audit log in ", dir));
  VerifyReport report;

  // A writer holds LOCK exclusively; a shared lock keeps one from starting meanwhile.
  Fd lock(quiescent ? -1 : ::open(p.lock.c_str(), O_RDONLY | O_CLOEXEC));
  if (!quiescent) {
    if (lock.get() >= 0 && ::flock(lock.get(), LOCK_SH | LOCK_NB) != 0) {
      report.live_writer = true;
      report.notes.push_back(
          "another process has the log open: an entry being appended right now is skipped");
    }
  }

  if (absl::Status s = CheckMode(p.dir, 0700, "the audit folder"); !s.ok()) return s;
  absl::StatusOr<VerifierKey> key = ReadVerifierKey(p);
  if (!key.ok()) return key.status();
  if (Exists(p.key_dir)) {
    if (absl::Status s = CheckMode(p.key_dir, 0700, "the key folder"); !s.ok()) return s;
    if (absl::Status s = CheckMode(p.signing_key, 0600, "the signing key"); !s.ok()) return s;
    absl::StatusOr<std::string> text = ReadFile(p.signing_key);
    if (!text.ok() && absl::IsPermissionDenied(text.status())) {
      report.notes.push_back("the signing key is not readable by this user: not compared");
    } else if (!text.ok()) {
      return text.status();
    } else {
      std::string_view t = *text;
      if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
      absl::StatusOr<SignerKey> signer = ParseSignerKey(t);
      if (!signer.ok())
        return Problem(absl::StrCat("key/signing.key: ", signer.status().message()));
      if (absl::StrCat(FormatSignerKey(*signer), "\n") != *text) {
        return Problem("key/signing.key: not in canonical form");
      }
      if (FormatVerifierKey(signer->verifier) != FormatVerifierKey(*key)) {
        return Problem("key/signing.key does not belong to verifier.key");
      }
    }
  } else {
    report.notes.push_back("no signing key in key/: only the public key was checked");
  }

  absl::StatusOr<DirListing> listing = ListCheckpoints(p.checkpoints);
  if (!listing.ok()) return listing.status();
  if (!listing->strange.empty()) {
    return Problem(absl::StrCat("checkpoints/", listing->strange[0], ": not a checkpoint file"));
  }
  for (const std::string& t : listing->temps) {
    report.notes.push_back(absl::StrCat("checkpoints/", t, ": an unfinished checkpoint (ignored)"));
  }
  std::map<uint64_t, SignedCheckpoint> checkpoints;
  for (uint64_t size : listing->sizes) {
    absl::StatusOr<SignedCheckpoint> c = ReadCheckpointFile(p, size, *key);
    if (!c.ok()) return c.status();
    checkpoints.emplace(size, *std::move(c));
  }

  Fd entries(::open(p.entries.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (entries.get() < 0) return Errno(errno, "opening", p.entries);
  Fd idx(::open(p.idx.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (idx.get() < 0) return Errno(errno, "opening", p.idx);
  Fd tree(::open(p.tree.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (tree.get() < 0) return Errno(errno, "opening", p.tree);
  absl::StatusOr<uint64_t> entries_size = FileSize(entries.get(), p.entries);
  if (!entries_size.ok()) return entries_size.status();
  absl::StatusOr<uint64_t> idx_size = FileSize(idx.get(), p.idx);
  if (!idx_size.ok()) return idx_size.status();
  absl::StatusOr<uint64_t> tree_size = FileSize(tree.get(), p.tree);
  if (!tree_size.ok()) return tree_size.status();

  RecordScanner scanner(entries.get(), 0, *entries_size, p.entries);
  SeqReader idx_reader(idx.get(), *idx_size, p.idx);
  SeqReader tree_reader(tree.get(), *tree_size, p.tree);
  CompactTree compact;
  std::vector<Hash> stored;
  std::string payload, buf;
  Hash leaf;
  bool derived_short = false;
  if (auto it = checkpoints.find(0);
      it != checkpoints.end() && it->second.checkpoint.root != EmptyRoot()) {
    return Problem("checkpoints/" + CheckpointName(0) + ": wrong root for the empty tree");
  }
  for (uint64_t i = 0;; ++i) {
    const uint64_t offset = scanner.offset();
    std::string problem;
    absl::StatusOr<RecordScanner::Result> r = scanner.Next(&payload, &leaf, &problem);
    if (!r.ok()) return r.status();
    if (*r == RecordScanner::Result::kEnd) break;
    if (*r == RecordScanner::Result::kTorn) {
      if (report.live_writer) break;
      return Problem(absl::StrFormat(
          "entry %d at byte offset %d: incomplete final record (%d bytes) — left by a crash "
          "while appending (opening the log truncates it) or the file was cut",
          i, offset, *entries_size - offset));
    }
    if (*r == RecordScanner::Result::kCorrupt) {
      return Problem(absl::StrFormat("entry %d at byte offset %d: %s", i, offset, problem));
    }
    const std::string where = absl::StrFormat("entry %d at byte offset %d", i, offset);
    if (!nlohmann::json::accept(payload)) return Problem(where + ": not JSON");
    // The index file: the record's end offset.
    absl::StatusOr<bool> got = idx_reader.Read(8, &buf);
    if (!got.ok()) return got.status();
    if (!*got) {
      derived_short = true;
    } else if (Le64(buf.data()) != scanner.offset()) {
      return Problem(absl::StrFormat("entries.idx at byte offset %d (entry %d): wrong offset",
                                     idx_reader.offset() - 8, i));
    }
    stored.clear();
    compact.Append(leaf, &stored);
    for (const Hash& h : stored) {
      if (derived_short) break;
      got = tree_reader.Read(32, &buf);
      if (!got.ok()) return got.status();
      if (!*got) {
        derived_short = true;
      } else if (buf != HashBytes(h)) {
        return Problem(absl::StrFormat("tree.hashes at byte offset %d (entry %d): wrong hash",
                                       tree_reader.offset() - 32, i));
      }
    }
    if (auto it = checkpoints.find(compact.size());
        it != checkpoints.end() && it->second.checkpoint.root != compact.Root()) {
      return Problem(absl::StrFormat(
          "checkpoints/%s: its root differs from the entries' (the log up to entry %d was "
          "changed after it was signed)",
          CheckpointName(compact.size()), i));
    }
  }
  const uint64_t n = compact.size();
  report.entries = n;
  if (derived_short && !report.live_writer) {
    return Problem(absl::StrFormat(
        "entries.idx / tree.hashes end before entry %d: the log was not reopened since a crash "
        "(opening it rebuilds them) or they were cut",
        n));
  }
  if (!report.live_writer && (idx_reader.offset() != *idx_size)) {
    return Problem(absl::StrFormat("entries.idx at byte offset %d: data past the last entry",
                                   idx_reader.offset()));
  }
  if (!report.live_writer && (tree_reader.offset() != *tree_size)) {
    return Problem(absl::StrFormat("tree.hashes at byte offset %d: data past the last entry",
                                   tree_reader.offset()));
  }
  if (!checkpoints.empty()) {
    const SignedCheckpoint& latest = checkpoints.rbegin()->second;
    report.checkpoints = checkpoints.size();
    report.latest_checkpoint_size = latest.checkpoint.size;
    if (latest.checkpoint.size > n) {
      return Problem(absl::StrFormat(
          "checkpoints/%s covers %d entries but the log has %d: entries were removed",
          CheckpointName(latest.checkpoint.size), latest.checkpoint.size, n));
    }
    TreeFileSource source(tree.get(), latest.checkpoint.size, p.tree);
    for (const auto& [size, c] : checkpoints) {
      ProofBuilder builder(source);
      absl::StatusOr<std::vector<Hash>> proof = builder.Consistency(size, latest.checkpoint.size);
      if (!proof.ok()) return proof.status();
      if (absl::Status s = VerifyConsistency(size, latest.checkpoint.size, *proof,
                                             c.checkpoint.root, latest.checkpoint.root);
          !s.ok()) {
        return Problem(
            absl::StrCat("checkpoints/", CheckpointName(size),
                         " is not consistent with the latest checkpoint: ", s.message()));
      }
    }
  }
  if (!options.external_checkpoint.empty()) {
    absl::StatusOr<SignedCheckpoint> ext = OpenCheckpoint(options.external_checkpoint, *key);
    if (!ext.ok()) return Problem(absl::StrCat("external checkpoint: ", ext.status().message()));
    const uint64_t size = ext->checkpoint.size;
    if (size > n) {
      return Problem(absl::StrFormat(
          "external checkpoint: it covers %d entries but the log has %d: entries were removed "
          "or the log was replaced",
          size, n));
    }
    TreeFileSource source(tree.get(), n, p.tree);
    ProofBuilder builder(source);
    absl::StatusOr<Hash> root_now = builder.Root(n);
    if (!root_now.ok()) return root_now.status();
    absl::StatusOr<std::vector<Hash>> proof = builder.Consistency(size, n);
    if (!proof.ok()) return proof.status();
    if (absl::Status s = VerifyConsistency(size, n, *proof, ext->checkpoint.root, *root_now);
        !s.ok()) {
      return Problem(absl::StrFormat(
          "external checkpoint (size %d): the log is not consistent with it — its first %d "
          "entries were changed after it was published (%s)",
          size, size, s.message()));
    }
  }
  return report;
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyAuditDir(const std::string& data_dir,
                                            const VerifyOptions& options) {
  return VerifyFiles(data_dir + "/audit", options, /*quiescent=*/false);
}

// ---------------------------------------------------------------------------------------
// Reader.

absl::StatusOr<std::unique_ptr<AuditLogReader>> AuditLogReader::Open(const std::string& data_dir) {
  const Paths p(data_dir + "/audit");
  if (!Exists(p.entries)) return absl::NotFoundError(absl::StrCat("no audit log in ", p.dir));
  auto reader = std::unique_ptr<AuditLogReader>(new AuditLogReader());
  reader->dir_ = p.dir;
  absl::StatusOr<VerifierKey> key = ReadVerifierKey(p);
  if (!key.ok()) return key.status();
  reader->key_ = *std::move(key);
  reader->entries_fd_ = ::open(p.entries.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (reader->entries_fd_ < 0) return Errno(errno, "opening", p.entries);
  reader->idx_fd_ = ::open(p.idx.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (reader->idx_fd_ < 0) return Errno(errno, "opening", p.idx);
  reader->tree_fd_ = ::open(p.tree.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (reader->tree_fd_ < 0) return Errno(errno, "opening", p.tree);
  return reader;
}

AuditLogReader::~AuditLogReader() {
  for (int fd : {entries_fd_, idx_fd_, tree_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

absl::StatusOr<std::vector<uint64_t>> AuditLogReader::CheckpointSizes() const {
  absl::StatusOr<DirListing> listing = ListCheckpoints(Paths(dir_).checkpoints);
  if (!listing.ok()) return listing.status();
  return listing->sizes;
}

absl::StatusOr<SignedCheckpoint> AuditLogReader::CheckpointAt(uint64_t size) const {
  const Paths p(dir_);
  if (!Exists(p.checkpoints + "/" + CheckpointName(size))) {
    return absl::NotFoundError(absl::StrCat("no checkpoint of tree size ", size));
  }
  return ReadCheckpointFile(p, size, key_);
}

absl::StatusOr<SignedCheckpoint> AuditLogReader::LatestCheckpoint() const {
  absl::StatusOr<std::vector<uint64_t>> sizes = CheckpointSizes();
  if (!sizes.ok()) return sizes.status();
  if (sizes->empty()) return absl::NotFoundError("the audit log has no checkpoint yet");
  return CheckpointAt(sizes->back());
}

absl::StatusOr<std::string> AuditLogReader::EntryAt(uint64_t index) const {
  const Paths p(dir_);
  uint64_t start = 0;
  if (index > 0) {
    absl::StatusOr<std::string> b = PreadUpTo(idx_fd_, (index - 1) * 8, 8, p.idx);
    if (!b.ok()) return b.status();
    if (b->size() != 8) return absl::OutOfRangeError(absl::StrCat("no entry ", index));
    start = Le64(b->data());
  }
  absl::StatusOr<std::string> b = PreadUpTo(idx_fd_, index * 8, 8, p.idx);
  if (!b.ok()) return b.status();
  if (b->size() != 8) return absl::OutOfRangeError(absl::StrCat("no entry ", index));
  const uint64_t end = Le64(b->data());
  if (end <= start || end - start > kMaxEntryBytes + kHeaderBytes + kTrailerBytes) {
    return Problem(absl::StrFormat("entries.idx: bad offsets for entry %d", index));
  }
  RecordScanner scanner(entries_fd_, start, end, p.entries);
  std::string payload, problem;
  Hash leaf;
  absl::StatusOr<RecordScanner::Result> r = scanner.Next(&payload, &leaf, &problem);
  if (!r.ok()) return r.status();
  if (*r != RecordScanner::Result::kRecord || scanner.offset() != end) {
    return Problem(absl::StrFormat("entry %d at byte offset %d: %s", index, start,
                                   problem.empty() ? "unreadable record" : problem));
  }
  return payload;
}

absl::StatusOr<InclusionProof> AuditLogReader::ProveInclusion(uint64_t index,
                                                              uint64_t tree_size) const {
  absl::StatusOr<SignedCheckpoint> c =
      tree_size == 0 ? LatestCheckpoint() : CheckpointAt(tree_size);
  if (!c.ok()) return c.status();
  const uint64_t size = c->checkpoint.size;
  if (index >= size) {
    return absl::OutOfRangeError(absl::StrFormat(
        "entry %d is not covered by the checkpoint of size %d; the next checkpoint covers it "
        "(the server signs one every minute; `custos audit checkpoint` signs one now)",
        index, size));
  }
  TreeFileSource source(tree_fd_, size, Paths(dir_).tree);
  ProofBuilder builder(source);
  absl::StatusOr<Hash> root = builder.Root(size);
  if (!root.ok()) return root.status();
  if (*root != c->checkpoint.root) {
    return Problem("tree.hashes does not match the checkpoint: run `custos audit verify`");
  }
  InclusionProof proof;
  proof.index = index;
  proof.tree_size = size;
  absl::StatusOr<std::vector<Hash>> hashes = builder.Inclusion(index, size);
  if (!hashes.ok()) return hashes.status();
  proof.hashes = *std::move(hashes);
  absl::StatusOr<Hash> leaf = source.Subtree(0, index);
  if (!leaf.ok()) return leaf.status();
  proof.leaf_hash = *leaf;
  absl::StatusOr<std::string> entry = EntryAt(index);
  if (!entry.ok()) return entry.status();
  if (LeafHash(*entry) != *leaf) {
    return Problem(
        absl::StrFormat("entry %d differs from tree.hashes: run `custos audit verify`", index));
  }
  proof.entry = *std::move(entry);
  proof.checkpoint = *std::move(c);
  return proof;
}

absl::StatusOr<ConsistencyProof> AuditLogReader::ProveConsistency(uint64_t size1,
                                                                  uint64_t size2) const {
  absl::StatusOr<SignedCheckpoint> c2 = size2 == 0 ? LatestCheckpoint() : CheckpointAt(size2);
  if (!c2.ok()) return c2.status();
  absl::StatusOr<SignedCheckpoint> c1 = CheckpointAt(size1);
  if (!c1.ok()) return c1.status();
  ConsistencyProof proof;
  proof.size1 = size1;
  proof.size2 = c2->checkpoint.size;
  TreeFileSource source(tree_fd_, proof.size2, Paths(dir_).tree);
  ProofBuilder builder(source);
  absl::StatusOr<std::vector<Hash>> hashes = builder.Consistency(proof.size1, proof.size2);
  if (!hashes.ok()) return hashes.status();
  proof.hashes = *std::move(hashes);
  if (absl::Status s = VerifyConsistency(proof.size1, proof.size2, proof.hashes,
                                         c1->checkpoint.root, c2->checkpoint.root);
      !s.ok()) {
    return Problem(absl::StrCat("the stored checkpoints are not consistent: ", s.message(),
                                "; run `custos audit verify`"));
  }
  proof.checkpoint1 = *std::move(c1);
  proof.checkpoint2 = *std::move(c2);
  return proof;
}

// ---------------------------------------------------------------------------------------
// Writer.

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const AuditLogOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("audit log: no data folder");
  if (!options.origin.empty() && !ValidKeyName(options.origin)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit origin '", options.origin, "' must be printable ASCII without spaces or '+'"));
  }
  const Paths p(options.data_dir + "/audit");
  if (absl::Status s = EnsurePrivateDir(p.dir); !s.ok()) return s;
  auto log = std::unique_ptr<AuditLog>(new AuditLog());
  log->dir_ = p.dir;
  log->clock_ = options.clock != nullptr ? options.clock : Clock::Real();

  log->lock_fd_ = ::open(p.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (log->lock_fd_ < 0) return Errno(errno, "opening", p.lock);
  if (::flock(log->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::UnavailableError(absl::StrCat(
          "the audit log in ", p.dir, " is open in another process (a running custos serve?)"));
    }
    return Errno(errno, "locking", p.lock);
  }

  // The key: made at first start, never replaced.
  struct stat st;
  const bool has_entries = ::stat(p.entries.c_str(), &st) == 0 && st.st_size > 0;
  if (Exists(p.signing_key)) {
    if (::stat(p.signing_key.c_str(), &st) != 0) return Errno(errno, "inspecting", p.signing_key);
    if ((st.st_mode & 0077) != 0) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "the audit signing key %s is accessible to others (mode %04o): anyone who read it "
          "can forge checkpoints; replace the key if that may have happened, else chmod 600 it",
          p.signing_key, st.st_mode & 0777));
    }
    if (absl::Status s = EnsurePrivateDir(p.key_dir); !s.ok()) return s;
    absl::StatusOr<std::string> text = ReadFile(p.signing_key);
    if (!text.ok()) return text.status();
    std::string_view t = *text;
    if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
    absl::StatusOr<SignerKey> key = ParseSignerKey(t);
    if (!key.ok()) return Problem(absl::StrCat(p.signing_key, ": ", key.status().message()));
    log->key_ = *std::move(key);
    if (!options.origin.empty() && options.origin != log->key_.verifier.name) {
      return absl::InvalidArgumentError(
          absl::StrCat("audit origin '", options.origin, "' differs from the log's key name '",
                       log->key_.verifier.name, "'; a log keeps its origin for life"));
    }
    const std::string vkey = FormatVerifierKey(log->key_.verifier) + "\n";
    absl::StatusOr<std::string> stored = ReadFile(p.verifier_key);
    if (!stored.ok() && absl::IsNotFound(stored.status())) {
      if (absl::Status s = WriteFileAtomic(p.dir, "verifier.key", vkey, 0644); !s.ok()) return s;
    } else if (!stored.ok()) {
      return stored.status();
    } else if (*stored != vkey) {
      return Problem(absl::StrCat(p.verifier_key, " does not match the signing key"));
    }
  } else {
    if (has_entries) {
      return Problem(absl::StrCat("the audit log in ", p.dir, " has entries but its signing key ",
                                  p.signing_key, " is missing: restore it from backup"));
    }
    std::string origin = options.origin;
    if (origin.empty()) {
      if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
      std::array<uint8_t, 8> r;
      randombytes_buf(r.data(), r.size());
      origin = "custos.audit/";
      for (uint8_t b : r) origin += absl::StrFormat("%02x", b);
    }
    absl::StatusOr<SignerKey> key = GenerateSignerKey(origin);
    if (!key.ok()) return key.status();
    log->key_ = *std::move(key);
    if (absl::Status s = EnsurePrivateDir(p.key_dir); !s.ok()) return s;
    if (absl::Status s =
            WriteFileAtomic(p.key_dir, "signing.key", FormatSignerKey(log->key_) + "\n", 0600);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = WriteFileAtomic(p.dir, "verifier.key",
                                         FormatVerifierKey(log->key_.verifier) + "\n", 0644);
        !s.ok()) {
      return s;
    }
    spdlog::info("audit: new signing key {} for {}", FormatVerifierKey(log->key_.verifier), p.dir);
  }

  if (absl::Status s = EnsurePrivateDir(p.checkpoints); !s.ok()) return s;
  absl::StatusOr<DirListing> listing = ListCheckpoints(p.checkpoints);
  if (!listing.ok()) return listing.status();
  for (const std::string& t : listing->temps) ::unlink((p.checkpoints + "/" + t).c_str());

  auto files = std::unique_ptr<AuditLogReader>(new AuditLogReader());
  files->dir_ = p.dir;
  files->key_ = log->key_.verifier;
  for (auto [path, fd] :
       {std::pair{&p.entries, &files->entries_fd_}, std::pair{&p.idx, &files->idx_fd_},
        std::pair{&p.tree, &files->tree_fd_}}) {
    *fd = ::open(path->c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*fd < 0) return Errno(errno, "opening", *path);
  }
  log->files_ = std::move(files);
  if (absl::Status s = FsyncPath(p.dir); !s.ok()) return s;

  uint64_t checkpoint_size = 0;
  if (!listing->sizes.empty()) {
    absl::StatusOr<SignedCheckpoint> latest =
        ReadCheckpointFile(p, listing->sizes.back(), log->key_.verifier);
    if (!latest.ok()) return latest.status();
    checkpoint_size = latest->checkpoint.size;
    absl::MutexLock lock(&log->mu_);
    log->latest_ = *std::move(latest);
  }
  if (absl::Status s = log->Recover(checkpoint_size); !s.ok()) return s;
  return log;
}

absl::Status AuditLog::Recover(uint64_t checkpoint_size) {
  absl::MutexLock lock(&mu_);
  const Paths p(dir_);
  const int efd = files_->entries_fd_;
  const int ifd = files_->idx_fd_;
  const int tfd = files_->tree_fd_;
  absl::StatusOr<uint64_t> esize = FileSize(efd, p.entries);
  if (!esize.ok()) return esize.status();
  absl::StatusOr<uint64_t> isize = FileSize(ifd, p.idx);
  if (!isize.ok()) return isize.status();
  absl::StatusOr<uint64_t> tsize = FileSize(tfd, p.tree);
  if (!tsize.ok()) return tsize.status();

  // The derived files were synced when the latest checkpoint was written; past it they may
  // be stale after a crash, so they are rebuilt from the entries.
  uint64_t trusted = checkpoint_size;
  if (*isize < trusted * 8 || *tsize < StoredHashCount(trusted) * 32) {
    spdlog::warn("audit: index or tree file shorter than the latest checkpoint; rebuilding");
    trusted = 0;
  }
  uint64_t start = 0;
  tree_ = CompactTree();
  if (trusted > 0) {
    absl::StatusOr<std::string> b = PreadUpTo(ifd, (trusted - 1) * 8, 8, p.idx);
    if (!b.ok()) return b.status();
    start = Le64(b->data());
    TreeFileSource source(tfd, trusted, p.tree);
    absl::StatusOr<CompactTree> t = LoadCompactTree(source, trusted);
    if (!t.ok()) return t.status();
    tree_ = *std::move(t);
    if (start > *esize) {
      return Problem(absl::StrFormat(
          "%s has %d bytes but the latest checkpoint's entries end at %d: entries were removed",
          p.entries, *esize, start));
    }
  }
  auto check_root = [&]() -> absl::Status {
    if (latest_ && tree_.size() == checkpoint_size && tree_.Root() != latest_->checkpoint.root) {
      return Problem(absl::StrFormat(
          "the audit log's first %d entries do not match its latest checkpoint: it was changed "
          "after signing; run `custos audit verify`",
          checkpoint_size));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check_root(); !s.ok()) return s;

  RecordScanner scanner(efd, start, *esize, p.entries);
  std::string idx_buf, tree_buf, payload, problem;
  std::vector<Hash> stored;
  Hash leaf;
  for (;;) {
    const uint64_t offset = scanner.offset();
    absl::StatusOr<RecordScanner::Result> r = scanner.Next(&payload, &leaf, &problem);
    if (!r.ok()) return r.status();
    if (*r == RecordScanner::Result::kEnd) break;
    if (*r == RecordScanner::Result::kTorn) {
      spdlog::warn(
          "audit: dropping an incomplete final record at byte offset {} of {} ({} "
          "bytes): an entry that was being appended when the process stopped",
          offset, p.entries, *esize - offset);
      if (::ftruncate(efd, static_cast<off_t>(offset)) != 0) {
        return Errno(errno, "truncating", p.entries);
      }
      if (::fsync(efd) != 0) return Errno(errno, "syncing", p.entries);
      break;
    }
    if (*r == RecordScanner::Result::kCorrupt) {
      return Problem(absl::StrFormat(
          "audit log damaged or tampered with: entry %d at byte offset %d: %s; run `custos "
          "audit verify` and restore from backup",
          tree_.size(), offset, problem));
    }
    stored.clear();
    tree_.Append(leaf, &stored);
    for (const Hash& h : stored) tree_buf.append(HashBytes(h));
    PutLe64(&idx_buf, scanner.offset());
    if (absl::Status s = check_root(); !s.ok()) return s;
    if (payload.find("\"retention_delete\"") != std::string::npos) {
      nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
      if (j.is_object() && j.value("action", "") == "retention_delete") {
        receipt_ids_.insert(j.value("object", ""));
      }
    }
  }
  entries_end_ = scanner.offset();
  if (tree_.size() < checkpoint_size) {
    return Problem(absl::StrFormat(
        "the audit log has %d entries but its latest checkpoint covers %d: entries were removed",
        tree_.size(), checkpoint_size));
  }
  const uint64_t idx_off = trusted * 8;
  const uint64_t tree_off = StoredHashCount(trusted) * 32;
  if (::ftruncate(ifd, static_cast<off_t>(idx_off)) != 0) return Errno(errno, "truncating", p.idx);
  if (::ftruncate(tfd, static_cast<off_t>(tree_off)) != 0) {
    return Errno(errno, "truncating", p.tree);
  }
  if (absl::Status s = PwriteAll(ifd, idx_buf, idx_off, p.idx); !s.ok()) return s;
  if (absl::Status s = PwriteAll(tfd, tree_buf, tree_off, p.tree); !s.ok()) return s;
  if (::fsync(ifd) != 0) return Errno(errno, "syncing", p.idx);
  if (::fsync(tfd) != 0) return Errno(errno, "syncing", p.tree);
  derived_synced_ = true;
  return absl::OkStatus();
}

AuditLog::~AuditLog() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // Releases the flock.
}

absl::StatusOr<uint64_t> AuditLog::Append(const AuditEntry& entry) {
  AuditEntry e = entry;
  if (e.time_ms == 0) e.time_ms = clock_->WallMs();
  absl::StatusOr<std::string> payload = CanonicalJson(e);
  if (!payload.ok()) return payload.status();
  if (payload->size() > kMaxEntryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("audit entry of ", payload->size(), " bytes is over the limit"));
  }
  const Hash leaf = LeafHash(*payload);
  const std::string record = EncodeRecord(*payload, leaf);
  const Paths p(dir_);

  absl::MutexLock lock(&mu_);
  if (!broken_.empty()) return absl::UnavailableError(broken_);
  const int efd = files_->entries_fd_;
  if (absl::Status s = PwriteAll(efd, record, entries_end_, p.entries); !s.ok()) {
    if (::ftruncate(efd, static_cast<off_t>(entries_end_)) != 0) {
      broken_ = absl::StrCat("the audit log could not undo a failed write (", s.message(),
                             "); reopen it");
    }
    return s;
  }
  if (::fdatasync(efd) != 0) {
    const absl::Status s = Errno(errno, "syncing", p.entries);
    // After a failed sync the kernel may have dropped the data: nothing after it can be
    // trusted to be durable until the log is reopened and recovered.
    broken_ = absl::StrCat("the audit log failed to sync (", s.message(), "); reopen it");
    (void)::ftruncate(efd, static_cast<off_t>(entries_end_));
    return s;
  }
  entries_end_ += record.size();
  const uint64_t index = tree_.size();
  std::vector<Hash> stored;
  tree_.Append(leaf, &stored);
  std::string tree_bytes, idx_bytes;
  for (const Hash& h : stored) tree_bytes.append(HashBytes(h));
  PutLe64(&idx_bytes, entries_end_);
  derived_synced_ = false;
  absl::Status s = PwriteAll(files_->tree_fd_, tree_bytes, StoredHashCount(index) * 32, p.tree);
  if (s.ok()) s = PwriteAll(files_->idx_fd_, idx_bytes, index * 8, p.idx);
  if (!s.ok()) {
    // The entry itself is durable; the derived files are rebuilt from it on reopen.
    broken_ =
        absl::StrCat("the audit log could not update its tree (", s.message(), "); reopen it");
    spdlog::error("audit: {}", broken_);
  }
  return index;
}

void AuditLog::Record(const auth::AccessRecord& record) {
  AuditEntry e;
  e.time_ms = record.time_ms;
  e.actor = record.actor;
  e.role = std::string(auth::RoleName(record.role));
  e.action = std::string(auth::AccessActionName(record.action));
  e.object = record.object;
  e.result = std::string(auth::AccessResultName(record.result));
  e.client = record.client;
  absl::StatusOr<uint64_t> index = Append(e);
  if (!index.ok()) {
    int64_t failed = 0;
    {
      absl::MutexLock lock(&mu_);
      failed = ++failed_records_;
    }
    spdlog::error("AUDIT RECORD LOST ({} so far): {} {} {} by {}: {}", failed, e.action, e.object,
                  e.result, e.actor, std::string(index.status().message()));
  }
}

absl::Status AuditLog::Record(const retention::DeletionReceipt& receipt) {
  {
    absl::MutexLock lock(&mu_);
    if (receipt_ids_.contains(receipt.id)) return absl::OkStatus();
  }
  AuditEntry e;
  e.time_ms = receipt.time_ms;
  e.actor = "retention";
  e.role = "system";
  e.action = "retention_delete";
  e.object = receipt.id;
  e.purpose = "retention";
  e.result = "ok";
  e.details = {{"rule", receipt.rule},           {"kind", retention::DataKindName(receipt.kind)},
               {"camera", receipt.camera},       {"count", receipt.count},
               {"bytes", receipt.bytes},         {"oldest_ms", receipt.oldest_ms},
               {"newest_ms", receipt.newest_ms}, {"items", receipt.items},
               {"files", receipt.files}};
  absl::StatusOr<uint64_t> index = Append(e);
  if (!index.ok()) return index.status();
  absl::MutexLock lock(&mu_);
  receipt_ids_.insert(receipt.id);
  return absl::OkStatus();
}

absl::StatusOr<SignedCheckpoint> AuditLog::Checkpoint() {
  absl::MutexLock lock(&mu_);
  if (!broken_.empty()) return absl::UnavailableError(broken_);
  const uint64_t n = tree_.size();
  if (latest_ && latest_->checkpoint.size == n) return *latest_;
  const Paths p(dir_);
  if (!derived_synced_) {
    if (::fdatasync(files_->idx_fd_) != 0) return Errno(errno, "syncing", p.idx);
    if (::fdatasync(files_->tree_fd_) != 0) return Errno(errno, "syncing", p.tree);
    derived_synced_ = true;
  }
  audit::Checkpoint c{key_.verifier.name, n, tree_.Root()};
  SignedCheckpoint signed_checkpoint{c, SignNote(FormatCheckpoint(c), key_)};
  if (absl::Status s =
          WriteFileAtomic(p.checkpoints, CheckpointName(n), signed_checkpoint.note, 0644);
      !s.ok()) {
    return s;
  }
  latest_ = signed_checkpoint;
  return signed_checkpoint;
}

absl::StatusOr<SignedCheckpoint> AuditLog::LatestCheckpoint() const {
  absl::MutexLock lock(&mu_);
  if (!latest_) return absl::NotFoundError("the audit log has no checkpoint yet");
  return *latest_;
}

absl::StatusOr<std::vector<StoredEntry>> AuditLog::Read(uint64_t from, uint64_t count,
                                                        const std::string& actor, auth::Role role,
                                                        const std::string& client) {
  count = std::min(count, kMaxRead);
  AuditEntry e;
  e.actor = actor;
  e.role = std::string(auth::RoleName(role));
  e.action = "audit_read";
  e.object = count == 0 ? absl::StrCat("entries ", from, "..")
                        : absl::StrCat("entries ", from, "..", from + count - 1);
  e.client = client;
  if (!auth::Allows(role, auth::Permission::kReadAudit)) {
    e.result = "denied";
    (void)Append(e);  // Best effort; the read is refused either way.
    return absl::PermissionDeniedError(
        absl::StrCat("role ", std::string(auth::RoleName(role)), " may not read the audit log"));
  }
  e.result = "ok";
  absl::StatusOr<uint64_t> logged = Append(e);
  if (!logged.ok()) return logged.status();
  return ScanForStatistics(from, count);
}

absl::StatusOr<std::vector<StoredEntry>> AuditLog::ScanForStatistics(uint64_t from,
                                                                     uint64_t count) const {
  count = std::min(count, kMaxRead);
  absl::MutexLock lock(&mu_);
  std::vector<StoredEntry> out;
  const uint64_t end = std::min(tree_.size(), from + count);
  for (uint64_t i = from; i < end; ++i) {
    absl::StatusOr<std::string> json = files_->EntryAt(i);
    if (!json.ok()) return json.status();
    out.push_back({i, *std::move(json)});
  }
  return out;
}

absl::StatusOr<InclusionProof> AuditLog::ProveInclusion(uint64_t index, uint64_t tree_size) const {
  absl::MutexLock lock(&mu_);
  return files_->ProveInclusion(index, tree_size);
}

absl::StatusOr<ConsistencyProof> AuditLog::ProveConsistency(uint64_t size1, uint64_t size2) const {
  absl::MutexLock lock(&mu_);
  return files_->ProveConsistency(size1, size2);
}

absl::StatusOr<VerifyReport> AuditLog::Verify(const VerifyOptions& options) const {
  absl::MutexLock lock(&mu_);
  return VerifyFiles(dir_, options, /*quiescent=*/true);
}

uint64_t AuditLog::size() const {
  absl::MutexLock lock(&mu_);
  return tree_.size();
}

int64_t AuditLog::failed_records() const {
  absl::MutexLock lock(&mu_);
  return failed_records_;
}

}  // namespace custos::audit
