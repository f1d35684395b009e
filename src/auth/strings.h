// Debian's Abseil has its own string_view, distinct from std::string_view; this bridges the
// two for absl::StrCat and friends. Internal to the auth module.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace custos::auth {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace custos::auth
