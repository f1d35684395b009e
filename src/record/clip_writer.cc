#include "record/clip_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/files.h"
#include "custos/status.h"
#include "ingest/av_error.h"
#include "record/segment_writer.h"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/mathematics.h>
}

namespace custos::record {
namespace {

namespace fs = std::filesystem;

constexpr AVRational kMs{1, 1000};
// The clip's own time base: fine enough for any camera's frame rate, and one that the MP4
// muxer keeps as the track's timescale.
constexpr AVRational kClipTimeBase{1, 90000};
// An interruption shorter than this between two segments is not reported as a gap (the ms
// rounding of the index's times).
constexpr int64_t kGapToleranceMs = 100;

struct InputCloser {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
using InputPtr = std::unique_ptr<AVFormatContext, InputCloser>;
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;

// "2023-11-14T22:13:20.000Z"
std::string FormatUtc(int64_t ms) {
  const auto seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int64_t millis = ms - static_cast<int64_t>(seconds) * 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return text;
}

// Whether packets of `b` can continue a track set up for `a`.
bool SameStream(const AVCodecParameters& a, const AVCodecParameters& b) {
  return a.codec_id == b.codec_id && a.width == b.width && a.height == b.height &&
         a.extradata_size == b.extradata_size &&
         (a.extradata_size == 0 ||
          std::memcmp(a.extradata, b.extradata, static_cast<size_t>(a.extradata_size)) == 0);
}

// Builds one clip: segments are added in time order; packets before the start keyframe and
// from to_ms on are left out. Not thread-safe; one per WriteClip call.
class ClipBuilder {
 public:
  ClipBuilder(std::string data_dir, int64_t from_ms, int64_t to_ms, std::string out_path,
              const ClipOptions& options)
      : data_dir_(std::move(data_dir)),
        from_ms_(from_ms),
        to_ms_(to_ms),
        out_path_(std::move(out_path)),
        part_path_(out_path_ + ".part"),
        options_(options) {}

  ~ClipBuilder() {
    CloseOutput();
    if (part_created_) {
      std::error_code error;
      fs::remove(part_path_, error);
    }
    avcodec_parameters_free(&codecpar_);
  }

  // Adds the packets of `segment` that fall in the range. A segment that cannot be used
  // (wholly or from some point on) is reported in skipped; errors are the output's only.
  absl::Status AddSegment(const Segment& segment);
  bool done() const { return done_; }
  bool started() const { return started_; }
  int damaged() const { return damaged_; }
  int open_skipped() const { return open_skipped_; }
  const ClipInfo& info() const { return info_; }

  // Writes the trailer (moving the moov in front), syncs, hashes and renames the clip.
  absl::StatusOr<ClipInfo> Finish();

 private:
  struct Input {
    const Segment* segment = nullptr;
    const AVCodecParameters* codecpar = nullptr;
    AVRational time_base{1, 1};
    int64_t first_pts = AV_NOPTS_VALUE;  // Input pts of the segment's first packet.
    bool offset_set = false;
    int64_t offset = 0;  // Added to a packet's rescaled timestamps to place it in the clip.
    bool used = false;

    int64_t WallMs(int64_t ts) const {
      return segment->start_ms + av_rescale_q(ts - first_pts, time_base, kMs);
    }
  };

  void Skip(const Segment& segment, std::string reason, bool damaged) {
    if (damaged) ++damaged_;
    info_.skipped.push_back(
        SkippedSegment{segment.path, segment.start_ms, segment.end_ms, std::move(reason)});
  }
  absl::Status OpenOutput(const AVCodecParameters& codecpar);
  void CloseOutput();
  absl::Status WriteError(int averror) {
    return ingest::AvErrorToStatus(averror, ingest::AvPhase::kWrite,
                                   absl::StrCat("cannot write clip ", out_path_));
  }
  // Places `input`'s packets on the clip's timeline at its first written packet.
  void PlaceSegment(Input& input, const AVPacket& first);
  absl::Status WritePacket(Input& input, AVPacket* packet);
  absl::Status FlushPending(Input& input);

  const std::string data_dir_;
  const int64_t from_ms_;
  const int64_t to_ms_;
  const std::string out_path_;
  const std::string part_path_;
  const ClipOptions options_;

