#include "plate/ctc_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace custos::plate {
namespace {

// A vocabulary like PP-OCR's: blank, some characters of other scripts and cases, separators.
const std::vector<std::string> kVocab = {
    "", "A", "b", "1", "-", "\xE4\xB8\xAD" /* 中 */, "\xEF\xBC\xA3" /* full-width C */, "7", " "};

// Frames of one-hot-ish probabilities: each frame puts `p` on one class, the rest on blank.
std::vector<float> Frames(const std::vector<std::pair<int, float>>& frames) {
  std::vector<float> probs;
  for (const auto& [cls, p] : frames) {
    std::vector<float> row(kVocab.size(), 0);
    row[static_cast<size_t>(cls)] = p;
    row[0] += 1 - p;
    probs.insert(probs.end(), row.begin(), row.end());
  }
  return probs;
}

TEST(CtcDecoder, CollapsesRepeatsAndFoldsCaseAndFullWidth) {
  const CtcDecoder decoder(kVocab);
  // A A _ b 1 1 _ 1 C  -> "AB11C"
  const std::vector<float> probs = Frames({{1, 0.99f},
                                           {1, 0.99f},
                                           {0, 1},
                                           {2, 0.99f},
                                           {3, 0.99f},
                                           {3, 0.99f},
                                           {0, 1},
                                           {3, 0.99f},
                                           {6, 0.99f}});
  const auto out = decoder.Decode(probs, 9, 3, 8);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].text, "AB11C");
  EXPECT_GT(out[0].confidence, 0.95f);
}

TEST(CtcDecoder, SeparatorsAndOtherScriptsActAsBlank) {
  const CtcDecoder decoder(kVocab);
  // 7 - 7 and 7 中 7 both read "77" (the separator splits the repeat like a blank).
  EXPECT_EQ(decoder.Decode(Frames({{7, 0.99f}, {4, 0.99f}, {7, 0.99f}}), 3, 1, 4)[0].text, "77");
  EXPECT_EQ(decoder.Decode(Frames({{7, 0.99f}, {5, 0.99f}, {7, 0.99f}}), 3, 1, 4)[0].text, "77");
  EXPECT_EQ(decoder.Decode(Frames({{7, 0.99f}, {8, 0.99f}, {1, 0.99f}}), 3, 1, 4)[0].text, "7A");
}

TEST(CtcDecoder, ReturnsAlternativesBestFirst) {
  const CtcDecoder decoder(kVocab);
  // Second frame: 1 with 0.6, 7 with 0.4.
  std::vector<float> probs = Frames({{1, 1.0f}, {3, 0.6f}, {0, 1}});
  probs[kVocab.size() + 7] = 0.4f;
  probs[kVocab.size() + 0] = 0;
  const auto out = decoder.Decode(probs, 3, 2, 4);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].text, "A1");
  EXPECT_EQ(out[1].text, "A7");
  EXPECT_GT(out[0].confidence, out[1].confidence);
  EXPECT_NEAR(out[0].confidence, std::sqrt(0.6f), 1e-3);
}

TEST(CtcDecoder, HandlesEmptyAndMalformedInput) {
  const CtcDecoder decoder(kVocab);
  EXPECT_TRUE(decoder.Decode({}, 0, 3, 4).empty());
  EXPECT_TRUE(decoder.Decode(Frames({{0, 1}, {0, 1}}), 2, 3, 4).empty());  // All blank.
  const std::vector<float> short_probs(5, 0.1f);
  EXPECT_TRUE(decoder.Decode(short_probs, 3, 3, 4).empty());
}

TEST(CtcDecoder, VocabularyAddsBlankAndSpace) {
  const std::vector<std::string> lines = {"a", "b"};
  EXPECT_EQ(VocabularyFromDictionary(lines, 4).size(), 4u);
  EXPECT_EQ(VocabularyFromDictionary(lines, 4).back(), " ");
  EXPECT_EQ(VocabularyFromDictionary(lines, 3).size(), 3u);
}

}  // namespace
}  // namespace custos::plate
