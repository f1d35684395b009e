// Debian's Abseil has its own string_view, distinct from std::string_view; this bridges the
// two for absl::StrCat and friends. Internal to the api module.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace custos::api {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// `parts` joined with `separator`.
inline std::string Join(const std::vector<std::string_view>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.append(separator);
    out.append(parts[i]);
  }
  return out;
}

// `text` split at every `separator`, empty parts included.
inline std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace custos::api