  AVFormatContext* muxer_ = nullptr;
  bool part_created_ = false;
  AVCodecParameters* codecpar_ = nullptr;  // The clip's track.
  PacketPtr out_{av_packet_alloc()};
  // The GOP that holds from_ms, until the next keyframe shows it is the last one before.
  std::vector<PacketPtr> pending_;

  bool started_ = false;
  bool done_ = false;
  int damaged_ = 0;
  int open_skipped_ = 0;
  int64_t origin_wall_ms_ = 0;         // Wall pts of the clip's first keyframe.
  int64_t first_pts_clip_ = 0;         // Its pts on the clip's timeline (the B-frame delay).
  int64_t last_dts_clip_ = INT64_MIN;  // Last dts written, kClipTimeBase.
  int64_t next_dts_clip_ = 0;          // last dts + its duration.
  int64_t end_clip_ = 0;               // Largest pts + duration written, kClipTimeBase.
  int64_t end_wall_ms_ = 0;            // Wall time just after the last packet written.
  ClipInfo info_;
};

absl::Status ClipBuilder::OpenOutput(const AVCodecParameters& codecpar) {
  const std::string url = absl::StrCat("file:", part_path_);
  int ret = avformat_alloc_output_context2(&muxer_, nullptr, "mp4", url.c_str());
  if (ret < 0 || muxer_ == nullptr) {
    muxer_ = nullptr;
    return absl::ResourceExhaustedError("out of memory creating an MP4 muxer");
  }
  AVStream* stream = avformat_new_stream(muxer_, nullptr);
  codecpar_ = avcodec_parameters_alloc();
  if (stream == nullptr || codecpar_ == nullptr || out_ == nullptr ||
      avcodec_parameters_copy(codecpar_, &codecpar) < 0 ||
      avcodec_parameters_copy(stream->codecpar, &codecpar) < 0) {
    return absl::ResourceExhaustedError("out of memory creating an MP4 stream");
  }
  // avc1 for H.264; hvc1 (not hev1) for H.265, the tag Apple's players require.
  stream->codecpar->codec_tag =
      codecpar.codec_id == AV_CODEC_ID_HEVC ? MKTAG('h', 'v', 'c', '1') : 0;
  stream->time_base = kClipTimeBase;
  part_created_ = true;
  ret = avio_open(&muxer_->pb, url.c_str(), AVIO_FLAG_WRITE);
  if (ret < 0) return WriteError(ret);
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags", "+faststart", 0);
  ret = avformat_write_header(muxer_, &opts);
  av_dict_free(&opts);
  if (ret < 0) return WriteError(ret);
  return absl::OkStatus();
}

void ClipBuilder::CloseOutput() {
  if (muxer_ == nullptr) return;
  if (muxer_->pb != nullptr) avio_closep(&muxer_->pb);
  avformat_free_context(muxer_);
  muxer_ = nullptr;
}

void ClipBuilder::PlaceSegment(Input& input, const AVPacket& first) {
  input.offset_set = true;
  const int64_t first_dts = av_rescale_q(first.dts, input.time_base, kClipTimeBase);
  if (!started_) {
    // The clip's first packet (a keyframe) gets dts 0.
    started_ = true;
    input.offset = -first_dts;
    origin_wall_ms_ = input.WallMs(first.pts);
    first_pts_clip_ = av_rescale_q(first.pts, input.time_base, kClipTimeBase) + input.offset;
    info_.start_ms = origin_wall_ms_;
    end_wall_ms_ = origin_wall_ms_;
    return;
  }
  const int64_t wall_ms = input.WallMs(first.pts);
  const int64_t gap_ms = wall_ms - end_wall_ms_;
  if (gap_ms > kGapToleranceMs) {
    ++info_.gaps;
    info_.gap_ms += gap_ms;
  }
  if (options_.keep_gaps) {
    // Clip time follows the wall clock: pts on the clip = wall time since the first frame.
    input.offset = first_pts_clip_ + av_rescale_q(wall_ms - origin_wall_ms_, kMs, kClipTimeBase) -
                   av_rescale_q(first.pts, input.time_base, kClipTimeBase);
  } else {
    input.offset = next_dts_clip_ - first_dts;
  }
  // The index's times are whole ms: never let that rounding make dts go back.
  if (first_dts + input.offset < next_dts_clip_) input.offset = next_dts_clip_ - first_dts;
}

absl::Status ClipBuilder::WritePacket(Input& input, AVPacket* packet) {
  if (muxer_ == nullptr) CUSTOS_RETURN_IF_ERROR(OpenOutput(*input.codecpar));
  if (!input.offset_set) PlaceSegment(input, *packet);
  const int64_t wall_ms = input.WallMs(packet->pts);
  int ret = av_packet_ref(out_.get(), packet);
  if (ret < 0) return absl::ResourceExhaustedError("out of memory referencing a packet");
  out_->stream_index = 0;
  out_->pts = av_rescale_q(packet->pts, input.time_base, kClipTimeBase) + input.offset;
  out_->dts = av_rescale_q(packet->dts, input.time_base, kClipTimeBase) + input.offset;
  out_->duration =
      av_rescale_q(std::max<int64_t>(packet->duration, 0), input.time_base, kClipTimeBase);
  out_->pos = -1;
  if (out_->dts <= last_dts_clip_) {
    // Cannot happen with segments written by SegmentWriter (dts increase within a file, and
    // PlaceSegment keeps them increasing across files); a hand-made file might.
    av_packet_unref(out_.get());
    return absl::OkStatus();
  }
  const int64_t dts = out_->dts;
  const int64_t end = out_->pts + out_->duration;
  const int64_t duration = out_->duration;
  av_packet_rescale_ts(out_.get(), kClipTimeBase, muxer_->streams[0]->time_base);
  ret = av_write_frame(muxer_, out_.get());
  av_packet_unref(out_.get());
  if (ret < 0) return WriteError(ret);
  if (!input.used) {
    input.used = true;
    ++info_.segments_used;
  }
  ++info_.packets;
  last_dts_clip_ = dts;
  next_dts_clip_ = dts + std::max<int64_t>(duration, 1);
  end_clip_ = std::max(end_clip_, end);
  end_wall_ms_ = std::max(
      end_wall_ms_,
      wall_ms + av_rescale_q(std::max<int64_t>(packet->duration, 0), input.time_base, kMs));
  return absl::OkStatus();
}

absl::Status ClipBuilder::FlushPending(Input& input) {
  for (PacketPtr& packet : pending_) CUSTOS_RETURN_IF_ERROR(WritePacket(input, packet.get()));
  pending_.clear();
  return absl::OkStatus();
}

absl::Status ClipBuilder::AddSegment(const Segment& segment) {
  if (done_) return absl::OkStatus();
  if (segment.state == SegmentState::kOpen) {
    ++open_skipped_;
    Skip(segment, "still being recorded; it is closed within the segment length (10 s by default)",
         false);
    return absl::OkStatus();
  }
  if (segment.state == SegmentState::kDamaged) {
    Skip(segment, "marked damaged in the index (no playable fragment, or its file is gone)", true);
    return absl::OkStatus();
  }
  const fs::path file = fs::path(data_dir_) / segment.path;
  std::error_code error;
  const auto size = static_cast<int64_t>(fs::file_size(file, error));
  if (error) {
    Skip(segment, absl::StrCat("file missing or unreadable: ", error.message()), true);
    return absl::OkStatus();
  }
  // Closed and recovered rows hold the exact size: a different one means the file was cut or
  // changed after it was recorded, and nothing in it can be trusted.
  if (segment.bytes > 0 && size != segment.bytes) {
    Skip(segment,
         absl::StrCat("file is ", size, " bytes but was ", segment.bytes,
                      " when recorded: damaged or changed since"),
         true);
    return absl::OkStatus();
  }

  AVFormatContext* raw = nullptr;
  AVDictionary* open_options = nullptr;
  av_dict_set(&open_options, "protocol_whitelist", "file", 0);
  int ret = avformat_open_input(&raw, absl::StrCat("file:", file.string()).c_str(), nullptr,
                                &open_options);
  av_dict_free(&open_options);
  if (ret < 0) {
    Skip(segment,
         absl::StrCat("cannot be read: ",
                      ingest::AvErrorToStatus(ret, ingest::AvPhase::kOpenFile, "open").message()),
         true);
    return absl::OkStatus();
  }
  InputPtr format(raw);
  const int video = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video < 0) {
    Skip(segment, "has no video stream", true);
    return absl::OkStatus();
  }
  Input input;
  input.segment = &segment;
  input.codecpar = format->streams[video]->codecpar;
  input.time_base = format->streams[video]->time_base;
  if (codecpar_ != nullptr && !SameStream(*codecpar_, *input.codecpar)) {
    Skip(segment,
         "the camera's stream changed (codec, resolution or parameter sets): export the time "
         "from this segment on as a separate clip",
         false);
    return absl::OkStatus();
  }

