#include "ingest/video_source.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "ingest/av_error.h"
#include "spdlog/spdlog.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace custos::ingest {
namespace {

// Buffers kept for reuse in Frame.bgr. A caller that holds more frames than this at once
// (a queue downstream) gets freshly allocated ones for the excess.
constexpr size_t kPoolSize = 4;
// How long closing a connection may take: RTSP says TEARDOWN to a server that may be gone.
constexpr int64_t kCloseTimeoutMs = 500;
// A file whose demuxer fails this many times in a row cannot be read further.
constexpr int kMaxConsecutiveReadErrors = 64;
// pts stepping back by more than this within one connection is a discontinuity (camera
// restarted its clock), not jitter: the timeline is spliced so pts_ms keeps increasing.
constexpr int64_t kBackwardJumpMs = 1000;
constexpr int64_t kUnset = INT64_MIN;

absl::Status ValidateOptions(const SourceOptions& o) {
  auto bad = [](absl::string_view field, absl::string_view rule) {
    return absl::InvalidArgumentError(absl::StrCat("source option ", field, " ", rule));
  };
  if (o.rtsp_transport != "tcp" && o.rtsp_transport != "udp") {
    return bad("rtsp_transport",
               absl::StrCat("must be \"tcp\" or \"udp\", not \"", o.rtsp_transport, "\""));
  }
  if (!(o.detect_fps >= 0 && o.detect_fps <= 1000)) {
    return bad("detect_fps", "must be between 0 (every frame) and 1000");
  }
  if (o.detect_width < 0 || o.detect_width > 8192 || o.detect_height < 0 ||
      o.detect_height > 8192) {
    return bad("detect_width/detect_height", "must be between 0 (keep aspect) and 8192");
  }
  if (o.full_frame_max_width < 0 || o.full_frame_max_width > 8192) {
    return bad("full_frame_max_width", "must be between 0 (none) and 8192");
  }
  if (o.stall_timeout_ms < 100 || o.open_timeout_ms < 100) {
    return bad("stall_timeout_ms/open_timeout_ms", "must be at least 100");
  }
  if (o.reconnect_initial_ms < 1 || o.reconnect_max_ms < o.reconnect_initial_ms) {
    return bad("reconnect_initial_ms/reconnect_max_ms",
               "must satisfy 1 <= reconnect_initial_ms <= reconnect_max_ms");
  }
  if (o.max_reconnects < -1) return bad("max_reconnects", "must be -1 (unlimited) or >= 0");
  if (o.decoder_threads < 0 || o.decoder_threads > 64) {
    return bad("decoder_threads", "must be between 0 (FFmpeg chooses) and 64");
  }
  if (o.read_ahead_frames < 0 || o.read_ahead_frames > 64) {
    return bad("read_ahead_frames", "must be between 0 (no reader thread) and 64");
  }
  return absl::OkStatus();
}

int64_t ToMs(int64_t value, AVRational time_base) {
  return av_rescale_q(value, time_base, AVRational{1, 1000});
}

int RoundToEven(double value) { return std::max(2, 2 * static_cast<int>(std::lround(value / 2))); }

struct DictDeleter {
  void operator()(AVDictionary* d) const { av_dict_free(&d); }
};

}  // namespace

void VideoSource::FfmpegDeleter::operator()(AVFormatContext* p) const { avformat_close_input(&p); }
void VideoSource::FfmpegDeleter::operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
void VideoSource::FfmpegDeleter::operator()(AVPacket* p) const { av_packet_free(&p); }
void VideoSource::FfmpegDeleter::operator()(AVFrame* p) const { av_frame_free(&p); }
void VideoSource::FfmpegDeleter::operator()(SwsContext* p) const { sws_freeContext(p); }

VideoSource::VideoSource(const SourceOptions& options, ParsedUrl url, Clock* clock)
    : options_(options),
      url_(std::move(url)),
      redacted_url_(RedactUrl(options.url)),
      clock_(clock),
      packet_(av_packet_alloc()),
      frame_(av_frame_alloc()),
      jitter_(static_cast<std::minstd_rand::result_type>(clock->MonotonicMs())) {}

VideoSource::~VideoSource() {
  if (reader_.joinable()) {
    interrupted_.store(true);
    reader_.join();
  }
  if (options_.packet_queue) options_.packet_queue->Close();
  Disconnect();
}

