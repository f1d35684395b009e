// The pairs file of `custos face compare --pairs`: CSV with a header naming columns `a` and `b`
// (image paths; other columns are ignored), one pair per row. Quoted fields ("..." with "" for a
// quote) are allowed.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace custos::face {

struct ImagePair {
  int line = 0;  // 1-based line of the file.
  std::string a;
  std::string b;
  std::string error;  // Non-empty for a row that cannot be used (the others still run).
};

// kInvalidArgument when the header is missing or lacks an `a` or `b` column. Rows with a missing
// or empty a/b field come back with `error` set; blank lines are skipped.
absl::StatusOr<std::vector<ImagePair>> ParsePairsCsv(std::istream& in);

// One CSV line split into fields. Exposed for tests.
std::vector<std::string> SplitCsvLine(const std::string& line);

}  // namespace custos::face
