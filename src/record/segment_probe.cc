#include "record/segment_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ingest/av_error.h"

extern "C" {
#include <libavformat/avformat.h>
}

namespace custos::record {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

uint64_t ReadBe(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

absl::Status ErrnoStatus(int error, const std::string& what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
  if (error == ENOSPC || error == EDQUOT || error == EFBIG) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::UnavailableError(message);
}

}  // namespace

absl::StatusOr<int64_t> TruncateToLastCompleteFragment(const std::string& path) {
  Fd file;
  file.fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (file.fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open segment ", path));
  const off_t size = ::lseek(file.fd, 0, SEEK_END);
  if (size < 0) return ErrnoStatus(errno, absl::StrCat("cannot read segment ", path));

  int64_t offset = 0;
  int64_t good_end = 0;  // End of the last box that leaves the file playable.
  bool first = true;
  while (offset + 8 <= size) {
    std::array<unsigned char, 16> header{};
    const ssize_t n = ::pread(file.fd, header.data(), header.size(), offset);
    if (n < 8) break;
    uint64_t box_size = ReadBe(header.data(), 4);
    const std::string type(reinterpret_cast<const char*>(header.data() + 4), 4);
    if (first && type != "ftyp") {
      return absl::DataLossError(
          absl::StrCat("segment ", path, " is not an MP4 file (it does not start with ftyp)"));
    }
    first = false;
    if (box_size == 1) {
      if (n < 16) break;
      box_size = ReadBe(header.data() + 8, 8);
    } else if (box_size == 0) {
      box_size = static_cast<uint64_t>(size - offset);  // Runs to the end of the file.
    }
    if (box_size < 8 || box_size > static_cast<uint64_t>(size - offset)) break;  // Cut off.
    offset += static_cast<int64_t>(box_size);
    // A moof is only useful with the mdat that follows it.
    if (type != "moof") good_end = offset;
  }
  if (first) {
    return absl::DataLossError(absl::StrCat("segment ", path, " is empty or too short"));
  }
  if (good_end < size && ::ftruncate(file.fd, good_end) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot cut segment ", path));
  }
  return good_end;
}

absl::StatusOr<ProbeResult> ProbeSegment(const std::string& path) {
  std::error_code error;
  const auto bytes = std::filesystem::file_size(path, error);
  if (error) return absl::NotFoundError(absl::StrCat("segment ", path, ": ", error.message()));

  AVFormatContext* raw = nullptr;
  AVDictionary* options = nullptr;
  av_dict_set(&options, "protocol_whitelist", "file", 0);
  int ret = avformat_open_input(&raw, absl::StrCat("file:", path).c_str(), nullptr, &options);
  av_dict_free(&options);
  if (ret < 0) {
    return absl::DataLossError(ingest::AvErrorToStatus(ret, ingest::AvPhase::kOpenFile,
                                                       absl::StrCat("cannot open segment ", path))
                                   .message());
  }
  std::unique_ptr<AVFormatContext, void (*)(AVFormatContext*)> format(
      raw, [](AVFormatContext* p) { avformat_close_input(&p); });
  const int video = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video < 0) {
    return absl::DataLossError(absl::StrCat("segment ", path, " has no video stream"));
  }
  const AVRational time_base = format->streams[video]->time_base;
  std::unique_ptr<AVPacket, void (*)(AVPacket*)> packet(av_packet_alloc(),
                                                        [](AVPacket* p) { av_packet_free(&p); });
  ProbeResult result;
  result.bytes = static_cast<int64_t>(bytes);
  int64_t min_pts = INT64_MAX;
  int64_t max_end = INT64_MIN;
  while ((ret = av_read_frame(format.get(), packet.get())) >= 0) {
    if (packet->stream_index == video) {
      const bool key = (packet->flags & AV_PKT_FLAG_KEY) != 0;
      if (result.packets == 0) result.starts_with_keyframe = key;
      ++result.packets;
      if (key) ++result.keyframes;
      const int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
      if (pts != AV_NOPTS_VALUE) {
        min_pts = std::min(min_pts, pts);
        max_end = std::max(max_end, pts + std::max<int64_t>(packet->duration, 0));
      }
    }
    av_packet_unref(packet.get());
  }
  if (result.packets == 0 || min_pts == INT64_MAX) {
    return absl::DataLossError(absl::StrCat("segment ", path, " holds no complete video fragment"));
  }
  result.first_pts_ms = av_rescale_q(min_pts, time_base, AVRational{1, 1000});
  result.duration_ms = av_rescale_q(max_end - min_pts, time_base, AVRational{1, 1000});
  return result;
}

}  // namespace custos::record
