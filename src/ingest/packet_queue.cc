#include "ingest/packet_queue.h"

#include <utility>

#include "absl/time/time.h"

extern "C" {
#include <libavutil/mathematics.h>
}

namespace custos::ingest {

void AvPacketDeleter::operator()(AVPacket* p) const { av_packet_free(&p); }

StreamParameters::StreamParameters() : codecpar(avcodec_parameters_alloc()) {}
StreamParameters::~StreamParameters() { avcodec_parameters_free(&codecpar); }

bool EncodedPacket::keyframe() const {
  return packet != nullptr && (packet->flags & AV_PKT_FLAG_KEY) != 0;
}

int64_t EncodedPacket::time_ms() const {
  if (packet == nullptr || stream == nullptr) return INT64_MIN;
  const int64_t ts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
  if (ts == AV_NOPTS_VALUE) return INT64_MIN;
  return av_rescale_q(ts, stream->time_base, AVRational{1, 1000});
}

PacketQueue::PacketQueue(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

bool PacketQueue::TryPush(EncodedPacket packet) {
  absl::MutexLock lock(&mu_);
  if (closed_ || packets_.size() >= capacity_) {
    ++dropped_;
    return false;
  }
  packets_.push_back(std::move(packet));
  ++pushed_;
  return true;
}

std::optional<EncodedPacket> PacketQueue::Pop(int64_t timeout_ms) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return closed_ || !packets_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(timeout_ms));
  if (packets_.empty()) return std::nullopt;
  EncodedPacket packet = std::move(packets_.front());
  packets_.pop_front();
  return packet;
}

void PacketQueue::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

bool PacketQueue::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

size_t PacketQueue::size() const {
  absl::MutexLock lock(&mu_);
  return packets_.size();
}

int64_t PacketQueue::pushed() const {
  absl::MutexLock lock(&mu_);
  return pushed_;
}

int64_t PacketQueue::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace custos::ingest
