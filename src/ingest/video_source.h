// One camera's video input: demuxes a file or network stream with FFmpeg, decodes it and
// hands out BGR frames at the detect rate and resolution. See docs/ingest.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "custos/clock.h"
#include "custos/frame.h"
#include "ingest/camera_url.h"
#include "ingest/packet_queue.h"

struct AVCodecContext;
struct AVFormatContext;
struct AVFrame;
struct AVPacket;
struct SwsContext;

namespace custos::ingest {

// How to open and read one source. Every field has a safe default; Open() rejects
// out-of-range values with kInvalidArgument naming the field.
struct SourceOptions {
  // File path, file://, rtsp://, rtsps://, http:// or https:// URL (see ValidateUrl).
  std::string url;
  // RTSP lower transport: "tcp" (interleaved; works through NAT and firewalls) or "udp".
  std::string rtsp_transport = "tcp";
  // Frames handed out per second of stream time, chosen by pts so the rate holds whatever
  // the source's frame rate. 0 hands out every decoded frame.
  double detect_fps = 5;
  // Output size in pixels. 0 for one side keeps the source's aspect ratio from the other
  // (rounded to an even number); both 0 keeps the source size.
  int detect_width = 0;
  int detect_height = 360;
  // A network stream that delivers no packet for this long is stalled: it is closed and
  // reconnected. Also used as FFmpeg's socket I/O timeout.
  int stall_timeout_ms = 5000;
  // Limit for connecting and reading the stream headers, per attempt.
  int open_timeout_ms = 10000;
  // Pace a file at its native speed, as a live camera would deliver it. Live streams are
  // paced by the camera and ignore this.
  bool realtime = false;
  // Restart a file from the beginning at its end (demo cameras). pts_ms keeps increasing.
  bool loop = false;
  // Reconnect delays for network streams: exponential backoff with jitter, starting at
  // reconnect_initial_ms and doubling up to reconnect_max_ms.
  int reconnect_initial_ms = 500;
  int reconnect_max_ms = 30000;
  // Reconnect attempts per outage before Next() gives up with kUnavailable; -1 = unlimited.
  // Files never reconnect.
  int max_reconnects = -1;
  // Decoder threads. 1 keeps all decoding on the caller's thread (lowest latency, and the
  // per-camera cost stays measurable); more helps a few high-resolution cameras.
  int decoder_threads = 1;
  // Packets for recording: when set, every video packet read is also offered to this queue
  // (a reference, not a copy), with the stream's codec parameters and time base. Offering
  // never blocks; a full queue counts packets_dropped_for_recording. See "Packets for
  // recording" in docs/ingest.md.
  std::shared_ptr<PacketQueue> packet_queue;
  // 0: Next() demuxes and decodes on the caller's thread (packets are read only while the
  // caller asks for frames). N > 0: a reader thread of the source demuxes, feeds
  // packet_queue, decodes and keeps up to N frames for Next(); when the caller (analytics)
  // falls behind on a live or realtime source, the oldest kept frame is dropped and counted
  // (frames_dropped), so a slow consumer never delays the packets. Files read without
  // `realtime` are not dropped: the reader waits for the caller instead. At most 64.
  int read_ahead_frames = 0;
  // > 0: every emitted frame also carries Frame::full, the decoded picture in BGR at the
  // stream's size, scaled down to this width when wider (plate reading). 0: none (no cost).
  int full_frame_max_width = 0;
};

// A time span without frames from a network stream, recorded when frames came back.
struct Gap {
  int64_t start_wall_ms = 0;  // Wall time of the last frame before the outage.
  int64_t end_wall_ms = 0;    // Wall time of the first frame after it.
  std::string reason;         // Why the stream was lost, e.g. "stalled: no packet for 5000 ms".
};

// Counters since Open().
struct SourceStats {
  int64_t packets = 0;         // Video packets read.
  int64_t frames_decoded = 0;  // Frames out of the decoder (whole or corrupt).
  int64_t frames_emitted = 0;  // Frames handed out by Next().
  int64_t frames_corrupt = 0;  // Packets the decoder rejected plus frames flagged corrupt.
  int64_t reconnects = 0;      // Successful reconnections after losing a network stream.
  int64_t stalls = 0;          // Times no packet arrived within stall_timeout_ms.
  int64_t packets_dropped_for_recording = 0;  // Refused by a full packet_queue.
  int64_t frames_dropped = 0;  // Decoded frames dropped because the caller fell behind.
  std::vector<Gap> gaps;       // Outages that ended; the current one is not listed yet.
  std::string last_error;      // Latest problem, URL redacted; empty if none.
};

// What Open() learnt about the video stream.
struct StreamInfo {
  std::string codec;  // FFmpeg decoder name, e.g. "h264".
  int width = 0;      // Coded picture size before scaling.
  int height = 0;
  double fps = 0;            // Nominal frame rate; 0 if the stream does not say.
  int64_t duration_ms = -1;  // -1 for live streams.
  bool live = false;         // Network stream without a known end (reconnects when lost).
};

// One camera's source. Open() connects and reads the stream headers; Next() blocks until
// the next detect frame, reconnecting network streams as needed.
//
// Thread safety: Next() must be called from one thread at a time. Interrupt(), stats() and
// info() may be called from any thread at any time, Interrupt() also from a signal
// handler. REQUIRES: no Next() is running when the source is destroyed (Interrupt(), then
// join the reading thread).
class VideoSource {
 public:
  // Opens `options.url`. `clock` stamps frames and times stalls and backoff; it must
  // outlive the source. Returns:
  //   kInvalidArgument   bad options or URL, not a video, no video stream, no decoder
  //   kNotFound          missing file, or the server does not know the stream path
  //   kPermissionDenied  unreadable file, or the camera refused the credentials
  //   kUnavailable       a network source could not be reached within open_timeout_ms
  //   kDataLoss          the headers could be read but are damaged
  static absl::StatusOr<std::unique_ptr<VideoSource>> Open(const SourceOptions& options,
                                                           Clock* clock);