absl::StatusOr<std::unique_ptr<VideoSource>> VideoSource::Open(const SourceOptions& options,
                                                               Clock* clock) {
  if (clock == nullptr) return absl::InvalidArgumentError("VideoSource::Open needs a clock");
  CUSTOS_RETURN_IF_ERROR(ValidateOptions(options));
  CUSTOS_ASSIGN_OR_RETURN(ParsedUrl url, ParseUrl(options.url));
  if (url.kind == UrlKind::kFile) {
    std::error_code error;
    const auto status = std::filesystem::status(url.path, error);
    if (error && error != std::errc::no_such_file_or_directory &&
        error != std::errc::not_a_directory) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot access video file ", url.path, ": ", error.message()));
    }
    if (!std::filesystem::exists(status)) {
      return absl::NotFoundError(absl::StrCat("video file not found: ", url.path));
    }
    if (std::filesystem::is_directory(status)) {
      return absl::InvalidArgumentError(
          absl::StrCat("video path is a directory, not a file: ", url.path));
    }
  }
  RouteFfmpegLogsToSpdlog();
  std::unique_ptr<VideoSource> source(new VideoSource(options, std::move(url), clock));
  if (!source->packet_ || !source->frame_) {
    return absl::ResourceExhaustedError("out of memory allocating FFmpeg packet/frame");
  }
  CUSTOS_RETURN_IF_ERROR(source->Connect());
  source->open_wall_ms_ = clock->WallMs();
  source->open_mono_ms_ = clock->MonotonicMs();
  if (options.read_ahead_frames > 0) {
    source->reader_ = std::thread(&VideoSource::ReaderLoop, source.get());
  }
  return source;
}

absl::Status VideoSource::Connect() {
  const bool is_file = url_.kind == UrlKind::kFile;
  const std::string context = is_file ? absl::StrCat("cannot read video ", url_.path)
                                      : absl::StrCat("cannot open camera stream ", redacted_url_);
  SetDeadline(options_.open_timeout_ms);
  // Maps a failure while opening, telling an expired deadline from a real error.
  // FFmpeg reports an interrupted call variously (AVERROR_EXIT, or AVERROR_INVALIDDATA when
  // an RTSP reply was cut off), so the interrupt flags are checked first.
  auto open_error = [&](int averror) -> absl::Status {
    if (interrupted_.load()) {
      return absl::CancelledError(absl::StrCat("interrupted while opening ", redacted_url_));
    }
    if (deadline_hit_.load()) {
      return absl::UnavailableError(absl::StrCat(
          "no answer from ", redacted_url_, " within open_timeout_ms=", options_.open_timeout_ms,
          " ms (is the camera on and reachable from this host?)"));
    }
    return AvErrorToStatus(averror, is_file ? AvPhase::kOpenFile : AvPhase::kOpenStream, context);
  };

  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) return absl::ResourceExhaustedError("out of memory opening " + context);
  raw->interrupt_callback.callback = &VideoSource::InterruptCallback;
  raw->interrupt_callback.opaque = this;

  AVDictionary* dict = nullptr;
  const int64_t stall_us = int64_t{options_.stall_timeout_ms} * 1000;
  switch (url_.kind) {
    case UrlKind::kFile:
      av_dict_set(&dict, "protocol_whitelist", "file", 0);
      break;
    case UrlKind::kRtsp:
      av_dict_set(&dict, "rtsp_transport", options_.rtsp_transport.c_str(), 0);
      // FFmpeg's own socket timeout is a backstop; the interrupt callback fires first.
      av_dict_set_int(&dict, "timeout", stall_us + 1'000'000, 0);
      // Stream info is read from packets that are then handed out late, all at once:
      // limit that to about a second (FFmpeg's default is 5 s) to keep latency low.
      av_dict_set_int(&dict, "analyzeduration", 1'000'000, 0);
      // Only set up the video stream: no audio RTP ports, no audio bandwidth.
      av_dict_set(&dict, "allowed_media_types", "video", 0);
      av_dict_set(&dict, "protocol_whitelist", "rtsp,rtsps,rtp,srtp,udp,tcp,tls", 0);
      break;
    case UrlKind::kHttp:
      av_dict_set_int(&dict, "rw_timeout", stall_us + 1'000'000, 0);
      av_dict_set_int(&dict, "timeout", stall_us + 1'000'000, 0);
      // No file:, concat: etc. even if a playlist names them.
      av_dict_set(&dict, "protocol_whitelist", "http,https,tcp,tls,crypto", 0);
      break;
  }
  std::unique_ptr<AVDictionary, DictDeleter> dict_owner;
  int ret = avformat_open_input(&raw, url_.ffmpeg_url.c_str(), nullptr, &dict);
  dict_owner.reset(dict);               // Whatever FFmpeg did not consume.
  if (ret < 0) return open_error(ret);  // avformat_open_input freed `raw`.
  format_.reset(raw);

  ret = avformat_find_stream_info(format_.get(), nullptr);
  if (ret < 0) {
    absl::Status status = open_error(ret);
    format_.reset();
    return status;
  }
  const AVCodec* codec = nullptr;
  ret = av_find_best_stream(format_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (ret < 0) {
    format_.reset();
    return open_error(ret);
  }
  stream_index_ = ret;
  AVStream* stream = format_->streams[stream_index_];
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    if (static_cast<int>(i) != stream_index_) format_->streams[i]->discard = AVDISCARD_ALL;
  }
  if (stream->codecpar->width <= 0 || stream->codecpar->height <= 0) {
    format_.reset();
    return absl::DataLossError(
        absl::StrCat(context, ": the video stream has no picture size (damaged headers?)"));
  }

  decoder_.reset(avcodec_alloc_context3(codec));
  if (!decoder_) return absl::ResourceExhaustedError("out of memory opening " + context);
  ret = avcodec_parameters_to_context(decoder_.get(), stream->codecpar);
  if (ret < 0) return open_error(ret);
  decoder_->pkt_timebase = stream->time_base;
  decoder_->thread_count = options_.decoder_threads;
  // Damaged frames must not reach the detectors: drop them, and count what still comes out
  // flagged (decode_error_flags / AV_FRAME_FLAG_CORRUPT).
  decoder_->flags &= ~AV_CODEC_FLAG_OUTPUT_CORRUPT;
  ret = avcodec_open2(decoder_.get(), codec, nullptr);
  if (ret < 0) {
    decoder_.reset();
    format_.reset();
    return open_error(ret);
  }

  StreamInfo info;
  info.codec = codec->name;
  info.width = stream->codecpar->width;
  info.height = stream->codecpar->height;
  const AVRational rate = av_guess_frame_rate(format_.get(), stream, nullptr);
  info.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
  info.live = url_.kind == UrlKind::kRtsp ||
              (url_.kind == UrlKind::kHttp && format_->duration == AV_NOPTS_VALUE);
  if (!info.live) {
    if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
      info.duration_ms = ToMs(stream->duration, stream->time_base);
    } else if (format_->duration != AV_NOPTS_VALUE && format_->duration > 0) {
      info.duration_ms = ToMs(format_->duration, AV_TIME_BASE_Q);
    } else {
      info.duration_ms = 0;
    }
  }
  frame_interval_ms_ = info.fps > 0 ? std::max<int64_t>(1, std::lround(1000 / info.fps)) : 40;
  live_ = info.live;
  {
    absl::MutexLock lock(&mu_);
    info_ = std::move(info);
  }
  pts_origin_ = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : kUnset;
  connect_mono_ms_ = clock_->MonotonicMs();
  draining_ = false;
  consecutive_read_errors_ = 0;
  NewStreamParameters();
  return absl::OkStatus();
}

