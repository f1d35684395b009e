#include "record/segment_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "ingest/av_error.h"
#include "record/segment_probe.h"
#include "spdlog/spdlog.h"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
}

namespace custos::record {
namespace {

namespace fs = std::filesystem;

absl::Status WriteError(int averror, const std::string& path) {
  return ingest::AvErrorToStatus(averror, ingest::AvPhase::kWrite,
                                 absl::StrCat("cannot write recording ", path));
}

// Flushes the file's data to the disk, so a closed segment survives a power cut too.
// Flushes a closed segment to disk. Some file systems report a full disk or an I/O error
// only here, so the result matters: a segment is closed in the index only once it is durable.
absl::Status SyncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot reopen ", path, " to sync it: ", std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc == 0) return absl::OkStatus();
  const std::string message = absl::StrCat("syncing ", path, " failed: ", std::strerror(error));
  if (error == ENOSPC || error == EDQUOT || error == EFBIG) {
    return absl::ResourceExhaustedError(absl::StrCat(message, "; free disk space"));
  }
  return absl::UnavailableError(message);
}

}  // namespace

absl::Status ValidateCameraId(const std::string& camera) {
  bool ok = !camera.empty() && camera.size() <= 64 && camera[0] != '.';
  for (const char c : camera) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("camera id \"", camera,
                     "\" cannot name a recording folder: use 1-64 of A-Z a-z 0-9 _ - . "
                     "not starting with '.'"));
  }
  return absl::OkStatus();
}