  PacketPtr packet(av_packet_alloc());
  if (packet == nullptr) return absl::ResourceExhaustedError("out of memory reading a segment");
  int64_t read = 0;
  int64_t segment_end_wall_ms = segment.start_ms;
  for (;;) {
    ret = av_read_frame(format.get(), packet.get());
    if (ret == AVERROR_EOF) break;
    if (ret < 0 || (packet->stream_index == video && (packet->flags & AV_PKT_FLAG_CORRUPT))) {
      // What came before is whole and decodable; what follows may refer to the damage.
      Skip(segment,
           absl::StrCat(
               "damaged after ", read, " packets",
               ret < 0 ? absl::StrCat(
                             ": ",
                             ingest::AvErrorToStatus(ret, ingest::AvPhase::kRead, "read").message())
                       : std::string(" (corrupt packet)"),
               "; the part before was used"),
           true);
      break;
    }
    if (packet->stream_index != video) {
      av_packet_unref(packet.get());
      continue;
    }
    if (packet->dts == AV_NOPTS_VALUE) packet->dts = packet->pts;
    if (packet->pts == AV_NOPTS_VALUE) packet->pts = packet->dts;
    if (packet->pts == AV_NOPTS_VALUE) {
      av_packet_unref(packet.get());
      continue;
    }
    ++read;
    if (input.first_pts == AV_NOPTS_VALUE) input.first_pts = packet->pts;
    const bool key = (packet->flags & AV_PKT_FLAG_KEY) != 0;
    const int64_t wall_pts = input.WallMs(packet->pts);
    const int64_t wall_dts = input.WallMs(packet->dts);
    segment_end_wall_ms = std::max(
        segment_end_wall_ms,
        wall_pts + av_rescale_q(std::max<int64_t>(packet->duration, 0), input.time_base, kMs));
    // Everything from to_ms on is left out: a packet decoded at or after it, or a keyframe
    // shown at or after it (nothing before to_ms can depend on that one).
    if (wall_dts >= to_ms_ || (key && wall_pts >= to_ms_)) {
      done_ = true;
      av_packet_unref(packet.get());
      break;
    }
    if (!started_) {
      if (key && wall_pts <= from_ms_) {
        // A later keyframe at or before from_ms: the clip starts there instead.
        pending_.clear();
        pending_.emplace_back(av_packet_clone(packet.get()));
      } else if (key) {
        // The first keyframe after from_ms: the clip starts with the pending GOP, or here
        // when the recording began after from_ms.
        CUSTOS_RETURN_IF_ERROR(FlushPending(input));
        CUSTOS_RETURN_IF_ERROR(WritePacket(input, packet.get()));
      } else if (!pending_.empty()) {
        pending_.emplace_back(av_packet_clone(packet.get()));
      }
      if (!pending_.empty() && pending_.back() == nullptr) {
        return absl::ResourceExhaustedError("out of memory buffering packets");
      }
    } else {
      CUSTOS_RETURN_IF_ERROR(WritePacket(input, packet.get()));
    }
    av_packet_unref(packet.get());
  }
  // The range starts in this segment's last GOP (or ends in its first one): use it, unless
  // the segment ended before from_ms (the range starts in a gap; the next keyframe starts
  // the clip).
  if (!started_ && !pending_.empty()) {
    if (segment_end_wall_ms > from_ms_ || done_) {
      CUSTOS_RETURN_IF_ERROR(FlushPending(input));
    } else {
      pending_.clear();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ClipInfo> ClipBuilder::Finish() {
  int ret = av_write_trailer(muxer_);
  if (ret < 0) return WriteError(ret);
  if (muxer_->pb->error < 0) return WriteError(muxer_->pb->error);
  ret = avio_closep(&muxer_->pb);
  if (ret < 0) return WriteError(ret);
  CloseOutput();
  if (options_.sync) CUSTOS_RETURN_IF_ERROR(SyncPath(part_path_, O_RDONLY));
  CUSTOS_ASSIGN_OR_RETURN(info_.sha256_hex, Sha256File(part_path_));
  std::error_code error;
  info_.bytes = static_cast<int64_t>(fs::file_size(part_path_, error));
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot read back clip ", part_path_, ": ", error.message()));
  }
  info_.end_ms = end_wall_ms_;
  info_.duration_ms = av_rescale_q(end_clip_ - first_pts_clip_, kClipTimeBase, kMs);
  if (::rename(part_path_.c_str(), out_path_.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot rename ", part_path_, " to ", out_path_));
  }
  part_created_ = false;
  if (options_.sync) {
    fs::path folder = fs::path(out_path_).parent_path();
    if (folder.empty()) folder = ".";
    // The rename is durable once the folder is synced; the clip itself already is.
    SyncPath(folder.string(), O_RDONLY | O_DIRECTORY).IgnoreError();
  }
  return info_;
}

}  // namespace

absl::StatusOr<ClipInfo> WriteClip(const std::string& data_dir,
                                   const std::vector<Segment>& segments, int64_t from_ms,
                                   int64_t to_ms, const std::string& out_path,
                                   const ClipOptions& options) {
  if (options.max_duration_ms < 1 || options.max_duration_ms > 86'400'000) {
    return absl::InvalidArgumentError("clip option max_duration_ms must be between 1 and 86400000");
  }
  if (from_ms >= to_ms) {
    return absl::InvalidArgumentError(absl::StrCat("a clip must end after it starts (from ",
                                                   FormatUtc(from_ms), " to ", FormatUtc(to_ms),
                                                   ")"));
  }
  if (to_ms - from_ms > options.max_duration_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("a clip may cover at most ", options.max_duration_ms / 1000, " s; ",
                     (to_ms - from_ms) / 1000, " s were asked for: export the range in parts"));
  }
  if (out_path.empty()) return absl::InvalidArgumentError("a clip needs an output file name");
  std::error_code error;
  if (fs::exists(out_path, error)) {
    return absl::AlreadyExistsError(
        absl::StrCat("clip ", out_path, " exists: choose another name or remove it"));
  }
  fs::path folder = fs::path(out_path).parent_path();
  if (folder.empty()) folder = ".";
  if (!fs::is_directory(folder, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write clip ", out_path, ": folder ", folder.string(),
                     " does not exist; create it or choose another"));
  }
  const std::string camera = segments.empty() ? std::string() : segments.front().camera;
  const std::string range = absl::StrCat(FormatUtc(from_ms), " to ", FormatUtc(to_ms));
  if (segments.empty()) {
    return absl::NotFoundError(absl::StrCat("nothing was recorded from ", range));
  }