void VideoSource::Disconnect() {
  SetDeadline(kCloseTimeoutMs);
  decoder_.reset();
  format_.reset();
  av_packet_unref(packet_.get());
  packet_pending_ = false;
  stall_pending_ = false;
  draining_ = false;
}

void VideoSource::SetDeadline(int64_t timeout_ms) {
  deadline_hit_.store(false);
  deadline_mono_ms_.store(clock_->MonotonicMs() + timeout_ms);
}

int VideoSource::InterruptCallback(void* opaque) {
  auto* self = static_cast<VideoSource*>(opaque);
  if (self->interrupted_.load(std::memory_order_relaxed)) return 1;
  if (self->clock_->MonotonicMs() >= self->deadline_mono_ms_.load(std::memory_order_relaxed)) {
    self->deadline_hit_.store(true);
    return 1;
  }
  return 0;
}

void VideoSource::Interrupt() { interrupted_.store(true); }

bool VideoSource::SleepMs(int64_t ms) {
  // Short slices instead of a condition variable, so that Interrupt() is a bare atomic
  // store and safe to call from a signal handler.
  constexpr int64_t kSliceMs = 10;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!interrupted_.load()) {
    const auto left = end - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(kSliceMs)));
  }
  return false;
}

SourceStats VideoSource::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

StreamInfo VideoSource::info() const {
  absl::MutexLock lock(&mu_);
  return info_;
}

void VideoSource::SetLastError(const std::string& error) {
  absl::MutexLock lock(&mu_);
  stats_.last_error = error;
}

