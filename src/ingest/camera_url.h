// Camera URLs: validation at the config edge, credential redaction for logs and errors, and
// the translation into the URL that FFmpeg is allowed to open.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace custos::ingest {

// Checks that `url` names a camera or video file Custos may open: an rtsp://, rtsps://,
// http://, https:// or file:// URL with the parts its scheme needs, or a plain file path.
// Syntax only: whether a file path lies under an allowed root is decided elsewhere.
// Returns kInvalidArgument with a message naming the problem (never the password) for an
// empty URL, control characters, an unsupported scheme (ftp:, concat:, pipe:, ...), a
// network URL without a host or with a bad port, a file URL naming a remote host, or a
// plain path containing shell metacharacters (; | & $ ` < > quotes backslash) or starting
// with '-'.
absl::Status ValidateUrl(const std::string& url);

// Returns `url` with its credentials hidden, for logs and error messages:
// rtsp://user:pass@host/x -> rtsp://user:***@host/x, and the values of query or path
// parameters such as password=, pwd=, token=, key= are replaced by ***. Never fails; input
// that is not a URL comes back unchanged.
std::string RedactUrl(const std::string& url);

// What kind of source a valid URL names.
enum class UrlKind { kFile, kRtsp, kHttp };

// A validated URL split into what the ingest module needs.
struct ParsedUrl {
  UrlKind kind = UrlKind::kFile;
  // For files: the decoded local path (file:// prefix removed, %XX decoded).
  std::string path;
  // The string handed to avformat_open_input. Plain paths get an explicit "file:" prefix so
  // a name such as "concat:a|b" can never select another FFmpeg protocol.
  std::string ffmpeg_url;
};

// Validates `url` (see ValidateUrl) and splits it. Returns kInvalidArgument as ValidateUrl.
absl::StatusOr<ParsedUrl> ParseUrl(const std::string& url);

}  // namespace custos::ingest
