#include "privacy/clip_export.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/files.h"
#include "custos/status.h"
#include "ingest/av_error.h"
#include "plate/ocr_model.h"
#include "privacy/watermark.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace custos::privacy {
namespace {

namespace fs = std::filesystem;

constexpr AVRational kMs{1, 1000};

struct FfmpegFree {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
  void operator()(AVPacket* p) const { av_packet_free(&p); }
  void operator()(AVFrame* p) const { av_frame_free(&p); }
  void operator()(SwsContext* p) const { sws_freeContext(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, FfmpegFree>;

std::string AvText(int averror) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(averror, text, sizeof(text));
  return text;
}

bool KnownPreset(const std::string& preset) {
  for (const char* p : {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                        "slower", "veryslow", "placebo"}) {
    if (preset == p) return true;
  }
  return false;
}

absl::Status ValidateOptions(const ExportOptions& options, const MaskDetectors& detectors) {
  CUSTOS_RETURN_IF_ERROR(ValidateExportId(options.export_id));
  if (options.crf < 0 || options.crf > 51) {
    return absl::InvalidArgumentError(
        absl::StrCat("crf must be between 0 and 51, not ", options.crf));
  }
  if (!KnownPreset(options.preset)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown x264 preset '", options.preset,
                                                   "' (ultrafast ... veryfast ... placebo)"));
  }
  if (options.encoder_threads < 0 || options.encoder_threads > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("encoder_threads must be between 0 and 64, not ", options.encoder_threads));
  }
  if (options.blur_faces) {
    if (detectors.faces == nullptr) {
      return absl::InvalidArgumentError("a blurred export needs a face detector");
    }
    CUSTOS_RETURN_IF_ERROR(ValidateFaceMaskerOptions(options.masker));
    if (options.mask_plates) {
      // Fail-closed: an export that should mask plates is not made without them masked.
      if (detectors.text == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "a blurred export masks licence plates and needs the text detector, which is not "
            "loaded: export refused (provision model '",
            plate::kDefaultTextDetector,
            "' with tools/models/provision.py, or turn plate masking off: privacy.mask_plates)"));
      }
      CUSTOS_RETURN_IF_ERROR(ValidatePlateMaskerOptions(options.plates));
    }
  }
  return absl::OkStatus();
}

// A decoded frame waiting for the look-ahead of the temporal hold.
struct PendingFrame {
  int64_t index = 0;
  int64_t pts = 0;       // Input stream time base.
  int64_t duration = 0;  // Input stream time base.
  cv::Mat bgr;
};

// One export. Not thread-safe; one per ExportClip call. Removes its .part file unless
// Finish() renamed it.
class Exporter {
 public:
  Exporter(std::string input_path, std::string output_path, const MaskDetectors& detectors,
           const ExportOptions& options)
      : input_path_(std::move(input_path)),
        output_path_(std::move(output_path)),
        part_path_(output_path_ + ".part"),
        detectors_(detectors),
        options_(options),
        timeline_(options.masker.timeline) {}

  ~Exporter() {
    CloseMuxer();
    if (part_created_) {
      std::error_code error;
      fs::remove(part_path_, error);
    }
  }

  absl::Status Open();
  absl::Status Run();
  absl::StatusOr<ExportResult> Finish();

 private:
  absl::Status OpenEncoderAndMuxer();
  void CloseMuxer();
  absl::Status WriteError(int averror) {
    return ingest::AvErrorToStatus(averror, ingest::AvPhase::kWrite,
                                   absl::StrCat("cannot write export ", output_path_));
  }
  absl::Status DataLoss(int averror, const std::string& what) {
    return absl::DataLossError(absl::StrCat("video ", input_path_, " is damaged: ", what, " after ",
                                            result_.frames_in, " frames: ", AvText(averror)));
  }
  // Decoded frames waiting in frame_ are converted, detected and queued.
  absl::Status DrainDecoder();
  absl::Status TakeFrame();
  absl::Status Emit(PendingFrame& pending);
  absl::Status Encode(const AVFrame* frame);