void VideoSource::CountCorrupt(int averror) {
  const absl::Status status = AvErrorToStatus(
      averror, AvPhase::kDecode, absl::StrCat("damaged video data from ", redacted_url_));
  absl::MutexLock lock(&mu_);
  ++stats_.frames_corrupt;
  stats_.last_error = std::string(status.message());
}

absl::StatusOr<Frame> VideoSource::Next() {
  return reader_.joinable() ? NextFromReader() : NextLatched();
}

absl::StatusOr<Frame> VideoSource::NextLatched() {
  if (!terminal_.ok()) return terminal_;
  absl::StatusOr<Frame> frame = NextUnlatched();
  if (!frame.ok()) {
    terminal_ = frame.status();
    if (!absl::IsOutOfRange(terminal_) && !absl::IsCancelled(terminal_)) {
      SetLastError(std::string(terminal_.message()));
    }
    // No more packets will come from this source.
    if (options_.packet_queue) options_.packet_queue->Close();
  }
  return frame;
}

void VideoSource::ReaderLoop() {
  const size_t capacity = static_cast<size_t>(options_.read_ahead_frames);
  // Files read as fast as possible lose nothing by waiting for the caller; a live or paced
  // source must not: its packets keep coming, and recording must get them on time.
  const bool drop_when_behind = live_ || options_.realtime;
  for (;;) {
    absl::StatusOr<Frame> frame = NextLatched();
    const bool last = !frame.ok();
    absl::MutexLock lock(&ahead_mu_);
    if (!last) {
      if (drop_when_behind) {
        int64_t dropped = 0;
        while (ahead_.size() >= capacity) {
          ahead_.pop_front();
          ++dropped;
        }
        if (dropped > 0) {
          absl::MutexLock stats_lock(&mu_);
          stats_.frames_dropped += dropped;
          stats_.frames_emitted -= dropped;
        }
      } else {
        auto space = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ahead_mu_) {
          return ahead_.size() < capacity || interrupted_.load();
        };
        while (!space()) {
          ahead_mu_.AwaitWithTimeout(absl::Condition(&space), absl::Milliseconds(10));
        }
      }
    }
    ahead_.push_back(std::move(frame));
    if (last) return;
  }
}

absl::StatusOr<Frame> VideoSource::NextFromReader() {
  for (;;) {
    if (interrupted_.load()) {
      return absl::CancelledError(absl::StrCat("reading ", redacted_url_, " was interrupted"));
    }
    absl::MutexLock lock(&ahead_mu_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ahead_mu_) { return !ahead_.empty(); };
    // Short waits, so that Interrupt() can stay a bare atomic store.
    ahead_mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(10));
    if (ahead_.empty()) continue;
    if (!ahead_.front().ok()) return ahead_.front().status();  // The last entry; kept.
    absl::StatusOr<Frame> frame = std::move(ahead_.front());
    ahead_.pop_front();
    return frame;
  }
}

void VideoSource::NewStreamParameters() {
  if (!options_.packet_queue) return;
  const AVStream* stream = format_->streams[stream_index_];
  auto params = std::make_shared<StreamParameters>();
  if (params->codecpar == nullptr ||
      avcodec_parameters_copy(params->codecpar, stream->codecpar) < 0) {
    stream_params_.reset();  // Packets are not offered until parameters exist.
    SetLastError("out of memory copying codec parameters for recording");
    return;
  }
  params->time_base = stream->time_base;
  params->epoch = next_epoch_++;
  params->codec = avcodec_get_name(stream->codecpar->codec_id);
  stream_params_ = std::move(params);
  packet_wall_base_ms_ = kUnset;  // Files: re-anchored at the first packet of the epoch.
}

