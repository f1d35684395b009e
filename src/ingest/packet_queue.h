// Compressed video packets as the demuxer delivered them, and the bounded queue that carries
// them from a VideoSource to the recorder (stream copy, no re-encoding). See docs/ingest.md,
// "Packets for recording", and docs/recording.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

extern "C" {
#include <libavcodec/codec_par.h>
#include <libavcodec/packet.h>
#include <libavutil/rational.h>
}

namespace custos::ingest {

struct AvPacketDeleter {
  void operator()(AVPacket* p) const;
};
using AvPacketPtr = std::unique_ptr<AVPacket, AvPacketDeleter>;

// What a consumer needs to mux the packets of one connection: codec parameters (extradata
// with SPS/PPS) and the time base of pts/dts. A new object is made at every (re)connection
// and every loop of a file; `epoch` tells them apart, so a consumer sees that the timeline or
// the codec may have changed and starts a new file at the next keyframe. Immutable.
struct StreamParameters {
  StreamParameters();
  ~StreamParameters();
  StreamParameters(const StreamParameters&) = delete;
  StreamParameters& operator=(const StreamParameters&) = delete;

  AVCodecParameters* codecpar = nullptr;  // Owned.
  AVRational time_base{1, 90000};
  int64_t epoch = 0;  // 0 for the first connection, then 1, 2, ...
  std::string codec;  // e.g. "h264", "hevc".
};

// One demuxed video packet. The data is shared by reference counting with the demuxer's
// packet (av_packet_ref), never copied. Move-only.
struct EncodedPacket {
  AvPacketPtr packet;  // pts/dts/duration in stream->time_base; flags has AV_PKT_FLAG_KEY.
  std::shared_ptr<const StreamParameters> stream;
  // UTC wall time of the packet: live streams, its arrival; files, the source's open time
  // plus its pts (continued across loops).
  int64_t wall_ms = 0;

  bool keyframe() const;
  // pts (dts if there is none) in ms of the stream time base; INT64_MIN if neither is set.
  int64_t time_ms() const;
};

// Bounded multi-producer multi-consumer queue of packets. Push never blocks: a full queue
// refuses the packet and counts it as dropped, so the producer (the demuxer) never waits on
// the consumer (the recorder). Thread-safe.
class PacketQueue {
 public:
  // REQUIRES: capacity > 0.
  explicit PacketQueue(size_t capacity);

  // Appends `packet` unless the queue is full or closed; returns false (and counts a drop)
  // then. Never blocks.
  bool TryPush(EncodedPacket packet);
  // Waits up to `timeout_ms` for a packet. nullopt on timeout, or once the queue is closed
  // and empty.
  std::optional<EncodedPacket> Pop(int64_t timeout_ms);
  // No more packets will come: Pop() hands out what is left, then nullopt. Idempotent.
  void Close();

  bool closed() const;
  size_t size() const;
  size_t capacity() const { return capacity_; }
  int64_t pushed() const;   // Packets accepted.
  int64_t dropped() const;  // Packets refused because the queue was full (or closed).

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<EncodedPacket> packets_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int64_t pushed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace custos::ingest
