// Helpers shared by the record module's tests: packets from a real video, and decoding a
// recorded segment with FFmpeg.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/packet_queue.h"

namespace custos::record::testing {

// The wall time a FakeClock gives the test video's first frame.
inline constexpr int64_t kStartWallMs = 1'700'000'000'000;

// Every video packet of `path`, read through ingest::VideoSource's packet queue (a FakeClock
// at kStartWallMs, so packet wall times are kStartWallMs + pts).
absl::StatusOr<std::vector<ingest::EncodedPacket>> ReadPackets(const std::string& path);

// New references to the same packet data (the originals stay valid).
std::vector<ingest::EncodedPacket> Copy(const std::vector<ingest::EncodedPacket>& packets);
ingest::EncodedPacket Copy(const ingest::EncodedPacket& packet);

struct Decoded {
  int64_t packets = 0;
  int64_t frames = 0;  // Frames out of the decoder.
  int64_t errors = 0;  // Packets the decoder rejected and frames flagged corrupt.
  bool first_packet_key = false;
};
// Decodes every frame of `path` with libavcodec.
absl::StatusOr<Decoded> DecodeFile(const std::string& path);

}  // namespace custos::record::testing
