#include "plate/plate_match.h"

#include "gtest/gtest.h"

namespace custos::plate {
namespace {

TEST(PlateMatch, NormalizesCaseAndSeparators) {
  EXPECT_EQ(NormalizePlate("bg 123-ab"), "BG123AB");
  EXPECT_EQ(NormalizePlate("  "), "");
}

TEST(PlateMatch, ExactWithoutConfusions) {
  EXPECT_EQ(MatchPlate("ABC1234", "ABC1234", 0), 0);
  EXPECT_EQ(MatchPlate("abc1234", "ABC-1234", 0), 0);
  EXPECT_FALSE(MatchPlate("ABC1234", "ABC1235", 2));  // 4/5 is no OCR confusion.
  EXPECT_FALSE(MatchPlate("ABC1234", "ABC123", 2));   // A missing character is not either.
}

TEST(PlateMatch, CountsConfusionsUpToTheLimit) {
  EXPECT_FALSE(MatchPlate("AB0123", "ABO123", 0));
  EXPECT_EQ(MatchPlate("AB0123", "ABO123", 1), 1);
  EXPECT_EQ(MatchPlate("8S0123", "B50123", 2), 2);
  EXPECT_FALSE(MatchPlate("8S0I23", "B5O123", 3));  // Four confusions.
  EXPECT_EQ(MatchPlate("8S0I23", "B5O123", 4), 4);
  EXPECT_TRUE(Confusable('1', 'I'));
  EXPECT_TRUE(Confusable('Z', '2'));
  EXPECT_FALSE(Confusable('A', 'A'));
  EXPECT_FALSE(Confusable('K', 'X'));
}

TEST(PlateMatch, WildcardsForPartialPlates) {
  EXPECT_EQ(MatchPlate("AB?123", "ABX123", 0), 0);
  EXPECT_FALSE(MatchPlate("AB?123", "AB123", 0));  // '?' is exactly one character.
  EXPECT_EQ(MatchPlate("*123", "XYZ123", 0), 0);
  EXPECT_EQ(MatchPlate("AB*", "AB", 0), 0);
  EXPECT_EQ(MatchPlate("A*1*3", "AXX1YY3", 0), 0);
  EXPECT_EQ(MatchPlate("*I23", "XY123", 1), 1);  // Wildcards and confusions together.
  EXPECT_FALSE(MatchPlate("*123", "XYZ124", 0));
}

TEST(PlateMatch, PatternsNeedTwoKnownCharacters) {
  EXPECT_TRUE(ValidPlatePattern("AB*"));
  EXPECT_TRUE(ValidPlatePattern("ab?12"));
  EXPECT_FALSE(ValidPlatePattern("*"));
  EXPECT_FALSE(ValidPlatePattern("A??"));
  EXPECT_FALSE(ValidPlatePattern("AB-12"));
  EXPECT_FALSE(ValidPlatePattern(""));
  EXPECT_FALSE(ValidPlatePattern("ABCDEFGHIJKLMNOPQ"));
}

}  // namespace
}  // namespace custos::plate
