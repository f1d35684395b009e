#include "record/record_test_util.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "custos/clock.h"
#include "ingest/video_source.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace custos::record::testing {

absl::StatusOr<std::vector<ingest::EncodedPacket>> ReadPackets(const std::string& path) {
  FakeClock clock(kStartWallMs);
  ingest::SourceOptions options;
  options.url = path;
  options.detect_fps = 1;  // Frames are not the point here; packets are.
  options.detect_height = 64;
  options.packet_queue = std::make_shared<ingest::PacketQueue>(100'000);
  absl::StatusOr<std::unique_ptr<ingest::VideoSource>> source =
      ingest::VideoSource::Open(options, &clock);
  if (!source.ok()) return source.status();
  for (;;) {
    absl::StatusOr<Frame> frame = (*source)->Next();
    if (absl::IsOutOfRange(frame.status())) break;
    if (!frame.ok()) return frame.status();
  }
  std::vector<ingest::EncodedPacket> packets;
  while (std::optional<ingest::EncodedPacket> packet = options.packet_queue->Pop(0)) {
    packets.push_back(*std::move(packet));
  }
  return packets;
}

ingest::EncodedPacket Copy(const ingest::EncodedPacket& packet) {
  ingest::EncodedPacket copy;
  copy.packet.reset(av_packet_clone(packet.packet.get()));
  copy.stream = packet.stream;
  copy.wall_ms = packet.wall_ms;
  return copy;
}

std::vector<ingest::EncodedPacket> Copy(const std::vector<ingest::EncodedPacket>& packets) {
  std::vector<ingest::EncodedPacket> copies;
  copies.reserve(packets.size());
  for (const ingest::EncodedPacket& packet : packets) copies.push_back(Copy(packet));
  return copies;
}

absl::StatusOr<Decoded> DecodeFile(const std::string& path) {
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, absl::StrCat("file:", path).c_str(), nullptr, nullptr) < 0) {
    return absl::DataLossError(absl::StrCat("cannot open ", path));
  }
  std::unique_ptr<AVFormatContext, void (*)(AVFormatContext*)> format(
      raw, [](AVFormatContext* p) { avformat_close_input(&p); });
  if (avformat_find_stream_info(format.get(), nullptr) < 0) {
    return absl::DataLossError(absl::StrCat("no stream info in ", path));
  }
  const AVCodec* codec = nullptr;
  const int video = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (video < 0) return absl::DataLossError(absl::StrCat("no video in ", path));
  std::unique_ptr<AVCodecContext, void (*)(AVCodecContext*)> decoder(
      avcodec_alloc_context3(codec), [](AVCodecContext* p) { avcodec_free_context(&p); });
  avcodec_parameters_to_context(decoder.get(), format->streams[video]->codecpar);
  decoder->flags &= ~AV_CODEC_FLAG_OUTPUT_CORRUPT;
  if (avcodec_open2(decoder.get(), codec, nullptr) < 0) {
    return absl::InternalError("cannot open the decoder");
  }
  std::unique_ptr<AVPacket, void (*)(AVPacket*)> packet(av_packet_alloc(),
                                                        [](AVPacket* p) { av_packet_free(&p); });
  std::unique_ptr<AVFrame, void (*)(AVFrame*)> frame(av_frame_alloc(),
                                                     [](AVFrame* p) { av_frame_free(&p); });
  Decoded decoded;
  auto drain = [&] {
    while (avcodec_receive_frame(decoder.get(), frame.get()) == 0) {
      ++decoded.frames;
      if (frame->decode_error_flags != 0 || (frame->flags & AV_FRAME_FLAG_CORRUPT) != 0) {
        ++decoded.errors;
      }
      av_frame_unref(frame.get());
    }
  };
  while (av_read_frame(format.get(), packet.get()) >= 0) {
    if (packet->stream_index == video) {
      if (decoded.packets == 0) decoded.first_packet_key = (packet->flags & AV_PKT_FLAG_KEY) != 0;
      ++decoded.packets;
      if (avcodec_send_packet(decoder.get(), packet.get()) < 0) ++decoded.errors;
      drain();
    }
    av_packet_unref(packet.get());
  }
  avcodec_send_packet(decoder.get(), nullptr);
  drain();
  return decoded;
}

}  // namespace custos::record::testing
