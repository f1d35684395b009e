// Country plate formats: which strings a plate of a country can carry, and the correction of
// typical OCR confusions (O/0, I/1, B/8, S/5, Z/2, G/6, ...) at positions where the format says
// whether a letter or a digit stands there (docs/plates.md).
//
// A pattern is a small regular expression over plate characters, written without separators:
//   X        the literal character X (A-Z, 0-9)
//   [A-Z0-9] a class of characters, with ranges
//   .        any plate character (A-Z, 0-9)
//   followed optionally by {n}, {n,m}, ?, * or +.
// A pattern with '.' accepts reads as they are: where any character may stand, the format
// cannot decide between confusable ones.
// e.g. Serbian plates "[A-Z]{2}[0-9]{3,5}[A-Z]{2}" (BG 123-AB).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace custos::plate {

// One token of a compiled pattern: a character class repeated min..max times.
struct PatternToken {
  std::string chars;  // The characters the class allows, sorted.
  int min = 1;
  int max = 1;
};

// A compiled pattern. Thread-safe (immutable).
class PlatePattern {
 public:
  // kInvalidArgument naming the offending position for a malformed pattern.
  static absl::StatusOr<PlatePattern> Compile(const std::string& pattern, float prior = 1.0f);

  bool Matches(const std::string& text) const;

  // The closest string matching the pattern that `text` becomes by replacing characters with
  // their usual OCR confusions (same length, no insertion or deletion), with the fewest
  // replacements; nullopt if none. `substitutions` receives the number of replacements.
  std::optional<std::string> Correct(const std::string& text, int* substitutions) const;

  const std::string& source() const { return source_; }
  float prior() const { return prior_; }

 private:
  std::string source_;
  float prior_ = 1.0f;
  std::vector<PatternToken> tokens_;
  bool corrects_ = true;  // False when a token allows any character.
};

// What a country's plates look like. Thread-safe (immutable after construction).
struct PlateFormat {
  std::string country;  // ISO 3166 alpha-2 code, upper case, or a name such as "EU".
  // Patterns with their prior: how likely a read fitting this pattern is a plate of the
  // country, relative to the others (1 for the country's standard formats, lower for catch-all
  // patterns that would also fit words on signs and stickers).
  std::vector<PlatePattern> patterns;
  int min_length = 2;
  int max_length = 10;
  // Reads shorter than this have their score multiplied by short_prior: a plate split by an
  // emblem reads as two short strings, and the whole line should win over either half.
  int typical_min_length = 1;
  float short_prior = 0.6f;
  // Characters the country does not issue, written as the one they stand for: each pair is
  // (from, to). Applied to a read after it is fitted, without penalty (US serials use no
  // letter O: what reads as O is a 0).
  std::vector<std::pair<char, char>> aliases;
};

// The result of fitting a read to a format.
struct FormatMatch {
  std::string text;       // After correction.
  int substitutions = 0;  // Confusions corrected.
  float score = 0;        // prior * substitution_penalty^substitutions (* short_prior if short).
  std::string pattern;    // The pattern it fits.
};

// Each substitution multiplies the score by this: one corrected confusion in a standard format
// (1.0 * 0.8) still beats an uncorrected fit of a catch-all pattern (prior 0.7).
inline constexpr float kSubstitutionPenalty = 0.8f;

// The best-scoring fit of `text` (A-Z, 0-9 only) to any pattern of `format`; nullopt if the
// read fits none, even after correction, or its length is out of range.
std::optional<FormatMatch> FitFormat(const PlateFormat& format, const std::string& text);

// Built-in formats: "US", "RS" (Serbia), "EU" (generic European), and "ANY" (any 2-10 plate
// characters, no correction). Lookup is case-insensitive. kNotFound listing the known codes.
absl::StatusOr<PlateFormat> BuiltinFormat(const std::string& country);
std::vector<std::string> BuiltinCountries();

// A format from patterns given by the user ("PATTERN" or "PATTERN:PRIOR"). kInvalidArgument for
// a malformed pattern or prior.
absl::StatusOr<PlateFormat> CustomFormat(const std::string& name,
                                         const std::vector<std::string>& patterns);

// The characters of the other class (letter for a digit, digit for a letter) that OCR confuses
// `c` with, most likely first: 0->O,D,Q; O,D,Q->0; I<->1; B<->8; S<->5; Z<->2; G<->6; A<->4;
// T<->7. Empty when `c` has no such partner.
std::string Confusions(char c);

}  // namespace custos::plate
