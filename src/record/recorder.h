// One camera's recorder: takes the compressed packets of a VideoSource and keeps them as MP4
// segments, continuously or only around events (pre-roll and post-roll). See
// docs/recording.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ingest/packet_queue.h"
#include "record/segment_index.h"
#include "record/segment_writer.h"

namespace custos::record {

enum class RecordMode {
  kContinuous,  // Everything, in back-to-back segments.
  kEventOnly,   // Only while an event is active, plus pre-roll and post-roll.
};

struct RecorderOptions {
  std::string data_dir;  // As SegmentWriterOptions.
  std::string camera;    // As SegmentWriterOptions.
  RecordMode mode = RecordMode::kContinuous;
  int64_t segment_ms = 10'000;  // As SegmentWriterOptions.
  int64_t fragment_ms = 1'000;  // As SegmentWriterOptions.
  // Event-only: a recording starts at the last keyframe at least this long before the event
  // began (so it always starts decodable). 0-60000.
  int64_t pre_roll_ms = 5'000;
  // Event-only: recording goes on this long (stream time) after the event ended. 0-600000.
  int64_t post_roll_ms = 5'000;
};

struct RecorderStats {
  SegmentWriterStats writer;
  int64_t packets_in = 0;         // Packets given to Write().
  int64_t packets_discarded = 0;  // Event-only: aged out of the pre-roll, never recorded.
  int64_t events_recorded = 0;    // Event-only: recordings started.
};

// Thread-compatible for Write()/Run()/Close() (the camera's recording thread);
// SetEventActive() may be called from any thread.
class Recorder {
 public:
  // Errors: as SegmentWriter::Create, and kInvalidArgument for pre/post-roll out of range.
  static absl::StatusOr<std::unique_ptr<Recorder>> Create(const RecorderOptions& options,
                                                          SegmentIndex* index);

  // Records (or, event-only and no event, buffers) one packet. Errors: as
  // SegmentWriter::Write. After kResourceExhausted the caller should shed load (stop
  // recording the camera, alert); later calls try again.
  absl::Status Write(ingest::EncodedPacket packet);

  // Pops packets from `queue` and writes them until the queue is closed and empty or
  // `stop` becomes true, then closes the open segment. Returns the first error (and stops
  // there), else OK.
  absl::Status Run(ingest::PacketQueue& queue, const std::atomic<bool>& stop);

  // Event-only: whether an event is going on now (set by analytics or an operator).
  void SetEventActive(bool active) { event_active_.store(active); }

  // Closes the open segment. Errors: as SegmentWriter::CloseSegment.
  absl::Status Close();

  RecorderStats stats() const;

 private:
  Recorder(const RecorderOptions& options, std::unique_ptr<SegmentWriter> writer);
  enum class EventState { kIdle, kRecording, kPostRoll };
  // Drops whole GOPs from the front of the pre-roll while the next GOP still starts at
  // least pre_roll_ms before the newest packet.
  void TrimPreRoll();
  absl::Status WriteEventOnly(ingest::EncodedPacket packet);

  const RecorderOptions options_;
  std::unique_ptr<SegmentWriter> writer_;
  std::atomic<bool> event_active_{false};
  EventState event_state_ = EventState::kIdle;
  int64_t post_roll_end_ms_ = 0;
  std::deque<ingest::EncodedPacket> pre_roll_;
  RecorderStats stats_;
};

}  // namespace custos::record
