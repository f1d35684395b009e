#include "ingest/camera_url.h"

#include <array>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace custos::ingest {
namespace {

constexpr absl::string_view kAllowed =
    "use rtsp://, rtsps://, http://, https://, file:// or a plain file path";

absl::Status Invalid(const std::string& url, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("camera URL \"", RedactUrl(url), "\" ", problem));
}

bool IsSchemeChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

// Length of the scheme at the start of `url` ("rtsp" in "rtsp://..."), or 0 when `url` does
// not start with "scheme:" and is therefore a plain path.
size_t SchemeLength(absl::string_view url) {
  const size_t colon = url.find(':');
  if (colon == absl::string_view::npos || colon == 0) return 0;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(url[0]))) return 0;
  for (size_t i = 1; i < colon; ++i) {
    if (!IsSchemeChar(url[i])) return 0;
  }
  return colon;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const int value = hi * 16 + lo;
    if (value < 0x20 || value == 0x7f) return std::nullopt;  // %00, %0A, ...
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

// True for parameter names whose values are secrets (password=, pwd=, access_token=, ...).
bool IsSecretKey(absl::string_view key) {
  static constexpr std::array<absl::string_view, 8> kFragments = {"pass", "pwd",  "token", "secret",
                                                                  "key",  "auth", "sig",   "cred"};
  const std::string lower = absl::AsciiStrToLower(key);
  for (absl::string_view fragment : kFragments) {
    if (absl::StrContains(lower, fragment)) return true;
  }
  return false;
}

// Replaces the values of secret parameters in out[begin..] ("?user=a&password=b",
// "/user=a&password=b&channel=1" as some cameras use) by "***".
void RedactParameters(std::string& out, size_t begin) {
  constexpr absl::string_view kSeparators = "?&;/";
  size_t eq = out.find('=', begin);
  while (eq != std::string::npos) {
    size_t key_begin = eq;
    while (key_begin > begin && kSeparators.find(out[key_begin - 1]) == std::string::npos) {
      --key_begin;
    }
    size_t value_end = out.find_first_of("&;/#", eq + 1);
    if (value_end == std::string::npos) value_end = out.size();
    if (IsSecretKey(absl::string_view(out).substr(key_begin, eq - key_begin)) &&
        value_end > eq + 1) {
      out.replace(eq + 1, value_end - eq - 1, "***");
      value_end = eq + 4;
    }
    eq = out.find('=', value_end);
  }
}

