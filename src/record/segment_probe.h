// Inspecting and repairing fragmented MP4 segments after a crash. See docs/recording.md.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace custos::record {

// Cuts a fragmented MP4 file back to the end of its last complete top-level box that is not
// a dangling `moof` (a fragment is a `moof` followed by its `mdat`), so that a file whose
// writer was killed in the middle of a fragment plays to its last complete fragment.
// Returns the new size. Errors: kNotFound, kPermissionDenied, kDataLoss (not an MP4: the
// first box is not `ftyp`).
absl::StatusOr<int64_t> TruncateToLastCompleteFragment(const std::string& path);

struct ProbeResult {
  int64_t packets = 0;    // Video packets demuxed.
  int64_t keyframes = 0;  // Of which keyframes.
  bool starts_with_keyframe = false;
  int64_t first_pts_ms = 0;  // Earliest presentation time in the file's own timeline.
  int64_t duration_ms = 0;   // From the earliest pts to the end of the last frame.
  int64_t bytes = 0;
};

// Demuxes every packet of `path`'s video stream (no decoding). Errors: kNotFound,
// kDataLoss (cannot be opened, or no video packet in it).
absl::StatusOr<ProbeResult> ProbeSegment(const std::string& path);

}  // namespace custos::record