void VideoSource::OfferPacketForRecording() {
  if (!options_.packet_queue) return;
  auto count_drop = [this] {
    absl::MutexLock lock(&mu_);
    const int64_t dropped = ++stats_.packets_dropped_for_recording;
    if (dropped == 1 || dropped % 1000 == 0) {
      spdlog::warn("camera {}: {} packet(s) not recorded: the recorder's queue is full",
                   redacted_url_, dropped);
    }
  };
  if (!stream_params_) return count_drop();
  EncodedPacket out;
  out.packet.reset(av_packet_alloc());
  if (!out.packet || av_packet_ref(out.packet.get(), packet_.get()) < 0) return count_drop();
  out.stream = stream_params_;
  if (live_) {
    out.wall_ms = clock_->WallMs();
  } else {
    const AVStream* stream = format_->streams[stream_index_];
    const int64_t ts = packet_->pts != AV_NOPTS_VALUE ? packet_->pts : packet_->dts;
    const int64_t start = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
    const int64_t rel_ms = ts == AV_NOPTS_VALUE ? 0 : ToMs(ts - start, stream->time_base);
    if (packet_wall_base_ms_ == kUnset) {
      packet_wall_base_ms_ =
          (last_packet_wall_ms_ == kUnset ? open_wall_ms_
                                          : last_packet_wall_ms_ + frame_interval_ms_) -
          rel_ms;
    }
    out.wall_ms = packet_wall_base_ms_ + rel_ms;
  }
  if (last_packet_wall_ms_ == kUnset || out.wall_ms > last_packet_wall_ms_) {
    last_packet_wall_ms_ = out.wall_ms;
  }
  if (!options_.packet_queue->TryPush(std::move(out))) count_drop();
}

absl::StatusOr<Frame> VideoSource::NextUnlatched() {
  for (;;) {
    if (interrupted_.load()) {
      return absl::CancelledError(absl::StrCat("reading ", redacted_url_, " was interrupted"));
    }
    absl::Status loss;
    CUSTOS_ASSIGN_OR_RETURN(const ReadResult result, ReadAndDecode(loss));
    if (result == ReadResult::kEndOfStream) {
      if (live_) {
        loss = absl::UnavailableError("the stream ended (the camera closed the connection)");
      } else if (options_.loop && url_.kind == UrlKind::kFile) {
        CUSTOS_RETURN_IF_ERROR(Rewind());
        continue;
      } else {
        return absl::OutOfRangeError(absl::StrCat("end of video ", redacted_url_));
      }
    }
    if (!loss.ok()) {
      if (!live_) return loss;
      CUSTOS_RETURN_IF_ERROR(Reconnect(loss));
      continue;
    }

    // A decoded frame is in frame_.
    if (frame_->decode_error_flags != 0 || (frame_->flags & AV_FRAME_FLAG_CORRUPT) != 0) {
      av_frame_unref(frame_.get());
      absl::MutexLock lock(&mu_);
      ++stats_.frames_corrupt;
      stats_.last_error = absl::StrCat("damaged frame from ", redacted_url_, " skipped");
      continue;
    }
    const int64_t pts_ms = FramePtsMs();
    const int64_t wall_ms = live_ ? clock_->WallMs() : open_wall_ms_ + pts_ms;
    if (in_outage_) {
      in_outage_ = false;
      outage_attempts_ = 0;
      spdlog::info("camera {}: frames are back after {} ms", redacted_url_,
                   wall_ms - outage_start_wall_ms_);
      absl::MutexLock lock(&mu_);
      stats_.gaps.push_back(Gap{outage_start_wall_ms_, wall_ms, outage_reason_});
    }
    last_frame_wall_ms_ = wall_ms;
    if (!IsDue(pts_ms, /*commit=*/true)) {
      av_frame_unref(frame_.get());
      continue;
    }
    if (options_.realtime && !live_) {
      // Pace at native speed. A consumer that fell more than a second behind re-anchors
      // the schedule instead of getting a burst of catch-up frames.
      int64_t wait_ms = open_mono_ms_ + pts_ms - clock_->MonotonicMs();
      if (wait_ms < -1000) {
        open_mono_ms_ -= wait_ms;
        wait_ms = 0;
      }
      if (!SleepMs(wait_ms)) {
        return absl::CancelledError(absl::StrCat("reading ", redacted_url_, " was interrupted"));
      }
    }
    Frame out;
    CUSTOS_ASSIGN_OR_RETURN(out.bgr, Convert());
    if (options_.full_frame_max_width > 0) {
      CUSTOS_ASSIGN_OR_RETURN(out.full, ConvertFull());
    }
    out.index = next_index_++;
    out.pts_ms = pts_ms;
    out.wall_ms = wall_ms;
    out.source_width = frame_->width;
    out.source_height = frame_->height;
    av_frame_unref(frame_.get());
    absl::MutexLock lock(&mu_);
    ++stats_.frames_emitted;
    return out;
  }
}