  ~VideoSource();
  VideoSource(const VideoSource&) = delete;
  VideoSource& operator=(const VideoSource&) = delete;

  // Blocks until the next frame at the detect rate and size. Damaged packets and frames are
  // skipped and counted, never returned. Returns:
  //   kOutOfRange       the end of a file or finite HTTP video, unless looping
  //   kUnavailable      a live stream was lost and max_reconnects attempts failed in this
  //                     outage; a file stalled; a finite HTTP video's connection broke
  //   kCancelled        Interrupt() was called
  //   kDataLoss         a file could not be read further (the message says where)
  //   kInvalidArgument  the decoder's pixel format cannot be converted to BGR
  // After an error every later call returns the same error.
  absl::StatusOr<Frame> Next();

  // Makes a blocked or later Next() return kCancelled promptly (within a few ms, however
  // the network behaves). Idempotent. Async-signal-safe (one atomic store), so a SIGINT
  // handler may call it.
  void Interrupt();

  // Counters and outages so far (a copy).
  SourceStats stats() const;
  // The stream as last (re)opened (a copy).
  StreamInfo info() const;

 private:
  struct FfmpegDeleter {
    void operator()(AVFormatContext* p) const;
    void operator()(AVCodecContext* p) const;
    void operator()(AVPacket* p) const;
    void operator()(AVFrame* p) const;
    void operator()(SwsContext* p) const;
  };
  template <typename T>
  using FfmpegPtr = std::unique_ptr<T, FfmpegDeleter>;

  // What ReadAndDecode() stopped at.
  enum class ReadResult { kFrame, kEndOfStream, kLost };

  // What the SwsContext was made for; a new one is made when any of it changes.
  struct SwsKey {
    int src_width = 0, src_height = 0, src_format = -1, width = 0, height = 0;
    int colorspace = -1, range = -1;
    bool operator==(const SwsKey&) const = default;
  };

  VideoSource(const SourceOptions& options, ParsedUrl url, Clock* clock);

  // Opens the input, finds the video stream and opens its decoder; used by Open() and for
  // every reconnection. Codes as Open(), plus kCancelled after Interrupt().
  absl::Status Connect();
  // Closes the input, in bounded time (RTSP says TEARDOWN to a server that may be gone).
  void Disconnect();
  // Next() without the sticky error.
  absl::StatusOr<Frame> NextUnlatched();
  // Reads and decodes until the decoder yields a frame (left in frame_), the input ends
  // (kEndOfStream, after draining the decoder for files) or breaks (kLost, with the reason
  // in `loss`). Returns kCancelled after Interrupt().
  absl::StatusOr<ReadResult> ReadAndDecode(absl::Status& loss);
  // Whether packet_ holds a frame that will not be emitted, so that the decoder may skip it
  // if nothing refers to it.
  bool PacketIsSkippable();
  // Reconnects a live stream with backoff after `loss`. Returns kUnavailable when
  // max_reconnects attempts failed in this outage, kCancelled after Interrupt().
  absl::Status Reconnect(const absl::Status& loss);
  // Restarts a looping file at its beginning. Codes as Open().
  absl::Status Rewind();
  // pts of frame_ in ms on the source's continuous timeline.
  int64_t FramePtsMs();
  // Whether a frame at `pts_ms` is due at detect_fps; `commit` advances the schedule.
  bool IsDue(int64_t pts_ms, bool commit);
  // A scaler to one output size, remade when the input changes.
  struct Scaler {
    FfmpegPtr<SwsContext> sws;
    SwsKey key;
  };
  // Converts frame_ to BGR at the detect size into a pooled buffer. Returns
  // kInvalidArgument for a pixel format swscale cannot convert.
  absl::StatusOr<cv::Mat> Convert();
  // Converts frame_ to BGR at full_frame_max_width at most, into a new buffer.
  absl::StatusOr<cv::Mat> ConvertFull();
  // Makes or reuses `scaler` for frame_ -> width x height BGR.
  absl::Status PrepareScaler(Scaler& scaler, int width, int height);
  // Sleeps up to `ms` or until Interrupt(). Returns false if interrupted.
  bool SleepMs(int64_t ms);
  // Arms the deadline that InterruptCallback() enforces on blocking FFmpeg calls.
  void SetDeadline(int64_t timeout_ms);
  static int InterruptCallback(void* opaque);
  void SetLastError(const std::string& error);
  void CountCorrupt(int averror);
  // Offers packet_ to options_.packet_queue (a new reference), never blocking.
  void OfferPacketForRecording();
  // Makes the StreamParameters handed out with the packets of a new connection or loop.
  void NewStreamParameters();
  // Next() with the sticky error, on the caller's thread.
  absl::StatusOr<Frame> NextLatched();
  // Read-ahead: the reader thread's loop, and Next()'s side of it.
  void ReaderLoop();
  absl::StatusOr<Frame> NextFromReader();

