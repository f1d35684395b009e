#include "record/recorder.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"

namespace custos::record {

Recorder::Recorder(const RecorderOptions& options, std::unique_ptr<SegmentWriter> writer)
    : options_(options), writer_(std::move(writer)) {}

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Create(const RecorderOptions& options,
                                                           SegmentIndex* index) {
  if (options.pre_roll_ms < 0 || options.pre_roll_ms > 60'000) {
    return absl::InvalidArgumentError("recording option pre_roll_ms must be between 0 and 60000");
  }
  if (options.post_roll_ms < 0 || options.post_roll_ms > 600'000) {
    return absl::InvalidArgumentError("recording option post_roll_ms must be between 0 and 600000");
  }
  SegmentWriterOptions writer_options;
  writer_options.data_dir = options.data_dir;
  writer_options.camera = options.camera;
  writer_options.segment_ms = options.segment_ms;
  writer_options.fragment_ms = options.fragment_ms;
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<SegmentWriter> writer,
                          SegmentWriter::Create(writer_options, index));
  return std::unique_ptr<Recorder>(new Recorder(options, std::move(writer)));
}

RecorderStats Recorder::stats() const {
  RecorderStats stats = stats_;
  stats.writer = writer_->stats();
  return stats;
}

absl::Status Recorder::Write(ingest::EncodedPacket packet) {
  ++stats_.packets_in;
  if (options_.mode == RecordMode::kContinuous) return writer_->Write(packet);
  return WriteEventOnly(std::move(packet));
}

void Recorder::TrimPreRoll() {
  if (pre_roll_.empty()) return;
  const int64_t newest_ms = pre_roll_.back().time_ms();
  for (;;) {
    // The second GOP in the buffer, if any.
    size_t next_key = 0;
    for (size_t i = 1; i < pre_roll_.size(); ++i) {
      if (pre_roll_[i].keyframe()) {
        next_key = i;
        break;
      }
    }
    const bool front_is_key = pre_roll_.front().keyframe();
    if (front_is_key &&
        (next_key == 0 || newest_ms - pre_roll_[next_key].time_ms() < options_.pre_roll_ms)) {
      return;  // The front GOP is still needed to cover pre_roll_ms.
    }
    // Drop up to the next keyframe (or a leading partial GOP that could not be decoded).
    const size_t drop = next_key == 0 ? (front_is_key ? 0 : pre_roll_.size()) : next_key;
    if (drop == 0) return;
    for (size_t i = 0; i < drop; ++i) pre_roll_.pop_front();
    stats_.packets_discarded += static_cast<int64_t>(drop);
    if (pre_roll_.empty()) return;
  }
}

absl::Status Recorder::WriteEventOnly(ingest::EncodedPacket packet) {
  const bool active = event_active_.load();
  const int64_t now_ms = packet.time_ms();
  // A reconnection or loop restarts the timeline: pre-roll from before it is useless.
  if (!pre_roll_.empty() && pre_roll_.back().stream != packet.stream) {
    stats_.packets_discarded += static_cast<int64_t>(pre_roll_.size());
    pre_roll_.clear();
  }
  switch (event_state_) {
    case EventState::kIdle:
      pre_roll_.push_back(std::move(packet));
      TrimPreRoll();
      if (!active) return absl::OkStatus();
      ++stats_.events_recorded;
      event_state_ = EventState::kRecording;
      while (!pre_roll_.empty()) {
        const ingest::EncodedPacket front = std::move(pre_roll_.front());
        pre_roll_.pop_front();
        CUSTOS_RETURN_IF_ERROR(writer_->Write(front));
      }
      return absl::OkStatus();
    case EventState::kRecording:
      if (!active) {
        event_state_ = EventState::kPostRoll;
        post_roll_end_ms_ = now_ms + options_.post_roll_ms;
      }
      return writer_->Write(packet);
    case EventState::kPostRoll:
      if (active) {
        event_state_ = EventState::kRecording;
        return writer_->Write(packet);
      }
      if (now_ms < post_roll_end_ms_) return writer_->Write(packet);
      event_state_ = EventState::kIdle;
      CUSTOS_RETURN_IF_ERROR(writer_->CloseSegment());
      pre_roll_.push_back(std::move(packet));
      TrimPreRoll();
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status Recorder::Run(ingest::PacketQueue& queue, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    std::optional<ingest::EncodedPacket> packet = queue.Pop(/*timeout_ms=*/50);
    if (!packet) {
      if (queue.closed() && queue.size() == 0) break;
      continue;
    }
    if (absl::Status status = Write(*std::move(packet)); !status.ok()) {
      (void)Close();  // Keep what was written; the error says what went wrong.
      return status;
    }
  }
  return Close();
}

absl::Status Recorder::Close() {
  pre_roll_.clear();
  event_state_ = EventState::kIdle;
  return writer_->CloseSegment();
}

}  // namespace custos::record