absl::StatusOr<VideoSource::ReadResult> VideoSource::ReadAndDecode(absl::Status& loss) {
  bool renew_deadline = true;
  for (;;) {
    int ret = avcodec_receive_frame(decoder_.get(), frame_.get());
    if (ret == 0) {
      absl::MutexLock lock(&mu_);
      ++stats_.frames_decoded;
      return ReadResult::kFrame;
    }
    if (ret == AVERROR_EOF) return ReadResult::kEndOfStream;
    if (ret != AVERROR(EAGAIN)) CountCorrupt(ret);  // Then go on with the next packet.
    if (draining_) return ReadResult::kEndOfStream;
    if (packet_pending_) {
      packet_pending_ = false;
      ret = avcodec_send_packet(decoder_.get(), packet_.get());
      av_packet_unref(packet_.get());
      if (ret < 0) CountCorrupt(ret);
      continue;
    }

    if (interrupted_.load()) {
      return absl::CancelledError(absl::StrCat("reading ", redacted_url_, " was interrupted"));
    }
    if (renew_deadline) SetDeadline(options_.stall_timeout_ms);
    renew_deadline = true;
    // A read cut short by the stall deadline may still return packets the demuxer held
    // back (FFmpeg flushes its parser on errors); the stall counts from the first cut.
    ret = stall_pending_ ? AVERROR_EXIT : av_read_frame(format_.get(), packet_.get());
    if (ret == AVERROR(EAGAIN)) {  // Nothing yet; the stall deadline keeps running.
      renew_deadline = false;
      SleepMs(5);
      continue;
    }
    if (ret < 0) {
      if (interrupted_.load()) {
        return absl::CancelledError(absl::StrCat("reading ", redacted_url_, " was interrupted"));
      }
      if (stall_pending_ || deadline_hit_.load() || ret == AVERROR(ETIMEDOUT)) {
        stall_pending_ = false;
        {
          absl::MutexLock lock(&mu_);
          ++stats_.stalls;
        }
        loss = absl::UnavailableError(
            absl::StrCat("stalled: no packet for ", options_.stall_timeout_ms, " ms"));
        spdlog::warn("camera {}: {}", redacted_url_, std::string(loss.message()));
        return ReadResult::kLost;
      }
      if (ret == AVERROR_EOF) {
        if (live_) return ReadResult::kEndOfStream;
        draining_ = true;
        avcodec_send_packet(decoder_.get(), nullptr);  // Flush; frames follow, then EOF.
        continue;
      }
      const absl::Status status =
          AvErrorToStatus(ret, AvPhase::kRead, absl::StrCat("cannot read from ", redacted_url_));
      if (live_) {
        loss = status;
        return ReadResult::kLost;
      }
      // A file: skip damaged stretches, give up if the demuxer makes no progress.
      if (ret != AVERROR_INVALIDDATA) {
        loss = status;
        return ReadResult::kLost;
      }
      if (++consecutive_read_errors_ < kMaxConsecutiveReadErrors) {
        CountCorrupt(ret);
        continue;
      }
      loss = absl::DataLossError(
          absl::StrCat(status.message(), " (", consecutive_read_errors_, " read errors in a row)"));
      return ReadResult::kLost;
    }
    consecutive_read_errors_ = 0;
    if (deadline_hit_.load()) stall_pending_ = true;
    if (packet_->stream_index != stream_index_) {
      av_packet_unref(packet_.get());
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      ++stats_.packets;
    }
    // Recording first: every packet, damaged or not, before decoding can be slow.
    OfferPacketForRecording();
    if ((packet_->flags & AV_PKT_FLAG_CORRUPT) != 0) {
      av_packet_unref(packet_.get());
      CountCorrupt(AVERROR_INVALIDDATA);
      continue;
    }
    // Frames that will not be emitted need decoding only if later frames refer to them:
    // let the decoder skip the non-reference ones (most B-frames).
    decoder_->skip_frame = PacketIsSkippable() ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
    ret = avcodec_send_packet(decoder_.get(), packet_.get());
    if (ret == AVERROR(EAGAIN)) {  // Frames must be taken out first; send it again then.
      packet_pending_ = true;
      continue;
    }
    av_packet_unref(packet_.get());
    if (ret < 0) CountCorrupt(ret);
  }
}

bool VideoSource::PacketIsSkippable() {
  if (options_.detect_fps <= 0 || rebase_pending_ || pts_origin_ == kUnset ||
      packet_->pts == AV_NOPTS_VALUE || (packet_->flags & AV_PKT_FLAG_KEY) != 0) {
    return false;
  }
  const AVRational time_base = format_->streams[stream_index_]->time_base;
  const int64_t pts_ms = ToMs(packet_->pts - pts_origin_, time_base) + pts_offset_ms_;
  return !IsDue(pts_ms, /*commit=*/false);
}

