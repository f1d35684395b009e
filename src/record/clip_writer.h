// Clip export: the recorded packets of one camera between two wall-clock times, remuxed from
// the fragmented MP4 segments into one ordinary MP4 with the moov atom in front (stream copy:
// never decoded or re-encoded), which browsers play as it is. See docs/recording.md, "Clip
// export".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "record/segment_index.h"

namespace custos::record {

struct ClipOptions {
  // The longest range one clip may cover (to_ms - from_ms). 1-86400000.
  int64_t max_duration_ms = 3'600'000;
  // true: the clip's timeline is the wall clock's (clip time t shows what was recorded at
  // start_ms + t); where nothing was recorded (a gap between segments, a skipped segment)
  // players hold the last frame. false: gaps are closed, the next recorded frame follows
  // the previous one directly, and the clip is shorter than the range it covers.
  bool keep_gaps = true;
  // fsync the clip before it gets its final name, so a reported clip survives a power cut.
  bool sync = true;
};

// A segment that overlapped the range but was not (or not wholly) used.
struct SkippedSegment {
  std::string path;  // Relative to the data directory.
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string reason;  // For the user: "file missing", "still being recorded", ...
};

struct ClipInfo {
  int64_t start_ms = 0;     // UTC of the clip's first frame: the keyframe at or before from_ms.
  int64_t end_ms = 0;       // UTC just after the clip's last frame.
  int64_t duration_ms = 0;  // Of the file's timeline (shorter than end - start if gaps closed).
  int64_t bytes = 0;        // Size of the clip file.
  int64_t packets = 0;      // Video packets (frames) in the clip.
  int segments_used = 0;    // Segments that gave at least one packet.
  std::vector<SkippedSegment> skipped;  // Damaged, missing, open or incompatible segments.
  int gaps = 0;            // Times the recording was interrupted within the clip (> 100 ms).
  int64_t gap_ms = 0;      // Their total length, wall clock.
  std::string sha256_hex;  // SHA-256 of the clip file, lower-case hex.
};

// Writes the packets of `camera` recorded in [from_ms, to_ms) (UTC ms, as in the index) to
// `out_path` as one MP4 (H.264 stays H.264, H.265 stays H.265; `movflags=+faststart`).
// The clip starts at the keyframe at or before from_ms (or at the first one after it when
// the recording starts later) and ends with the last packet decoded before to_ms. Its
// timestamps start at 0 and run on across segments (gaps: ClipOptions::keep_gaps).
//
// Only segments in state closed or recovered are read. The segment still being written
// (state open) is skipped and reported: it is closed within segment_ms (10 s by default),
// so a clip that ends "now" misses at most that much. Damaged segments (state damaged, file
// missing, file size not the one indexed, unreadable) are skipped and reported in
// ClipInfo::skipped; a segment whose stream parameters (codec, size, SPS/PPS) differ from the
// clip's first one (the camera was reconfigured) is skipped too, as one MP4 track cannot
// change them.
//
// The file is written to out_path + ".part" and renamed to out_path when complete, so
// out_path only ever holds a whole clip; the .part file is removed on any failure.
//
// Errors:
//   kInvalidArgument    from_ms >= to_ms, a range longer than max_duration_ms, a bad camera
//                       id or option: fix the request
//   kNotFound           nothing was recorded for the camera in the range
//   kUnavailable        only the segment still being written covers the range: retry when it
//                       is closed (within segment_ms); or another I/O error
//   kDataLoss           every segment in the range is damaged or missing (they are listed)
//   kAlreadyExists      out_path exists: choose another name or remove it
//   kFailedPrecondition the folder of out_path does not exist
//   kResourceExhausted  the disk or quota is full: free space and retry
//   kPermissionDenied   out_path cannot be written
absl::StatusOr<ClipInfo> WriteClip(SegmentIndex& index, const std::string& camera, int64_t from_ms,
                                   int64_t to_ms, const std::string& out_path,
                                   const ClipOptions& options = {});

// The same from a list of segments (as SegmentIndex::Overlapping returns them: one camera,
// by start time; paths relative to `data_dir`). kNotFound when `segments` is empty.
absl::StatusOr<ClipInfo> WriteClip(const std::string& data_dir,
                                   const std::vector<Segment>& segments, int64_t from_ms,
                                   int64_t to_ms, const std::string& out_path,
                                   const ClipOptions& options = {});

}  // namespace custos::record
