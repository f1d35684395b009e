#include "plate/plate_format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace custos::plate {
namespace {

constexpr char kPlateChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr int kUnbounded = 64;  // Longer than any plate.

bool IsPlateChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

absl::Status PatternError(const std::string& pattern, size_t pos, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("plate pattern \"", pattern, "\", position ",
                                                 pos + 1, ": ", what,
                                                 " (see docs/plates.md for the syntax)"));
}

// Parses "{n}" / "{n,m}" starting at pattern[i] == '{'; advances i past '}'.
absl::Status ParseBraces(const std::string& p, size_t& i, int& lo, int& hi) {
  const size_t close = p.find('}', i);
  if (close == std::string::npos) return PatternError(p, i, "'{' without '}'");
  const std::string body = p.substr(i + 1, close - i - 1);
  const size_t comma = body.find(',');
  const std::string a = body.substr(0, comma);
  const std::string b = comma == std::string::npos ? a : body.substr(comma + 1);
  if (!absl::SimpleAtoi(a, &lo) || !absl::SimpleAtoi(b, &hi) || lo < 0 || hi < lo ||
      hi > kUnbounded) {
    return PatternError(p, i, "expected {n} or {n,m} with 0 <= n <= m <= 64");
  }
  i = close + 1;
  return absl::OkStatus();
}

}  // namespace

std::string Confusions(char c) {
  switch (c) {
    case '0':
      return "ODQ";
    case 'O':
    case 'D':
    case 'Q':
      return "0";
    case 'I':
      return "1";
    case '1':
      return "I";
    case 'B':
      return "8";
    case '8':
      return "B";
    case 'S':
      return "5";
    case '5':
      return "S";
    case 'Z':
      return "2";
    case '2':
      return "Z";
    case 'G':
      return "6";
    case '6':
      return "G";
    case 'A':
      return "4";
    case '4':
      return "A";
    case 'T':
      return "7";
    case '7':
      return "T";
    default:
      return "";
  }
}

absl::StatusOr<PlatePattern> PlatePattern::Compile(const std::string& pattern, float prior) {
  if (!(prior > 0 && prior <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("plate pattern \"", pattern, "\": prior must be in (0, 1]"));
  }
  PlatePattern out;
  out.source_ = pattern;
  out.prior_ = prior;
  size_t i = 0;
  while (i < pattern.size()) {
    PatternToken token;
    const char c = pattern[i];
    if (c == '[') {
      const size_t close = pattern.find(']', i);
      if (close == std::string::npos) return PatternError(pattern, i, "'[' without ']'");
      for (size_t j = i + 1; j < close; ++j) {
        const char from = pattern[j];
        if (!IsPlateChar(from)) {
          return PatternError(pattern, j, "classes hold only A-Z and 0-9");
        }
        if (j + 2 < close && pattern[j + 1] == '-') {
          const char to = pattern[j + 2];
          if (!IsPlateChar(to) || to < from || std::isdigit(from) != std::isdigit(to)) {
            return PatternError(pattern, j, "bad range");
          }
          for (char x = from; x <= to; ++x) token.chars.push_back(x);
          j += 2;
        } else {
          token.chars.push_back(from);
        }
      }
      if (token.chars.empty()) return PatternError(pattern, i, "empty class");
      i = close + 1;
    } else if (c == '.') {
      token.chars = kPlateChars;
      ++i;
    } else if (IsPlateChar(c)) {
      token.chars = std::string(1, c);
      ++i;
    } else {
      return PatternError(pattern, i, absl::StrCat("unexpected '", std::string(1, c), "'"));
    }
    if (i < pattern.size()) {
      const char q = pattern[i];
      if (q == '{') {
        absl::Status s = ParseBraces(pattern, i, token.min, token.max);
        if (!s.ok()) return s;
      } else if (q == '?' || q == '*' || q == '+') {
        token.min = q == '+' ? 1 : 0;
        token.max = q == '?' ? 1 : kUnbounded;
        ++i;
      }
    }
    std::sort(token.chars.begin(), token.chars.end());
    token.chars.erase(std::unique(token.chars.begin(), token.chars.end()), token.chars.end());
    out.tokens_.push_back(std::move(token));
  }
  if (out.tokens_.empty()) return absl::InvalidArgumentError("empty plate pattern");
  // Where any character may stand the format cannot decide between confusable ones, so a
  // pattern with '.' only accepts reads as they are.
  out.corrects_ = std::none_of(out.tokens_.begin(), out.tokens_.end(), [](const PatternToken& t) {
    return t.chars.size() == sizeof(kPlateChars) - 1;
  });
  return out;
}

std::optional<std::string> PlatePattern::Correct(const std::string& text,
                                                 int* substitutions) const {
  // Depth-first over (token, repetitions, position), keeping the fit with the fewest
  // substitutions. Plates are short and patterns few, so no memoisation is needed.
  std::optional<std::string> best;
  int best_subs = 1 << 20;
  std::string current = text;
  const std::function<void(size_t, int, size_t, int)> fit = [&](size_t t, int reps, size_t pos,
                                                                int subs) {
    if (subs >= best_subs) return;
    if (t == tokens_.size()) {
      if (pos == text.size()) {
        best = current;
        best_subs = subs;
      }
      return;
    }
    const PatternToken& token = tokens_[t];
    // Leave this token if it has repeated enough.
    if (reps >= token.min) fit(t + 1, 0, pos, subs);
    if (reps >= token.max || pos >= text.size()) return;
    const char c = text[pos];
    if (token.chars.find(c) != std::string::npos) {
      current[pos] = c;
      fit(t, reps + 1, pos + 1, subs);
      return;
    }
    if (!corrects_) return;
    for (char alt : Confusions(c)) {
      if (token.chars.find(alt) == std::string::npos) continue;
      current[pos] = alt;
      fit(t, reps + 1, pos + 1, subs + 1);
      current[pos] = c;
      break;
    }
  };
  fit(0, 0, 0, 0);
  if (best && substitutions != nullptr) *substitutions = best_subs;
  return best;
}