  const std::string input_path_;
  const std::string output_path_;
  const std::string part_path_;
  const MaskDetectors detectors_;
  const ExportOptions& options_;
  std::unique_ptr<FaceMasker> masker_;
  MaskTimeline timeline_;
  std::unique_ptr<PlateMasker> plate_masker_;   // Null: plates not masked.
  std::optional<MaskTimeline> plate_timeline_;  // Set with plate_masker_.
  size_t delay_ = 0;  // Frames held back for the look-ahead of the timelines.

  Ptr<AVFormatContext> input_;
  int stream_index_ = -1;
  AVRational time_base_{1, 1};
  Ptr<AVCodecContext> decoder_;
  Ptr<AVCodecContext> encoder_;
  AVFormatContext* muxer_ = nullptr;
  bool part_created_ = false;
  Ptr<AVPacket> packet_{av_packet_alloc()};
  Ptr<AVPacket> out_packet_{av_packet_alloc()};
  Ptr<AVFrame> frame_{av_frame_alloc()};
  Ptr<AVFrame> yuv_{av_frame_alloc()};
  Ptr<SwsContext> to_bgr_;
  Ptr<SwsContext> to_yuv_;
  int to_bgr_key_[5] = {-1, -1, -1, -1, -1};

  int width_ = 0, height_ = 0;  // Output (even) size.
  int64_t frames_total_ = 0;
  int64_t frames_listed_ = 0;  // Frames the container's index lists; 0 if it does not say.
  int64_t default_duration_ = 1;
  int64_t last_pts_ = INT64_MIN;
  int64_t first_pts_ = INT64_MIN;
  int64_t end_pts_ = INT64_MIN;
  int64_t next_index_ = 0;
  std::deque<PendingFrame> pending_;
  std::map<int64_t, int64_t> durations_;  // pts -> duration of frames inside the encoder.
  ExportResult result_;
};

absl::Status Exporter::Open() {
  std::error_code error;
  if (!fs::exists(input_path_, error)) {
    return absl::NotFoundError(absl::StrCat("video ", input_path_, " does not exist"));
  }
  AVFormatContext* raw = nullptr;
  AVDictionary* open_options = nullptr;
  av_dict_set(&open_options, "protocol_whitelist", "file", 0);
  int ret =
      avformat_open_input(&raw, absl::StrCat("file:", input_path_).c_str(), nullptr, &open_options);
  av_dict_free(&open_options);
  if (ret < 0) {
    return ingest::AvErrorToStatus(ret, ingest::AvPhase::kOpenFile,
                                   absl::StrCat("cannot read video ", input_path_));
  }
  input_.reset(raw);
  ret = avformat_find_stream_info(input_.get(), nullptr);
  if (ret < 0) {
    return ingest::AvErrorToStatus(ret, ingest::AvPhase::kOpenFile,
                                   absl::StrCat("cannot read video ", input_path_));
  }
  const AVCodec* codec = nullptr;
  stream_index_ = av_find_best_stream(input_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream_index_ < 0 || codec == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("video ", input_path_, " has no video stream that can be decoded"));
  }
  AVStream* stream = input_->streams[stream_index_];
  time_base_ = stream->time_base;
  decoder_.reset(avcodec_alloc_context3(codec));
  if (decoder_ == nullptr || packet_ == nullptr || out_packet_ == nullptr || frame_ == nullptr ||
      yuv_ == nullptr) {
    return absl::ResourceExhaustedError("out of memory opening a decoder");
  }
  ret = avcodec_parameters_to_context(decoder_.get(), stream->codecpar);
  if (ret >= 0) {
    decoder_->pkt_timebase = time_base_;
    decoder_->thread_count = 1;
    ret = avcodec_open2(decoder_.get(), codec, nullptr);
  }
  if (ret < 0) {
    return ingest::AvErrorToStatus(ret, ingest::AvPhase::kOpenStream,
                                   absl::StrCat("cannot decode video ", input_path_));
  }
  if (stream->codecpar->width <= 0 || stream->codecpar->height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("video ", input_path_, " does not say its picture size"));
  }
  width_ = (stream->codecpar->width + 1) & ~1;
  height_ = (stream->codecpar->height + 1) & ~1;

  const AVRational rate = av_guess_frame_rate(input_.get(), stream, nullptr);
  const double fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
  if (fps > 0) {
    default_duration_ = std::max<int64_t>(1, av_rescale_q(1, av_inv_q(rate), time_base_));
  }
  frames_listed_ = stream->nb_frames > 0 ? stream->nb_frames : 0;
  frames_total_ = frames_listed_;
  if (frames_total_ == 0 && fps > 0) {
    const int64_t duration_ms = stream->duration > 0
                                    ? av_rescale_q(stream->duration, time_base_, kMs)
                                : input_->duration > 0 ? input_->duration / 1000
                                                       : 0;
    frames_total_ = std::llround(static_cast<double>(duration_ms) * fps / 1000);
  }
  if (options_.blur_faces) {
    CUSTOS_ASSIGN_OR_RETURN(masker_, FaceMasker::Create(detectors_.faces, options_.masker));
    delay_ = static_cast<size_t>(options_.masker.timeline.hold_before_frames);
    if (options_.mask_plates) {
      // Sampled by time: every SampleEvery(fps)-th frame of this video (every frame when its
      // rate is unknown).
      CUSTOS_ASSIGN_OR_RETURN(plate_masker_,
                              PlateMasker::Create(detectors_.text, options_.plates, fps));
      plate_timeline_.emplace(plate_masker_->timeline_options());
      delay_ = std::max(delay_,
                        static_cast<size_t>(plate_masker_->timeline_options().hold_before_frames));
    }
  }
  return OpenEncoderAndMuxer();
}