  ClipBuilder clip(data_dir, from_ms, to_ms, out_path, options);
  for (const Segment& segment : segments) {
    CUSTOS_RETURN_IF_ERROR(clip.AddSegment(segment));
    if (clip.done()) break;
  }
  if (!clip.started()) {
    std::vector<std::string> problems;
    for (const SkippedSegment& skipped : clip.info().skipped) {
      problems.push_back(absl::StrCat(skipped.path, ": ", skipped.reason));
    }
    if (clip.damaged() > 0) {
      return absl::DataLossError(
          absl::StrCat("camera ", camera, " has no usable recording from ", range,
                       "; damaged or missing: ", absl::StrJoin(problems, "; ")));
    }
    if (clip.open_skipped() > 0) {
      return absl::UnavailableError(
          absl::StrCat("camera ", camera, " from ", range,
                       " is still being recorded; export it again once its segment is closed "
                       "(within the segment length, 10 s by default)"));
    }
    return absl::NotFoundError(absl::StrCat("camera ", camera, " recorded nothing from ", range));
  }
  return clip.Finish();
}

absl::StatusOr<ClipInfo> WriteClip(SegmentIndex& index, const std::string& camera, int64_t from_ms,
                                   int64_t to_ms, const std::string& out_path,
                                   const ClipOptions& options) {
  CUSTOS_RETURN_IF_ERROR(ValidateCameraId(camera));
  if (from_ms >= to_ms || to_ms - from_ms > options.max_duration_ms) {
    // The same checks, before the index is asked.
    return WriteClip(index.data_dir(), {}, from_ms, to_ms, out_path, options);
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Segment> segments, index.Overlapping(camera, from_ms, to_ms));
  if (segments.empty()) {
    return absl::NotFoundError(absl::StrCat("camera ", camera, " recorded nothing from ",
                                            FormatUtc(from_ms), " to ", FormatUtc(to_ms)));
  }
  return WriteClip(index.data_dir(), segments, from_ms, to_ms, out_path, options);
}

}  // namespace custos::record