  const SourceOptions options_;
  const ParsedUrl url_;
  const std::string redacted_url_;
  Clock* const clock_;

  // FFmpeg state, used by the Next() thread only.
  FfmpegPtr<AVFormatContext> format_;
  FfmpegPtr<AVCodecContext> decoder_;
  FfmpegPtr<AVPacket> packet_;
  FfmpegPtr<AVFrame> frame_;
  Scaler scaler_;       // To the detect size.
  Scaler full_scaler_;  // To Frame::full.
  int stream_index_ = -1;
  bool live_ = false;
  bool draining_ = false;        // End of a file reached; the decoder is being flushed.
  bool packet_pending_ = false;  // packet_ awaits avcodec_send_packet (decoder was full).
  bool stall_pending_ = false;   // The stall deadline passed during the last read.
  int consecutive_read_errors_ = 0;

  // Timeline: pts_ms = ms(pts - pts_origin_) + pts_offset_ms_, spliced so that it keeps
  // increasing across reconnections, loops and camera clock resets.
  int64_t pts_origin_ = INT64_MIN;  // Stream time base; INT64_MIN until known.
  int64_t pts_offset_ms_ = 0;
  bool rebase_pending_ = false;  // Splice at the next frame (after reconnect or loop).
  int64_t last_pts_ms_ = INT64_MIN;
  int64_t frame_interval_ms_ = 40;  // Source frame spacing.
  double next_due_ms_ = -1e300;     // Next emission slot at detect_fps.
  int64_t open_wall_ms_ = 0;        // Files: wall_ms = open_wall_ms_ + pts_ms.
  int64_t open_mono_ms_ = 0;        // Files: pacing origin when realtime.
  int64_t connect_mono_ms_ = 0;     // Live streams without pts: pts from arrival time.
  int64_t next_index_ = 0;

  // Packets for recording: parameters of the current connection, and the wall-time mapping
  // of file packets (continued across loops).
  std::shared_ptr<const StreamParameters> stream_params_;
  int64_t next_epoch_ = 0;
  int64_t packet_wall_base_ms_ = INT64_MIN;  // Files: wall_ms = base + ms(pts - start).
  int64_t last_packet_wall_ms_ = INT64_MIN;

  // Current outage of a live stream.
  bool in_outage_ = false;
  int64_t outage_start_wall_ms_ = 0;
  std::string outage_reason_;
  int outage_attempts_ = 0;
  int64_t outage_delay_ms_ = 0;
  int64_t last_frame_wall_ms_ = 0;

  // Buffers handed out in Frame.bgr; one is reused once no caller holds it any more.
  std::vector<cv::Mat> pool_;
  std::minstd_rand jitter_;
  absl::Status terminal_;  // Returned by every Next() after the first error.

  // Read-ahead (read_ahead_frames > 0): frames, or the final error last, from the reader.
  absl::Mutex ahead_mu_;
  std::deque<absl::StatusOr<Frame>> ahead_ ABSL_GUARDED_BY(ahead_mu_);
  std::thread reader_;

  std::atomic<bool> interrupted_{false};
  std::atomic<int64_t> deadline_mono_ms_{INT64_MAX};
  std::atomic<bool> deadline_hit_{false};

  mutable absl::Mutex mu_;
  SourceStats stats_ ABSL_GUARDED_BY(mu_);
  StreamInfo info_ ABSL_GUARDED_BY(mu_);
};

// ValidateUrl() and RedactUrl() are declared in ingest/camera_url.h.

}  // namespace custos::ingest