bool PlatePattern::Matches(const std::string& text) const {
  int subs = 0;
  return Correct(text, &subs).has_value() && subs == 0;
}

std::optional<FormatMatch> FitFormat(const PlateFormat& format, const std::string& text) {
  const int n = static_cast<int>(text.size());
  if (n < format.min_length || n > format.max_length) return std::nullopt;
  std::optional<FormatMatch> best;
  for (const PlatePattern& p : format.patterns) {
    int subs = 0;
    std::optional<std::string> fixed = p.Correct(text, &subs);
    if (!fixed) continue;
    float score = p.prior();
    for (int i = 0; i < subs; ++i) score *= kSubstitutionPenalty;
    if (n < format.typical_min_length) score *= format.short_prior;
    if (!best || score > best->score) best = FormatMatch{*fixed, subs, score, p.source()};
  }
  if (best) {
    for (char& c : best->text) {
      for (const auto& [from, to] : format.aliases) {
        if (c == from) c = to;
      }
    }
  }
  return best;
}

namespace {

struct BuiltinSpec {
  const char* country;
  int min_length;
  int max_length;
  int typical_min_length;
  std::vector<std::pair<const char*, float>> patterns;
  std::vector<std::pair<char, char>> aliases;
};

const std::vector<BuiltinSpec>& Builtins() {
  static const auto* specs = new std::vector<BuiltinSpec>{
      // United States: formats vary by state. The common serial formats come first; any string
      // with a digit is a plausible plate; letters only are vanity plates or, more often, words.
      {"US",
       2,
       8,
       5,
       {{".*[0-9].*", 1.0f},    // Serials mix letters and digits in every state's own way.
        {"[A-Z]{2,8}", 0.4f}},  // Vanity plates, but more often words on signs and cars.
       {{'O', '0'}}},
      // Serbia: two letters of the registration district, three to five digits, two letters
      // (BG 123-AB). Č, Ć, Đ, Š, Ž read as C, C, D, S, Z.
      {"RS", 6, 9, 6, {{"[A-Z]{2}[0-9]{3,5}[A-Z]{2}", 1.0f}}, {}},
      // Generic European: the common current formats, then any mix with a letter and a digit.
      {"EU",
       4,
       10,
       5,
       {{"[A-Z]{2}[0-9]{3}[A-Z]{2}", 1.0f},        // France, Italy: AB123CD
        {"[0-9]{4}[A-Z]{3}", 1.0f},                // Spain: 1234ABC
        {"[A-Z]{1,3}[A-Z]{1,2}[0-9]{1,4}", 0.9f},  // Germany: B AB 1234
        {"[A-Z]{2}[0-9]{2}[A-Z]{3}", 0.9f},        // United Kingdom: AB12CDE
        {"[A-Z]{2}[0-9]{3,5}[A-Z]{2}", 0.9f},      // Serbia, Croatia, ...
        {"[A-Z]{1,3}[0-9]{1,5}[A-Z]{0,3}", 0.75f},
        {".*[0-9].*", 0.6f}},
       {}},
      {"ANY", 2, 10, 2, {{".+", 1.0f}}, {}},
  };
  return *specs;
}

}  // namespace

std::vector<std::string> BuiltinCountries() {
  std::vector<std::string> out;
  for (const BuiltinSpec& s : Builtins()) out.emplace_back(s.country);
  return out;
}

absl::StatusOr<PlateFormat> BuiltinFormat(const std::string& country) {
  const std::string want = absl::AsciiStrToUpper(country);
  for (const BuiltinSpec& s : Builtins()) {
    if (want != s.country) continue;
    PlateFormat f;
    f.country = s.country;
    f.min_length = s.min_length;
    f.max_length = s.max_length;
    f.typical_min_length = s.typical_min_length;
    f.aliases = s.aliases;
    for (const auto& [pattern, prior] : s.patterns) {
      absl::StatusOr<PlatePattern> p = PlatePattern::Compile(pattern, prior);
      if (!p.ok()) return p.status();
      f.patterns.push_back(*std::move(p));
    }
    return f;
  }
  return absl::NotFoundError(absl::StrCat("no built-in plate format for '", country,
                                          "' (known: ", absl::StrJoin(BuiltinCountries(), ", "),
                                          "); give your own patterns instead"));
}

absl::StatusOr<PlateFormat> CustomFormat(const std::string& name,
                                         const std::vector<std::string>& patterns) {
  if (patterns.empty()) return absl::InvalidArgumentError("a plate format needs a pattern");
  PlateFormat f;
  f.country = name;
  f.min_length = 1;
  f.max_length = 16;  // Longer than any plate; bounds the fitting search.
  for (const std::string& spec : patterns) {
    const size_t colon = spec.rfind(':');
    float prior = 1.0f;
    if (colon != std::string::npos && !absl::SimpleAtof(spec.substr(colon + 1), &prior)) {
      return absl::InvalidArgumentError(
          absl::StrCat("plate pattern \"", spec, "\": the prior after ':' is not a number"));
    }
    absl::StatusOr<PlatePattern> p = PlatePattern::Compile(spec.substr(0, colon), prior);
    if (!p.ok()) return p.status();
    f.patterns.push_back(*std::move(p));
  }
  return f;
}

}  // namespace custos::plate