std::string SegmentPath(const std::string& camera, int64_t start_ms) {
  const std::time_t seconds = static_cast<std::time_t>(start_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char day[48];
  char hour[16];
  std::snprintf(day, sizeof(day), "%04d-%02d-%02d", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday);
  std::snprintf(hour, sizeof(hour), "%02d", utc.tm_hour);
  return absl::StrCat("recordings/", camera, "/", day, "/", hour, "/", start_ms, ".mp4");
}

SegmentWriter::SegmentWriter(const SegmentWriterOptions& options, SegmentIndex* index)
    : options_(options), index_(index) {}

absl::StatusOr<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(
    const SegmentWriterOptions& options, SegmentIndex* index) {
  CUSTOS_RETURN_IF_ERROR(ValidateCameraId(options.camera));
  if (options.segment_ms < 1000 || options.segment_ms > 3'600'000) {
    return absl::InvalidArgumentError(
        "recording option segment_ms must be between 1000 and 3600000");
  }
  if (options.fragment_ms < 100 || options.fragment_ms > 60'000) {
    return absl::InvalidArgumentError("recording option fragment_ms must be between 100 and 60000");
  }
  std::error_code error;
  if (!fs::is_directory(options.data_dir, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data directory ", options.data_dir, " does not exist; create it or set another data_dir"));
  }
  return std::unique_ptr<SegmentWriter>(new SegmentWriter(options, index));
}

SegmentWriter::~SegmentWriter() {
  if (absl::Status status = CloseSegment(); !status.ok()) {
    spdlog::error("camera {}: {}", options_.camera, std::string(status.message()));
  }
}

absl::Status SegmentWriter::OpenSegment(const ingest::EncodedPacket& first) {
  const AVCodecID codec = first.stream->codecpar->codec_id;
  if (codec != AV_CODEC_ID_H264 && codec != AV_CODEC_ID_HEVC) {
    return absl::InvalidArgumentError(
        absl::StrCat("camera ", options_.camera, " sends ", first.stream->codec,
                     " video, which cannot be recorded: set the camera to H.264 or H.265"));
  }
  // A start time that is already taken (two segments within one ms) moves on by a ms.
  int64_t start_ms = first.wall_ms;
  std::string relative = SegmentPath(options_.camera, start_ms);
  std::error_code error;
  while (fs::exists(fs::path(options_.data_dir) / relative, error)) {
    relative = SegmentPath(options_.camera, ++start_ms);
  }
  const fs::path file = fs::path(options_.data_dir) / relative;
  fs::create_directories(file.parent_path(), error);
  if (error) {
    const absl::StatusCode code = error == std::errc::no_space_on_device
                                      ? absl::StatusCode::kResourceExhausted
                                      : absl::StatusCode::kUnavailable;
    return absl::Status(code, absl::StrCat("cannot create recording folder ",
                                           file.parent_path().string(), ": ", error.message()));
  }
  if (index_ != nullptr) {
    CUSTOS_ASSIGN_OR_RETURN(segment_id_, index_->AddOpen(options_.camera, relative, start_ms));
  }
  path_ = relative;
  start_ms_ = start_ms;
  stream_ = first.stream;

  int ret = avformat_alloc_output_context2(&muxer_, nullptr, "mp4", nullptr);
  if (ret < 0 || muxer_ == nullptr) {
    muxer_ = nullptr;
    AbandonSegment();
    return absl::ResourceExhaustedError("out of memory creating an MP4 muxer");
  }
  AVStream* stream = avformat_new_stream(muxer_, nullptr);
  out_ = av_packet_alloc();
  if (stream == nullptr || out_ == nullptr ||
      avcodec_parameters_copy(stream->codecpar, first.stream->codecpar) < 0) {
    AbandonSegment();
    return absl::ResourceExhaustedError("out of memory creating an MP4 stream");
  }
  stream->codecpar->codec_tag = 0;  // Let the muxer choose (avc1/hvc1), whatever the source.
  stream->time_base = first.stream->time_base;
  // Flush each packet's output: with fragments, what reaches the file is whole fragments.
  muxer_->flags |= AVFMT_FLAG_FLUSH_PACKETS;
  ret = avio_open(&muxer_->pb, absl::StrCat("file:", file.string()).c_str(), AVIO_FLAG_WRITE);
  if (ret < 0) {
    const absl::Status status = WriteError(ret, relative);
    AbandonSegment();
    return status;
  }
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
  av_dict_set_int(&opts, "frag_duration", options_.fragment_ms * 1000, 0);
  av_dict_set_int(&opts, "flush_packets", 1, 0);
  ret = avformat_write_header(muxer_, &opts);
  av_dict_free(&opts);
  if (ret < 0) {
    const absl::Status status = WriteError(ret, relative);
    AbandonSegment();
    return status;
  }
  origin_dts_ = first.packet->dts != AV_NOPTS_VALUE ? first.packet->dts : first.packet->pts;
  first_pts_ = first.packet->pts != AV_NOPTS_VALUE ? first.packet->pts : first.packet->dts;
  end_pts_ = first_pts_;
  last_dts_ = INT64_MIN;
  return absl::OkStatus();
}

absl::Status SegmentWriter::Write(const ingest::EncodedPacket& packet) {
  if (packet.packet == nullptr || packet.stream == nullptr) {
    return absl::InvalidArgumentError("SegmentWriter::Write needs a packet and its stream");
  }
  const AVPacket& in = *packet.packet;
  const bool key = (in.flags & AV_PKT_FLAG_KEY) != 0;
  int64_t pts = in.pts;
  int64_t dts = in.dts;
  if (dts == AV_NOPTS_VALUE) dts = pts;
  if (pts == AV_NOPTS_VALUE) pts = dts;
  if (pts == AV_NOPTS_VALUE) {
    ++stats_.packets_bad_timestamps;
    return absl::OkStatus();
  }
  if (muxer_ != nullptr) {
    const bool new_stream = packet.stream != stream_;
    const bool long_enough =
        av_rescale_q(pts - first_pts_, stream_->time_base, {1, 1000}) >= options_.segment_ms;
    const bool jumped_back = dts <= last_dts_;
    // New parameters cannot continue this file (the next one starts at a keyframe); a
    // keyframe whose timestamps went back (camera clock reset) starts a new file.
    if (new_stream || (key && (long_enough || jumped_back))) {
      CUSTOS_RETURN_IF_ERROR(CloseSegment());
    }
  }
  if (muxer_ == nullptr) {
    if (!key) {
      ++stats_.packets_before_keyframe;
      return absl::OkStatus();
    }
    CUSTOS_RETURN_IF_ERROR(OpenSegment(packet));
  }
  if ((last_dts_ != INT64_MIN && dts <= last_dts_) || pts < dts) {
    ++stats_.packets_bad_timestamps;
    return absl::OkStatus();
  }

  int ret = av_packet_ref(out_, &in);
  if (ret < 0) return absl::ResourceExhaustedError("out of memory referencing a packet");
  out_->stream_index = 0;
  out_->pts = pts - origin_dts_;
  out_->dts = dts - origin_dts_;
  out_->pos = -1;
  av_packet_rescale_ts(out_, stream_->time_base, muxer_->streams[0]->time_base);
  ret = av_write_frame(muxer_, out_);
  av_packet_unref(out_);
  if (ret < 0) {
    const absl::Status status = WriteError(ret, path_);
    AbandonSegment();
    return status;
  }
  last_dts_ = dts;
  end_pts_ = std::max(end_pts_, pts + std::max<int64_t>(in.duration, 0));
  ++stats_.packets_written;
  return absl::OkStatus();
}

absl::Status SegmentWriter::CloseSegment() {
  if (muxer_ == nullptr) return absl::OkStatus();
  int ret = av_write_trailer(muxer_);
  if (ret < 0) {
    const absl::Status status = WriteError(ret, path_);
    AbandonSegment();
    return status;
  }
  ret = avio_closep(&muxer_->pb);
  const fs::path file = fs::path(options_.data_dir) / path_;
  if (ret < 0) {
    const absl::Status status = WriteError(ret, path_);
    AbandonSegment();
    return status;
  }
  avformat_free_context(muxer_);
  muxer_ = nullptr;
  av_packet_free(&out_);
  if (absl::Status synced = SyncFile(file.string()); !synced.ok()) {
    // Not durable: the row stays open, so the next start's Reconcile() keeps exactly what
    // reached the disk (whole fragments). The writer starts a new segment next time.
    segment_id_ = -1;
    path_.clear();
    stream_.reset();
    return synced;
  }
  std::error_code error;
  const auto bytes = static_cast<int64_t>(fs::file_size(file, error));
  const int64_t end_ms =
      start_ms_ + av_rescale_q(end_pts_ - first_pts_, stream_->time_base, {1, 1000});
  ++stats_.segments_closed;
  stats_.bytes_closed += error ? 0 : bytes;
  const int64_t id = segment_id_;
  segment_id_ = -1;
  path_.clear();
  stream_.reset();
  if (index_ != nullptr && id >= 0) {
    CUSTOS_RETURN_IF_ERROR(index_->Finish(id, end_ms, error ? 0 : bytes, SegmentState::kClosed));
  }
  return absl::OkStatus();
}

void SegmentWriter::AbandonSegment() {
  if (muxer_ != nullptr) {
    if (muxer_->pb != nullptr) avio_closep(&muxer_->pb);
    avformat_free_context(muxer_);
    muxer_ = nullptr;
  }
  av_packet_free(&out_);
  if (!path_.empty()) {
    // Keep what reached the disk, cut to whole fragments; the index row says what it is.
    // If the index cannot be written either (full disk), the row stays open and
    // SegmentIndex::Reconcile() settles it at the next start.
    const fs::path file = fs::path(options_.data_dir) / path_;
    SegmentState state = SegmentState::kDamaged;
    int64_t end_ms = start_ms_;
    int64_t bytes = 0;
    if (absl::StatusOr<int64_t> size = TruncateToLastCompleteFragment(file.string()); size.ok()) {
      bytes = *size;
      if (absl::StatusOr<ProbeResult> probe = ProbeSegment(file.string()); probe.ok()) {
        state = SegmentState::kRecovered;
        end_ms = start_ms_ + probe->duration_ms;
      }
    }
    if (index_ != nullptr && segment_id_ >= 0) {
      if (absl::Status status = index_->Finish(segment_id_, end_ms, bytes, state); !status.ok()) {
        spdlog::warn("camera {}: segment {} stays open in the index until the next start: {}",
                     options_.camera, path_, std::string(status.message()));
      }
    }
  }
  segment_id_ = -1;
  path_.clear();
  stream_.reset();
}

}  // namespace custos::record