absl::Status VideoSource::Reconnect(const absl::Status& loss) {
  const std::string reason(loss.message());
  SetLastError(reason);
  if (!in_outage_) {
    in_outage_ = true;
    outage_start_wall_ms_ = last_frame_wall_ms_ != 0 ? last_frame_wall_ms_ : clock_->WallMs();
    outage_reason_ = reason;
    outage_delay_ms_ = options_.reconnect_initial_ms;
  }
  Disconnect();
  absl::Status last = loss;
  while (options_.max_reconnects < 0 || outage_attempts_ < options_.max_reconnects) {
    ++outage_attempts_;
    // "Equal jitter": half the delay fixed, half random, so cameras that dropped together
    // do not reconnect together.
    const int64_t half = outage_delay_ms_ / 2;
    const int64_t delay_ms =
        half + std::uniform_int_distribution<int64_t>(0, outage_delay_ms_ - half)(jitter_);
    spdlog::warn("camera {}: {}; reconnect attempt {} in {} ms", redacted_url_,
                 std::string(last.message()), outage_attempts_, delay_ms);
    outage_delay_ms_ = std::min<int64_t>(outage_delay_ms_ * 2, options_.reconnect_max_ms);
    if (!SleepMs(delay_ms)) {
      return absl::CancelledError(absl::StrCat("reading ", redacted_url_, " was interrupted"));
    }
    last = Connect();
    if (last.ok()) {
      rebase_pending_ = true;
      absl::MutexLock lock(&mu_);
      ++stats_.reconnects;
      return absl::OkStatus();
    }
    if (absl::IsCancelled(last)) return last;
    SetLastError(std::string(last.message()));
  }
  return absl::UnavailableError(
      absl::StrCat("camera stream ", redacted_url_, " lost (", reason, ") and ", outage_attempts_,
                   " reconnect attempt(s) failed; last error: ", last.message()));
}

absl::Status VideoSource::Rewind() {
  const AVStream* stream = format_->streams[stream_index_];
  const int64_t start = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
  SetDeadline(options_.open_timeout_ms);
  if (av_seek_frame(format_.get(), stream_index_, start, AVSEEK_FLAG_BACKWARD) >= 0) {
    avcodec_flush_buffers(decoder_.get());
    draining_ = false;
    NewStreamParameters();
  } else {  // Not seekable: open it again.
    Disconnect();
    CUSTOS_RETURN_IF_ERROR(Connect());
  }
  rebase_pending_ = true;
  return absl::OkStatus();
}

int64_t VideoSource::FramePtsMs() {
  const AVRational time_base = format_->streams[stream_index_]->time_base;
  const int64_t pts = frame_->best_effort_timestamp;
  int64_t raw_ms = 0;
  if (pts != AV_NOPTS_VALUE) {
    if (pts_origin_ == kUnset) pts_origin_ = pts;
    raw_ms = ToMs(pts - pts_origin_, time_base);
  } else if (live_) {  // No timestamps at all: use the arrival time.
    raw_ms = clock_->MonotonicMs() - connect_mono_ms_;
  } else {
    raw_ms = last_pts_ms_ == kUnset ? 0 : last_pts_ms_ + frame_interval_ms_ - pts_offset_ms_;
  }
  if (rebase_pending_) {
    // Splice a new connection or loop onto the timeline: after an outage the timeline
    // advances by the wall-clock time without frames; after a loop, by one frame.
    rebase_pending_ = false;
    int64_t start_ms = 0;
    if (last_pts_ms_ != kUnset) {
      const int64_t gap_ms = live_ ? clock_->WallMs() - last_frame_wall_ms_ : 0;
      start_ms = last_pts_ms_ + std::max(frame_interval_ms_, gap_ms);
    }
    pts_offset_ms_ = start_ms - raw_ms;
  }
  int64_t pts_ms = raw_ms + pts_offset_ms_;
  if (last_pts_ms_ != kUnset && pts_ms < last_pts_ms_ - kBackwardJumpMs) {
    spdlog::warn("camera {}: timestamps jumped back {} ms; continuing the timeline", redacted_url_,
                 last_pts_ms_ - pts_ms);
    pts_offset_ms_ += last_pts_ms_ + frame_interval_ms_ - pts_ms;
    pts_ms = last_pts_ms_ + frame_interval_ms_;
  }
  if (last_pts_ms_ == kUnset || pts_ms > last_pts_ms_) last_pts_ms_ = pts_ms;
  return pts_ms;
}

