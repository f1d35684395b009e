#include "plate/plate_match.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <vector>

namespace custos::plate {
namespace {

// Groups of characters OCR mistakes for each other on plates (fonts with narrow glyphs,
// motion blur, dirt). Two characters are confusable when some group holds both.
constexpr std::array<std::string_view, 9> kGroups = {
    "0ODQ", "1IJLT", "2Z", "5S", "6GC", "8B", "4A", "7T", "EF",
};

std::string Upper(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text)
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

}  // namespace

std::string NormalizePlate(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if ((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) out.push_back(u);
  }
  return out;
}

bool Confusable(char a, char b) {
  if (a == b) return false;
  for (const std::string_view group : kGroups) {
    if (group.find(a) != std::string_view::npos && group.find(b) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

std::optional<int> MatchPlate(std::string_view pattern_in, std::string_view text_in,
                              int max_confusions) {
  const std::string pattern = Upper(pattern_in);
  const std::string text = NormalizePlate(text_in);
  constexpr int kNo = std::numeric_limits<int>::max() / 2;
  const size_t n = pattern.size();
  const size_t m = text.size();
  // cost[i][j]: fewest confusions matching pattern[0, i) against text[0, j).
  std::vector<int> prev(m + 1, kNo);
  std::vector<int> cur(m + 1, kNo);
  prev[0] = 0;
  for (size_t i = 1; i <= n; ++i) {
    const char p = pattern[i - 1];
    std::fill(cur.begin(), cur.end(), kNo);
    if (p == '*') {
      cur[0] = prev[0];
      for (size_t j = 1; j <= m; ++j) cur[j] = std::min(prev[j], cur[j - 1]);
    } else {
      for (size_t j = 1; j <= m; ++j) {
        if (prev[j - 1] >= kNo) continue;
        const char t = text[j - 1];
        if (p == '?' || p == t) {
          cur[j] = prev[j - 1];
        } else if (Confusable(p, t)) {
          cur[j] = prev[j - 1] + 1;
        }
      }
    }
    std::swap(prev, cur);
  }
  if (prev[m] > max_confusions) return std::nullopt;
  return prev[m];
}

bool ValidPlatePattern(std::string_view pattern) {
  if (pattern.empty() || pattern.size() > 16) return false;
  int concrete = 0;
  for (const char c : pattern) {
    const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (u == '?' || u == '*') continue;
    if (!((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9'))) return false;
    ++concrete;
  }
  return concrete >= 2;
}

}  // namespace custos::plate
