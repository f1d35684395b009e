#include "face/pairs_csv.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace custos::face {

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  for (std::string& f : fields) f = std::string(absl::StripAsciiWhitespace(f));
  return fields;
}

absl::StatusOr<std::vector<ImagePair>> ParsePairsCsv(std::istream& in) {
  std::string line;
  int line_no = 0;
  bool have_header = false;
  size_t col_a = 0, col_b = 0;
  std::vector<ImagePair> pairs;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::vector<std::string> fields = SplitCsvLine(line);
    if (!have_header) {
      auto a = std::find(fields.begin(), fields.end(), "a");
      auto b = std::find(fields.begin(), fields.end(), "b");
      if (a == fields.end() || b == fields.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("pairs CSV line ", line_no,
                         ": the header must name columns 'a' and 'b' (got '", line, "')"));
      }
      col_a = static_cast<size_t>(a - fields.begin());
      col_b = static_cast<size_t>(b - fields.begin());
      have_header = true;
      continue;
    }
    ImagePair p;
    p.line = line_no;
    if (col_a < fields.size()) p.a = fields[col_a];
    if (col_b < fields.size()) p.b = fields[col_b];
    if (p.a.empty() || p.b.empty()) {
      p.error =
          absl::StrCat("line ", line_no, ": missing ", p.a.empty() ? "'a'" : "'b'", " column");
    }
    pairs.push_back(std::move(p));
  }
  if (!have_header) return absl::InvalidArgumentError("pairs CSV is empty: expected a header a,b");
  return pairs;
}

}  // namespace custos::face