absl::Status Exporter::OpenEncoderAndMuxer() {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) {
    return absl::InternalError("this FFmpeg was built without libx264; install one with it");
  }
  const AVStream* in = input_->streams[stream_index_];
  encoder_.reset(avcodec_alloc_context3(codec));
  if (encoder_ == nullptr) return absl::ResourceExhaustedError("out of memory opening an encoder");
  encoder_->width = width_;
  encoder_->height = height_;
  encoder_->pix_fmt = AV_PIX_FMT_YUV420P;
  encoder_->time_base = time_base_;
  const AVRational rate = av_guess_frame_rate(input_.get(), const_cast<AVStream*>(in), nullptr);
  if (rate.num > 0 && rate.den > 0) {
    encoder_->framerate = rate;
    // A keyframe every 2 s, so that players seek in the export as in the recording.
    encoder_->gop_size = std::max(1, static_cast<int>(std::lround(2 * av_q2d(rate))));
  }
  encoder_->sample_aspect_ratio = in->codecpar->sample_aspect_ratio;
  encoder_->color_range = AVCOL_RANGE_MPEG;
  encoder_->colorspace = in->codecpar->color_space;
  encoder_->color_primaries = in->codecpar->color_primaries;
  encoder_->color_trc = in->codecpar->color_trc;
  encoder_->thread_count = options_.encoder_threads;
  encoder_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // MP4 keeps SPS/PPS in the avcC box.
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "preset", options_.preset.c_str(), 0);
  av_dict_set(&opts, "crf", std::to_string(options_.crf).c_str(), 0);
  av_dict_set(&opts, "profile", "high", 0);
  int ret = avcodec_open2(encoder_.get(), codec, &opts);
  av_dict_free(&opts);
  if (ret < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open the H.264 encoder (libx264): ", AvText(ret)));
  }

  const std::string url = absl::StrCat("file:", part_path_);
  ret = avformat_alloc_output_context2(&muxer_, nullptr, "mp4", url.c_str());
  if (ret < 0 || muxer_ == nullptr) {
    muxer_ = nullptr;
    return absl::ResourceExhaustedError("out of memory creating an MP4 muxer");
  }
  AVStream* out = avformat_new_stream(muxer_, nullptr);
  if (out == nullptr || avcodec_parameters_from_context(out->codecpar, encoder_.get()) < 0) {
    return absl::ResourceExhaustedError("out of memory creating an MP4 stream");
  }
  out->time_base = time_base_;
  out->avg_frame_rate = encoder_->framerate;
  part_created_ = true;
  ret = avio_open(&muxer_->pb, url.c_str(), AVIO_FLAG_WRITE);
  if (ret < 0) return WriteError(ret);
  AVDictionary* mux_opts = nullptr;
  av_dict_set(&mux_opts, "movflags", "+faststart", 0);
  ret = avformat_write_header(muxer_, &mux_opts);
  av_dict_free(&mux_opts);
  if (ret < 0) return WriteError(ret);

  yuv_->format = AV_PIX_FMT_YUV420P;
  yuv_->width = width_;
  yuv_->height = height_;
  yuv_->color_range = AVCOL_RANGE_MPEG;
  yuv_->colorspace = encoder_->colorspace;
  yuv_->color_primaries = encoder_->color_primaries;
  yuv_->color_trc = encoder_->color_trc;
  ret = av_frame_get_buffer(yuv_.get(), 0);
  if (ret < 0) return absl::ResourceExhaustedError("out of memory allocating a frame");
  to_yuv_.reset(sws_getContext(width_, height_, AV_PIX_FMT_BGR24, width_, height_,
                               AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (to_yuv_ == nullptr) return absl::ResourceExhaustedError("out of memory creating a scaler");
  sws_setColorspaceDetails(to_yuv_.get(), sws_getCoefficients(SWS_CS_DEFAULT), 1,
                           sws_getCoefficients(encoder_->colorspace), 0, 0, 1 << 16, 1 << 16);
  return absl::OkStatus();
}

void Exporter::CloseMuxer() {
  if (muxer_ == nullptr) return;
  if (muxer_->pb != nullptr) avio_closep(&muxer_->pb);
  avformat_free_context(muxer_);
  muxer_ = nullptr;
}

absl::Status Exporter::Run() {
  for (;;) {
    int ret = av_read_frame(input_.get(), packet_.get());
    if (ret == AVERROR_EOF) break;
    if (ret < 0) return DataLoss(ret, "a packet cannot be read");
    if (packet_->stream_index != stream_index_) {
      av_packet_unref(packet_.get());
      continue;
    }
    ret = avcodec_send_packet(decoder_.get(), packet_.get());
    av_packet_unref(packet_.get());
    if (ret < 0 && ret != AVERROR(EAGAIN)) {
      // The decoder conceals what it can; a packet it rejects outright is one frame missing,
      // which the frame count check below reports.
      ++result_.frames_damaged;
    }
    CUSTOS_RETURN_IF_ERROR(DrainDecoder());
  }
  avcodec_send_packet(decoder_.get(), nullptr);
  CUSTOS_RETURN_IF_ERROR(DrainDecoder());
  while (!pending_.empty()) {
    CUSTOS_RETURN_IF_ERROR(Emit(pending_.front()));
    pending_.pop_front();
  }
  if (result_.frames_in == 0) {
    return absl::DataLossError(
        absl::StrCat("video ", input_path_, " holds no frame that can be decoded"));
  }
  if (frames_listed_ > 0 && result_.frames_in < frames_listed_) {
    return absl::DataLossError(
        absl::StrCat("video ", input_path_, " is damaged or truncated: ", result_.frames_in,
                     " of its ", frames_listed_, " frames could be decoded"));
  }
  CUSTOS_RETURN_IF_ERROR(Encode(nullptr));
  return absl::OkStatus();
}

absl::Status Exporter::DrainDecoder() {
  for (;;) {
    const int ret = avcodec_receive_frame(decoder_.get(), frame_.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return absl::OkStatus();
    if (ret < 0) return DataLoss(ret, "a frame cannot be decoded");
    const absl::Status status = TakeFrame();
    av_frame_unref(frame_.get());
    CUSTOS_RETURN_IF_ERROR(status);
  }
}

absl::Status Exporter::TakeFrame() {
  if (options_.cancel != nullptr && options_.cancel->load()) {
    return absl::CancelledError(absl::StrCat("export ", options_.export_id, " was cancelled"));
  }
  ++result_.frames_in;
  if (frame_->decode_error_flags != 0 || (frame_->flags & AV_FRAME_FLAG_CORRUPT) != 0) {
    ++result_.frames_damaged;
  }
  int64_t pts = frame_->best_effort_timestamp;
  if (pts == AV_NOPTS_VALUE) pts = last_pts_ == INT64_MIN ? 0 : last_pts_ + default_duration_;
  if (pts <= last_pts_) return absl::OkStatus();  // A repeated timestamp: H.264 cannot show it.
  last_pts_ = pts;

  // To BGR at the output size, honouring the stream's YUV matrix and range.
  const int key[5] = {frame_->width, frame_->height, frame_->format, frame_->colorspace,
                      frame_->color_range};
  if (to_bgr_ == nullptr || !std::equal(key, key + 5, to_bgr_key_)) {
    to_bgr_.reset(sws_getContext(frame_->width, frame_->height,
                                 static_cast<AVPixelFormat>(frame_->format), width_, height_,
                                 AV_PIX_FMT_BGR24, SWS_BILINEAR, nullptr, nullptr, nullptr));
    if (to_bgr_ == nullptr) {
      const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame_->format));
      return absl::InvalidArgumentError(absl::StrCat("cannot convert ",
                                                     name != nullptr ? name : "unknown",
                                                     " video of ", input_path_, " to BGR"));
    }
    sws_setColorspaceDetails(to_bgr_.get(), sws_getCoefficients(frame_->colorspace),
                             frame_->color_range == AVCOL_RANGE_JPEG ? 1 : 0,
                             sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
    std::copy(key, key + 5, to_bgr_key_);
  }
  PendingFrame pending;
  pending.index = next_index_++;
  pending.pts = pts;
  pending.duration = frame_->pkt_duration > 0 ? frame_->pkt_duration : default_duration_;
  pending.bgr.create(height_, width_, CV_8UC3);
  uint8_t* const dst[4] = {pending.bgr.data, nullptr, nullptr, nullptr};
  const int dst_stride[4] = {static_cast<int>(pending.bgr.step[0]), 0, 0, 0};
  sws_scale(to_bgr_.get(), frame_->data, frame_->linesize, 0, frame_->height, dst, dst_stride);

  if (masker_ != nullptr) {
    CUSTOS_ASSIGN_OR_RETURN(const std::vector<face::FaceBox> faces, masker_->Detect(pending.bgr));
    std::vector<cv::Rect2f> boxes;
    for (const face::FaceBox& f : faces) boxes.push_back(f.box);
    timeline_.Add(pending.index, boxes);
    result_.faces_detected += static_cast<int64_t>(faces.size());
    if (!faces.empty()) ++result_.frames_with_faces;
  }
  // Plates on the clean frame (before any face is obscured), on sampled frames only.
  if (plate_masker_ != nullptr && plate_masker_->Sampled(pending.index)) {
    CUSTOS_ASSIGN_OR_RETURN(const std::vector<cv::Rect2f> plates,
                            plate_masker_->Detect(pending.bgr));
    plate_timeline_->Add(pending.index, plates);
    ++result_.plate_frames_sampled;
    result_.plates_detected += static_cast<int64_t>(plates.size());
    if (!plates.empty()) ++result_.frames_with_plates;
  }
  pending_.push_back(std::move(pending));
  // The look-ahead: a frame is written once the detections of the frames after it that may
  // extend their hold back to it are known.
  while (pending_.size() > delay_) {
    CUSTOS_RETURN_IF_ERROR(Emit(pending_.front()));
    pending_.pop_front();
  }
  return absl::OkStatus();
}

absl::Status Exporter::Emit(PendingFrame& pending) {
  if (masker_ != nullptr) {
    const int faces = ObscureHeld(timeline_, pending.index, pending.bgr, options_.masker.cells);
    const int plates = plate_masker_ != nullptr ? ObscureHeld(*plate_timeline_, pending.index,
                                                              pending.bgr, options_.plates.cells)
                                                : 0;
    result_.plate_regions_obscured += plates;
    result_.regions_obscured += faces + plates;
    if (faces + plates > 0) ++result_.frames_obscured;
  }
  if (first_pts_ == INT64_MIN) first_pts_ = pending.pts;
  const int64_t clip_ms = av_rescale_q(pending.pts - first_pts_, time_base_, kMs);
  const std::string time = options_.start_utc_ms >= 0
                               ? FormatFrameTime(options_.start_utc_ms + clip_ms, true)
                               : FormatFrameTime(clip_ms, false);
  DrawWatermark(pending.bgr, WatermarkLines(options_.export_id, time, options_.blur_faces,
                                            plate_masker_ != nullptr));

  int ret = av_frame_make_writable(yuv_.get());
  if (ret < 0) return absl::ResourceExhaustedError("out of memory allocating a frame");
  const uint8_t* const src[4] = {pending.bgr.data, nullptr, nullptr, nullptr};
  const int src_stride[4] = {static_cast<int>(pending.bgr.step[0]), 0, 0, 0};
  sws_scale(to_yuv_.get(), src, src_stride, 0, height_, yuv_->data, yuv_->linesize);
  yuv_->pts = pending.pts;
  yuv_->pict_type = AV_PICTURE_TYPE_NONE;
  durations_[pending.pts] = pending.duration;
  end_pts_ = std::max(end_pts_, pending.pts + pending.duration);
  CUSTOS_RETURN_IF_ERROR(Encode(yuv_.get()));
  ++result_.frames_out;
  pending.bgr.release();
  if (options_.progress) options_.progress(result_.frames_out, frames_total_);
  return absl::OkStatus();
}

absl::Status Exporter::Encode(const AVFrame* frame) {
  int ret = avcodec_send_frame(encoder_.get(), frame);
  if (ret < 0) {
    if (ret == AVERROR(ENOMEM)) return absl::ResourceExhaustedError("out of memory encoding");
    return absl::InternalError(absl::StrCat("the H.264 encoder failed: ", AvText(ret)));
  }
  for (;;) {
    ret = avcodec_receive_packet(encoder_.get(), out_packet_.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return absl::OkStatus();
    if (ret < 0)
      return absl::InternalError(absl::StrCat("the H.264 encoder failed: ", AvText(ret)));
    const auto it = durations_.find(out_packet_->pts);
    if (it != durations_.end()) {
      out_packet_->duration = it->second;
      durations_.erase(it);
    }
    out_packet_->stream_index = 0;
    av_packet_rescale_ts(out_packet_.get(), encoder_->time_base, muxer_->streams[0]->time_base);
    ret = av_interleaved_write_frame(muxer_, out_packet_.get());
    av_packet_unref(out_packet_.get());
    if (ret < 0) return WriteError(ret);
  }
}

absl::StatusOr<ExportResult> Exporter::Finish() {
  int ret = av_write_trailer(muxer_);
  if (ret < 0) return WriteError(ret);
  if (muxer_->pb->error < 0) return WriteError(muxer_->pb->error);
  ret = avio_closep(&muxer_->pb);
  if (ret < 0) return WriteError(ret);
  CloseMuxer();
  if (options_.sync) CUSTOS_RETURN_IF_ERROR(SyncPath(part_path_, O_RDONLY));
  CUSTOS_ASSIGN_OR_RETURN(result_.sha256_hex, Sha256File(part_path_));
  std::error_code error;
  result_.bytes = static_cast<int64_t>(fs::file_size(part_path_, error));
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot read back export ", part_path_, ": ", error.message()));
  }
  result_.duration_ms = av_rescale_q(end_pts_ - first_pts_, time_base_, kMs);
  result_.width = width_;
  result_.height = height_;
  if (::rename(part_path_.c_str(), output_path_.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot rename ", part_path_, " to ", output_path_));
  }
  part_created_ = false;
  if (options_.sync) {
    fs::path folder = fs::path(output_path_).parent_path();
    if (folder.empty()) folder = ".";
    SyncPath(folder.string(), O_RDONLY | O_DIRECTORY).IgnoreError();
  }
  return result_;
}

}  // namespace

absl::StatusOr<ExportResult> ExportClip(const std::string& input_path,
                                        const std::string& output_path,
                                        const MaskDetectors& detectors,
                                        const ExportOptions& options) {
  CUSTOS_RETURN_IF_ERROR(ValidateOptions(options, detectors));
  if (output_path.empty()) return absl::InvalidArgumentError("an export needs an output file name");
  std::error_code error;
  if (fs::exists(output_path, error)) {
    return absl::AlreadyExistsError(
        absl::StrCat("export ", output_path, " exists: choose another name or remove it"));
  }
  fs::path folder = fs::path(output_path).parent_path();
  if (folder.empty()) folder = ".";
  if (!fs::is_directory(folder, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write export ", output_path, ": folder ", folder.string(),
                     " does not exist; create it or choose another"));
  }
  ingest::RouteFfmpegLogsToSpdlog();
  Exporter exporter(input_path, output_path, detectors, options);
  CUSTOS_RETURN_IF_ERROR(exporter.Open());
  CUSTOS_RETURN_IF_ERROR(exporter.Run());
  return exporter.Finish();
}

}  // namespace custos::privacy
