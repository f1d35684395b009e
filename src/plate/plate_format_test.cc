#include "plate/plate_format.h"

#include <gtest/gtest.h>

namespace custos::plate {
namespace {

PlatePattern Compile(const std::string& p) {
  absl::StatusOr<PlatePattern> c = PlatePattern::Compile(p);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(PlatePattern, MatchesSerbianPlates) {
  const PlatePattern p = Compile("[A-Z]{2}[0-9]{3,5}[A-Z]{2}");
  EXPECT_TRUE(p.Matches("BG123AB"));
  EXPECT_TRUE(p.Matches("NS12345XY"));
  EXPECT_FALSE(p.Matches("BG12AB"));
  EXPECT_FALSE(p.Matches("B1234AB"));
  EXPECT_FALSE(p.Matches("BG123456AB"));
}

TEST(PlatePattern, SupportsLiteralsDotsAndOpenQuantifiers) {
  EXPECT_TRUE(Compile("AB.?[0-9]+").Matches("AB7"));
  EXPECT_TRUE(Compile("AB.?[0-9]+").Matches("ABX77"));
  EXPECT_FALSE(Compile("AB.?[0-9]+").Matches("ACX77"));
  EXPECT_TRUE(Compile(".*[0-9].*").Matches("ABC1"));
  EXPECT_FALSE(Compile(".*[0-9].*").Matches("ABCD"));
}

TEST(PlatePattern, RejectsMalformedPatterns) {
  EXPECT_FALSE(PlatePattern::Compile("[A-Z").ok());
  EXPECT_FALSE(PlatePattern::Compile("[a-z]").ok());
  EXPECT_FALSE(PlatePattern::Compile("A{3,1}").ok());
  EXPECT_FALSE(PlatePattern::Compile("A{x}").ok());
  EXPECT_FALSE(PlatePattern::Compile("AB-12").ok());
  EXPECT_FALSE(PlatePattern::Compile("").ok());
  EXPECT_FALSE(PlatePattern::Compile("AB", 0).ok());
}

TEST(PlatePattern, CorrectsConfusionsWhereTheFormatDecides) {
  const PlatePattern serbian = Compile("[A-Z]{2}[0-9]{3,5}[A-Z]{2}");
  int subs = -1;
  // 8 in a letter position is a B, O in a digit position a 0, 5 in a letter position an S.
  EXPECT_EQ(serbian.Correct("8G1O3A5", &subs), "BG103AS");
  EXPECT_EQ(subs, 3);
  EXPECT_EQ(serbian.Correct("BG123AB", &subs), "BG123AB");
  EXPECT_EQ(subs, 0);
  EXPECT_EQ(serbian.Correct("NS1Z34KI", &subs), "NS1234KI");
  EXPECT_EQ(subs, 1);
  // X has no digit partner: no fit.
  EXPECT_FALSE(serbian.Correct("BGX23AB", &subs).has_value());
}

TEST(PlateFormat, UsFormatKeepsReadsAndRanksWordsLow) {
  absl::StatusOr<PlateFormat> us = BuiltinFormat("us");
  ASSERT_TRUE(us.ok());
  // US serials differ by state, so the format cannot tell O from 0: reads stay as read.
  std::optional<FormatMatch> m = FitFormat(*us, "0SG719");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->text, "0SG719");
  EXPECT_EQ(m->substitutions, 0);
  EXPECT_FLOAT_EQ(m->score, 1.0f);
  // US serials use no letter O: it is a 0, without penalty.
  m = FitFormat(*us, "ML0C2S");
  EXPECT_EQ(FitFormat(*us, "MLOC2S")->text, "ML0C2S");
  EXPECT_FLOAT_EQ(FitFormat(*us, "MLOC2S")->score, 1.0f);
  // Words fit only the low-prior letters-only pattern; short strings rank lower.
  m = FitFormat(*us, "TOYOTA");
  ASSERT_TRUE(m.has_value());
  EXPECT_LT(m->score, 0.5f);
  EXPECT_LT(FitFormat(*us, "627")->score, FitFormat(*us, "627WWI")->score);
  EXPECT_FALSE(FitFormat(*us, "CALIFORNIA").has_value());  // Too long.
}

TEST(PlateFormat, EuFormatCorrectsWhereTheFormatDecides) {
  absl::StatusOr<PlateFormat> eu = BuiltinFormat("EU");
  ASSERT_TRUE(eu.ok());
  // French/Italian AB123CD with the B misread as 8: one correction beats the catch-all.
  std::optional<FormatMatch> m = FitFormat(*eu, "A8123CD");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->text, "AB123CD");
  EXPECT_EQ(m->substitutions, 1);
}

TEST(PlateFormat, BuiltinsAndCustomFormats) {
  for (const std::string& c : BuiltinCountries()) EXPECT_TRUE(BuiltinFormat(c).ok()) << c;
  EXPECT_EQ(BuiltinFormat("XX").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<PlateFormat> rs = BuiltinFormat("RS");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(FitFormat(*rs, "BG1234OO")->text, "BG1234OO");  // O where letters stand stays O.
  EXPECT_EQ(FitFormat(*rs, "8G12O4KI")->text, "BG1204KI");  // 8 -> B, O -> 0 by position.
  EXPECT_FALSE(FitFormat(*rs, "ABC123").has_value());
  absl::StatusOr<PlateFormat> custom = CustomFormat("x", {"[A-Z]{3}[0-9]{3}", "[0-9]{6}:0.5"});
  ASSERT_TRUE(custom.ok());
  EXPECT_FLOAT_EQ(FitFormat(*custom, "123456")->score, 0.5f);
  EXPECT_FALSE(CustomFormat("x", {"[0-9]{6}:abc"}).ok());
}

}  // namespace
}  // namespace custos::plate
