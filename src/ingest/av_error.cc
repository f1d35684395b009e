#include "ingest/av_error.h"

#include <cerrno>
#include <cstdarg>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace custos::ingest {
namespace {

std::string AvErrorText(int averror) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(averror, buffer, sizeof(buffer)) < 0) {
    return absl::StrCat("FFmpeg error ", averror);
  }
  return buffer;
}

void LogToSpdlog(void* avcl, int level, const char* format, va_list args) {
  if (level > av_log_get_level() || !spdlog::should_log(spdlog::level::debug)) return;
  char line[1024];
  thread_local int print_prefix = 1;
  va_list copy;
  va_copy(copy, args);
  av_log_format_line2(avcl, level, format, copy, line, sizeof(line), &print_prefix);
  va_end(copy);
  std::string_view text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (!text.empty()) spdlog::debug("ffmpeg: {}", text);
}

}  // namespace

absl::Status AvErrorToStatus(int averror, AvPhase phase, absl::string_view context) {
  absl::StatusCode code = absl::StatusCode::kUnknown;
  absl::string_view hint;
  switch (averror) {
    case AVERROR_EOF:
      if (phase == AvPhase::kOpenFile) {
        code = absl::StatusCode::kInvalidArgument;
        hint = "(empty or truncated file; not a video file or unsupported format)";
      } else if (phase == AvPhase::kOpenStream) {
        code = absl::StatusCode::kUnavailable;
        hint = "(the server closed the connection)";
      } else {
        code = absl::StatusCode::kOutOfRange;
      }
      break;
    case AVERROR_EXIT:
      code = absl::StatusCode::kCancelled;
      break;
    case AVERROR(ENOENT):
    case AVERROR_HTTP_NOT_FOUND:
      code = absl::StatusCode::kNotFound;
      hint = "(check the path or the stream path in the URL)";
      break;
    case AVERROR(EACCES):
    case AVERROR(EPERM):
    case AVERROR_HTTP_UNAUTHORIZED:
    case AVERROR_HTTP_FORBIDDEN:
      code = absl::StatusCode::kPermissionDenied;
      hint = "(check the user name and password, or the file's permissions)";
      break;
    case AVERROR(ECONNREFUSED):
    case AVERROR(ECONNRESET):
    case AVERROR(ECONNABORTED):
    case AVERROR(EHOSTUNREACH):
    case AVERROR(ENETUNREACH):
    case AVERROR(ENETDOWN):
    case AVERROR(ETIMEDOUT):
    case AVERROR(EPIPE):
    case AVERROR(EIO):
    case AVERROR(EAGAIN):
    case AVERROR_HTTP_SERVER_ERROR:
      code = absl::StatusCode::kUnavailable;
      hint = "(is the camera on and reachable from this host?)";
      break;
    case AVERROR_INVALIDDATA:
      if (phase == AvPhase::kOpenFile) {
        code = absl::StatusCode::kInvalidArgument;
        hint = "(not a video file or unsupported format)";
      } else if (phase == AvPhase::kOpenStream) {
        code = absl::StatusCode::kInvalidArgument;
        hint = "(not a video stream or unsupported format; check the URL and port)";
      } else {
        code = absl::StatusCode::kDataLoss;
        hint = "(damaged data)";
      }
      break;
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_PATCHWELCOME:
      code = absl::StatusCode::kInvalidArgument;
      hint = "(not a video file or unsupported format)";
      break;
    case AVERROR_DECODER_NOT_FOUND:
      code = absl::StatusCode::kInvalidArgument;
      hint = "(no decoder for the video codec in this FFmpeg build; unsupported format)";
      break;
    case AVERROR_PROTOCOL_NOT_FOUND:
      code = absl::StatusCode::kInvalidArgument;
      hint = "(protocol not supported by this FFmpeg build or not allowed for this URL)";
      break;
    case AVERROR_STREAM_NOT_FOUND:
      code = absl::StatusCode::kInvalidArgument;
      hint = "(no video stream: an audio-only or data file?)";
      break;
    case AVERROR(EINVAL):
    case AVERROR_OPTION_NOT_FOUND:
    case AVERROR_HTTP_BAD_REQUEST:
    case AVERROR_HTTP_OTHER_4XX:
      code = absl::StatusCode::kInvalidArgument;
      hint = "(check the URL)";
      break;
    case AVERROR(ENOMEM):
      code = absl::StatusCode::kResourceExhausted;
      break;
    case AVERROR(ENOSPC):
    case AVERROR(EDQUOT):
    case AVERROR(EFBIG):
      code = absl::StatusCode::kResourceExhausted;
      hint = "(the disk or the quota is full: free space or shorten the retention)";
      break;
    default:
      break;
  }
  std::string message = absl::StrCat(context, ": ", AvErrorText(averror));
  if (!hint.empty()) absl::StrAppend(&message, " ", hint);
  return absl::Status(code, message);
}

void RouteFfmpegLogsToSpdlog() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(&LogToSpdlog); });
}

}  // namespace custos::ingest
