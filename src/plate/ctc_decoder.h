// Decoding the per-frame class probabilities of a CTC text recogniser into plate strings.
//
// PP-OCR recognisers read thousands of characters (Chinese, latin of both cases, punctuation).
// A plate holds A-Z and 0-9 only, so the decoder folds the model's vocabulary onto that
// alphabet first: lower-case and full-width letters and digits count as their ASCII upper-case
// form; separators (space, '-', '.', '·', ':') and every other character count as the blank,
// so emblems or stray marks between characters neither end nor spoil a read. Then a CTC
// prefix beam search returns the most probable strings.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace custos::plate {

struct CtcCandidate {
  std::string text;
  // Geometric mean over the characters of the string's probability, in [0, 1]: comparable
  // between strings of different length, and close to the mean per-character probability
  // that PaddleOCR reports for a clean read.
  float confidence = 0;
};

// Thread-safe (immutable after construction).
class CtcDecoder {
 public:
  // `vocabulary[i]` is the UTF-8 character of model class i; class 0 is the CTC blank (its
  // entry is ignored).
  explicit CtcDecoder(const std::vector<std::string>& vocabulary);

  // The `top_k` most probable strings of one text line, best first, from `probs`, a row-major
  // [frames x classes] matrix of per-frame probabilities (softmax output) with classes equal to
  // the vocabulary size. Empty strings are dropped. `beam_width` >= top_k.
  std::vector<CtcCandidate> Decode(std::span<const float> probs, int frames, int top_k,
                                   int beam_width) const;

  int classes() const { return static_cast<int>(map_.size()); }

 private:
  // Model class -> 0 for blank, 1 + index into kAlphabet for a plate character.
  std::vector<int> map_;
};

// The plate alphabet, in the order the decoder numbers it.
inline constexpr char kPlateAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// The vocabulary of a PaddleOCR character dictionary (one character per line): blank, the
// lines, then a space if the model has one more class than that (use_space_char).
std::vector<std::string> VocabularyFromDictionary(const std::vector<std::string>& lines,
                                                  int model_classes);

}  // namespace custos::plate
