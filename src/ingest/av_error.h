// The one place where FFmpeg error codes (AVERROR) become absl::Status, and where FFmpeg's
// process-wide log output is routed into spdlog.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace custos::ingest {

// What the module was doing when FFmpeg failed; the same AVERROR means different things to
// the caller at different times (AVERROR_INVALIDDATA while opening: the input is not a
// video, so fix the config; while reading: damaged data, so drop and count).
enum class AvPhase { kOpenFile, kOpenStream, kRead, kDecode, kWrite };

// Converts an FFmpeg error code (< 0) into a Status whose message is
// "<context>: <FFmpeg's text> <hint>", e.g. "cannot read video /x.mp4: Invalid data found
// when processing input (not a video file or unsupported format)". Codes:
//   kOutOfRange          AVERROR_EOF while reading
//   kCancelled           AVERROR_EXIT (the interrupt callback stopped the call)
//   kNotFound            ENOENT, HTTP/RTSP 404
//   kPermissionDenied    EACCES, EPERM, HTTP/RTSP 401 and 403
//   kUnavailable         connection refused/reset/unreachable, timeouts, EIO, HTTP/RTSP 5xx,
//                        a stream's server hanging up while opening
//   kInvalidArgument     bad data or a file ending while opening, no demuxer/decoder/protocol
//                        for the input, no video stream, EINVAL, other HTTP/RTSP 4xx
//   kDataLoss            bad data while reading or decoding
//   kResourceExhausted   ENOMEM; ENOSPC, EDQUOT and EFBIG (disk or quota full)
//   kUnknown             anything else
absl::Status AvErrorToStatus(int averror, AvPhase phase, absl::string_view context);

// Sends FFmpeg's own log lines (av_log) to spdlog at debug level, so "error while decoding
// MB" noise from damaged streams stays out of the operator's log unless asked for; the
// module reports such problems itself through Status and SourceStats. Idempotent and
// thread-safe; affects the whole process, as av_log is process-wide.
void RouteFfmpegLogsToSpdlog();

}  // namespace custos::ingest
