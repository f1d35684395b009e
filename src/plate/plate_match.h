// Plate texts compared the way OCR gets them wrong: a hotlist entry or an investigator's query
// should still find "AB0123" read as "ABO123". Only substitutions between characters OCR
// confuses count as confusions (O/0/D/Q, I/1/J/L/T, B/8, S/5, Z/2, G/6/C, A/4, 7/T, E/F: see
// plate_match.cc); any other difference is a mismatch. docs/plates.md "Matching".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace custos::plate {

// Upper-case A-Z and 0-9 only; separators, spaces and other characters dropped ("ab-12 3" ->
// "AB123").
std::string NormalizePlate(std::string_view text);

// Whether OCR commonly reads `a` as `b` (symmetric; false for equal characters).
bool Confusable(char a, char b);

// The fewest confusions with which `pattern` matches all of `text`, if at most
// `max_confusions`; nullopt otherwise. Both are compared normalised (upper case); the
// pattern may also hold '?' (any one character) and '*' (any run, also empty), which cost
// nothing.
std::optional<int> MatchPlate(std::string_view pattern, std::string_view text, int max_confusions);

// Whether `pattern` is a usable query: 1..16 characters of A-Z, 0-9, '?', '*', with at least
// two characters that are not wildcards (a bare "*" would list every car).
bool ValidPlatePattern(std::string_view pattern);

}  // namespace custos::plate
