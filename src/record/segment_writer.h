// Writes one camera's compressed packets, as demuxed, into fragmented MP4 segments of about
// ten seconds (stream copy: never decoded or re-encoded). See docs/recording.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ingest/packet_queue.h"
#include "record/segment_index.h"

struct AVFormatContext;
struct AVPacket;

namespace custos::record {

struct SegmentWriterOptions {
  // Segments go to data_dir/recordings/<camera>/<YYYY-MM-DD>/<HH>/<start_ms>.mp4 (UTC).
  std::string data_dir;
  // Camera id, used as a folder name: 1-64 of A-Z a-z 0-9 _ - . and not starting with '.'.
  std::string camera;
  // A new segment starts at the first keyframe at least this long after the current one's
  // start. 1000-3600000.
  int64_t segment_ms = 10'000;
  // A fragment (moof+mdat, written and flushed to the file at once) ends at every keyframe
  // and at the latest after this long: a killed process loses at most this much of the
  // open segment. 100-60000.
  int64_t fragment_ms = 1'000;
};

struct SegmentWriterStats {
  int64_t segments_closed = 0;
  int64_t packets_written = 0;
  int64_t packets_before_keyframe = 0;  // Dropped while waiting for a keyframe to start on.
  int64_t packets_bad_timestamps = 0;   // Dropped: no timestamp, dts not increasing, pts < dts.
  int64_t bytes_closed = 0;             // Size of the segments closed so far.
};

// Thread-compatible: one recording thread per camera calls Write()/CloseSegment().
class SegmentWriter {
 public:
  // `index` (may be null in tools) must outlive the writer. Errors: kInvalidArgument (bad
  // option or camera name), kFailedPrecondition (data_dir is not a directory).
  static absl::StatusOr<std::unique_ptr<SegmentWriter>> Create(const SegmentWriterOptions& options,
                                                               SegmentIndex* index);
  // Closes the open segment; errors are logged.
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Appends one packet, starting a segment at a keyframe (packets before the first keyframe
  // are dropped and counted), and cutting a new one at the first keyframe after segment_ms
  // or when the stream's parameters changed (reconnection, loop). Packets with unusable
  // timestamps are dropped and counted; a keyframe whose timestamps jump back starts a new
  // segment. Errors:
  //   kInvalidArgument    a codec MP4 segments cannot hold (only H.264 and H.265)
  //   kResourceExhausted  the disk (or the index) is full: free space; the open segment is
  //                       closed as far as it was written
  //   kUnavailable        another I/O error writing the file or the index
  // After an error the next keyframe starts a new segment.
  absl::Status Write(const ingest::EncodedPacket& packet);

  // Finishes the open segment, if any (trailer written, file synced, row closed). The next
  // segment starts at a keyframe. Errors: as Write().
  absl::Status CloseSegment();

  bool segment_open() const { return muxer_ != nullptr; }
  // Path of the open segment relative to data_dir; empty if none.
  const std::string& segment_path() const { return path_; }
  SegmentWriterStats stats() const { return stats_; }

 private:
  explicit SegmentWriter(const SegmentWriterOptions& options, SegmentIndex* index);
  absl::Status OpenSegment(const ingest::EncodedPacket& first);
  // Gives up the open segment after a write error: keeps what reached the file.
  void AbandonSegment();

  const SegmentWriterOptions options_;
  SegmentIndex* const index_;
  SegmentWriterStats stats_;

  // The open segment.
  AVFormatContext* muxer_ = nullptr;
  AVPacket* out_ = nullptr;
  std::shared_ptr<const ingest::StreamParameters> stream_;
  std::string path_;              // Relative to data_dir.
  int64_t segment_id_ = -1;       // Row in the index; -1 without an index.
  int64_t start_ms_ = 0;          // UTC of the first frame.
  int64_t origin_dts_ = 0;        // Input dts of the first packet: becomes 0 in the file.
  int64_t first_pts_ = 0;         // Input pts of the first (key)frame.
  int64_t end_pts_ = 0;           // Largest pts + duration written, input time base.
  int64_t last_dts_ = INT64_MIN;  // Input dts of the last packet written.
};

// The segment path for `camera` starting at `start_ms`, relative to the data directory:
// recordings/<camera>/<YYYY-MM-DD>/<HH>/<start_ms>.mp4 in UTC.
std::string SegmentPath(const std::string& camera, int64_t start_ms);

// kInvalidArgument unless `camera` is usable as a folder name (see SegmentWriterOptions).
absl::Status ValidateCameraId(const std::string& camera);

}  // namespace custos::record