absl::Status ValidateHostPort(const std::string& url, absl::string_view host_port) {
  absl::string_view host = host_port;
  absl::string_view port;
  if (absl::StartsWith(host_port, "[")) {  // IPv6 literal: [::1]:554
    const size_t close = host_port.find(']');
    if (close == absl::string_view::npos) return Invalid(url, "has an unterminated [IPv6] host");
    host = host_port.substr(1, close - 1);
    const absl::string_view after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Invalid(url, "has text after the [IPv6] host");
      port = after.substr(1);
    }
    for (char c : host) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return Invalid(url, "has an invalid IPv6 address");
      }
    }
  } else {
    const size_t colon = host_port.rfind(':');
    if (colon != absl::string_view::npos) {
      host = host_port.substr(0, colon);
      port = host_port.substr(colon + 1);
    }
    for (char c : host) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
        return Invalid(url, "has an invalid character in its host name");
      }
    }
  }
  if (host.empty()) return Invalid(url, "has no host; write e.g. rtsp://192.0.2.10:554/stream");
  if (host_port.find(':') != absl::string_view::npos && host_port.back() == ':') {
    return Invalid(url, "has an empty port after ':'");
  }
  if (!port.empty()) {
    int port_number = 0;
    if (!absl::SimpleAtoi(port, &port_number) || port_number < 1 || port_number > 65535) {
      return Invalid(url, "has an invalid port; use a number from 1 to 65535");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedUrl> ParseUrl(const std::string& url) {
  if (url.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("camera URL is empty; ", kAllowed));
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return Invalid(url, "contains control characters");
  }

  ParsedUrl parsed;
  const size_t scheme_length = SchemeLength(url);
  if (scheme_length == 0) {  // A plain path.
    if (url[0] == '-') return Invalid(url, "must not start with '-'");
    if (url.find_first_of(";|&$`<>\"'\\") != std::string::npos) {
      return Invalid(url,
                     "contains a shell metacharacter (; | & $ ` < > quotes or backslash); "
                     "rename the file or use a file:// URL with %-escapes");
    }
    parsed.kind = UrlKind::kFile;
    parsed.path = url;
    parsed.ffmpeg_url = "file:" + url;
    return parsed;
  }

  const std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_length));
  const absl::string_view rest = absl::string_view(url).substr(scheme_length + 1);
  if (scheme == "file") {
    if (!absl::StartsWith(rest, "//")) return Invalid(url, "must start with file://");
    const absl::string_view after_slashes = rest.substr(2);
    const size_t path_begin = after_slashes.find('/');
    const absl::string_view host = after_slashes.substr(0, path_begin);
    if (!host.empty() && !absl::EqualsIgnoreCase(host, "localhost")) {
      return Invalid(url,
                     "names a remote host; file:// URLs must name a local file "
                     "(file:///path/to/video.mp4)");
    }
    if (path_begin == absl::string_view::npos || path_begin + 1 == after_slashes.size()) {
      return Invalid(url, "has no file path");
    }
    std::optional<std::string> path = PercentDecode(after_slashes.substr(path_begin));
    if (!path) return Invalid(url, "has a bad %-escape (need two hex digits, no control codes)");
    parsed.kind = UrlKind::kFile;
    parsed.path = *std::move(path);
    parsed.ffmpeg_url = "file:" + parsed.path;
    return parsed;
  }

  if (scheme == "rtsp" || scheme == "rtsps") {
    parsed.kind = UrlKind::kRtsp;
  } else if (scheme == "http" || scheme == "https") {
    parsed.kind = UrlKind::kHttp;
  } else {
    return Invalid(url, absl::StrCat("has unsupported scheme \"", scheme, ":\"; ", kAllowed));
  }
  if (!absl::StartsWith(rest, "//")) {
    return Invalid(url, absl::StrCat("must start with ", scheme, "://"));
  }
  if (url.find(' ') != std::string::npos) {
    return Invalid(url, "contains a space; percent-encode it as %20");
  }
  const absl::string_view after_slashes = rest.substr(2);
  const absl::string_view authority = after_slashes.substr(0, after_slashes.find_first_of("/?#"));
  const size_t at = authority.rfind('@');
  const absl::string_view host_port =
      at == absl::string_view::npos ? authority : authority.substr(at + 1);
  if (absl::Status status = ValidateHostPort(url, host_port); !status.ok()) return status;
  parsed.ffmpeg_url = absl::StrCat(scheme, ":", rest);
  return parsed;
}

absl::Status ValidateUrl(const std::string& url) { return ParseUrl(url).status(); }

namespace {

// Position of the last '@' of the user info in `url` (whose authority starts at
// `authority_begin`), or npos. Passwords are found with unescaped '/' or '@' in the wild, so
// this is the last '@' before any query: hiding too much beats leaking a password.
size_t UserInfoEnd(const std::string& url, size_t authority_begin) {
  const size_t query_begin = url.find_first_of("?#", authority_begin);
  const size_t at = url.rfind('@', query_begin == std::string::npos ? url.npos : query_begin);
  return at != std::string::npos && at >= authority_begin ? at : std::string::npos;
}

}  // namespace

std::string RedactUrl(const std::string& url) {
  std::string out = url;
  const size_t separator = out.find("://");
  if (separator == std::string::npos || SchemeLength(out) != separator) return out;
  const size_t authority_begin = separator + 3;
  size_t at = UserInfoEnd(out, authority_begin);
  if (at != std::string::npos) {
    const size_t colon = out.find(':', authority_begin);
    if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
    at = UserInfoEnd(out, authority_begin);
  }
  const size_t host_begin = at == std::string::npos ? authority_begin : at + 1;
  const size_t path_begin = out.find_first_of("/?#", host_begin);
  if (path_begin != std::string::npos) RedactParameters(out, path_begin);
  return out;
}

}  // namespace custos::ingest