bool VideoSource::IsDue(int64_t pts_ms, bool commit) {
  if (options_.detect_fps <= 0) return true;
  const double interval_ms = 1000.0 / options_.detect_fps;
  // Timestamps jitter and round; half a source frame of slack still picks exactly one
  // frame per slot.
  const double slack_ms = std::min(static_cast<double>(frame_interval_ms_), interval_ms) / 2;
  const auto pts = static_cast<double>(pts_ms);
  if (pts + slack_ms < next_due_ms_) return false;
  if (commit) {
    next_due_ms_ += interval_ms;
    if (next_due_ms_ <= pts) next_due_ms_ = pts + interval_ms;  // After a gap or a start.
  }
  return true;
}

absl::StatusOr<cv::Mat> VideoSource::Convert() {
  const int src_width = frame_->width;
  const int src_height = frame_->height;
  int width = options_.detect_width;
  int height = options_.detect_height;
  if (width == 0 || height == 0) {
    // Keep the display aspect ratio, honouring non-square pixels.
    const AVRational sar = frame_->sample_aspect_ratio;
    const double aspect = static_cast<double>(src_width) / src_height *
                          (sar.num > 0 && sar.den > 0 ? av_q2d(sar) : 1.0);
    if (width == 0 && height == 0) {
      width = src_width;
      height = src_height;
    } else if (width == 0) {
      width = RoundToEven(height * aspect);
    } else {
      height = RoundToEven(width / aspect);
    }
  }

  CUSTOS_RETURN_IF_ERROR(PrepareScaler(scaler_, width, height));

  // Reuse a pooled buffer that no caller holds any more; else allocate.
  cv::Mat* target = nullptr;
  for (cv::Mat& mat : pool_) {
    if (mat.rows != height || mat.cols != width) {
      mat.create(height, width, CV_8UC3);  // Old size: our reference is the only one we drop.
      target = &mat;
      break;
    }
    if (mat.u != nullptr && std::atomic_ref<int>(mat.u->refcount).load() == 1) {
      target = &mat;
      break;
    }
  }
  cv::Mat fresh;
  if (target == nullptr) {
    if (pool_.size() < kPoolSize) {
      target = &pool_.emplace_back(height, width, CV_8UC3);
    } else {
      fresh.create(height, width, CV_8UC3);
      target = &fresh;
    }
  }
  uint8_t* const dst[4] = {target->data, nullptr, nullptr, nullptr};
  const int dst_stride[4] = {static_cast<int>(target->step[0]), 0, 0, 0};
  sws_scale(scaler_.sws.get(), frame_->data, frame_->linesize, 0, src_height, dst, dst_stride);
  return *target;  // Shares the buffer: refcount 2 until the caller lets go.
}

absl::StatusOr<cv::Mat> VideoSource::ConvertFull() {
  int width = frame_->width;
  int height = frame_->height;
  if (width > options_.full_frame_max_width) {
    height = std::max(
        2, RoundToEven(static_cast<double>(height) * options_.full_frame_max_width / width));
    width = options_.full_frame_max_width;
  }
  CUSTOS_RETURN_IF_ERROR(PrepareScaler(full_scaler_, width, height));
  cv::Mat out(height, width, CV_8UC3);
  uint8_t* const dst[4] = {out.data, nullptr, nullptr, nullptr};
  const int dst_stride[4] = {static_cast<int>(out.step[0]), 0, 0, 0};
  sws_scale(full_scaler_.sws.get(), frame_->data, frame_->linesize, 0, frame_->height, dst,
            dst_stride);
  return out;
}

absl::Status VideoSource::PrepareScaler(Scaler& scaler, int width, int height) {
  const int src_width = frame_->width;
  const int src_height = frame_->height;
  const auto src_format = static_cast<AVPixelFormat>(frame_->format);
  const SwsKey key{src_width, src_height,         static_cast<int>(src_format), width,
                   height,    frame_->colorspace, frame_->color_range};
  if (scaler.sws && key == scaler.key) return absl::OkStatus();
  scaler.sws.reset(sws_getContext(src_width, src_height, src_format, width, height,
                                  AV_PIX_FMT_BGR24, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!scaler.sws) {
    const char* name = av_get_pix_fmt_name(src_format);
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot convert ", name != nullptr ? name : "unknown", " ", src_width, "x", src_height,
        " video from ", redacted_url_, " to BGR (unsupported pixel format)"));
  }
  // Honour the stream's YUV matrix and range (BT.709 HD cameras, full-range "yuvj").
  const int range = frame_->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
  sws_setColorspaceDetails(scaler.sws.get(), sws_getCoefficients(frame_->colorspace), range,
                           sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
  scaler.key = key;
  return absl::OkStatus();
}

}  // namespace custos::ingest
