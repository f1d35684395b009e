#include "plate/ctc_decoder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>

namespace custos::plate {
namespace {

constexpr int kAlphabetSize = sizeof(kPlateAlphabet) - 1;

// 0 (blank) or 1 + the alphabet index of the plate character `utf8` stands for.
int MapCharacter(const std::string& utf8) {
  char c = 0;
  if (utf8.size() == 1) {
    c = utf8[0];
  } else if (utf8.size() == 3 && static_cast<unsigned char>(utf8[0]) == 0xEF) {
    // Full-width forms U+FF10..U+FF19 (digits), U+FF21..U+FF3A, U+FF41..U+FF5A (letters).
    const unsigned b1 = static_cast<unsigned char>(utf8[1]);
    const unsigned b2 = static_cast<unsigned char>(utf8[2]);
    const unsigned code = 0xF000u | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
    if (code >= 0xFF10 && code <= 0xFF19) c = static_cast<char>('0' + (code - 0xFF10));
    if (code >= 0xFF21 && code <= 0xFF3A) c = static_cast<char>('A' + (code - 0xFF21));
    if (code >= 0xFF41 && code <= 0xFF5A) c = static_cast<char>('A' + (code - 0xFF41));
  }
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  const char* p = c == 0 ? nullptr : std::strchr(kPlateAlphabet, c);
  return p == nullptr ? 0 : 1 + static_cast<int>(p - kPlateAlphabet);
}

struct Beam {
  float p_blank = 0;     // Probability of the prefix with the last frame a blank.
  float p_nonblank = 0;  // ... with the last frame its last character.
  float Total() const { return p_blank + p_nonblank; }
};

}  // namespace

CtcDecoder::CtcDecoder(const std::vector<std::string>& vocabulary) {
  map_.resize(vocabulary.size(), 0);
  for (size_t i = 1; i < vocabulary.size(); ++i) map_[i] = MapCharacter(vocabulary[i]);
}

std::vector<CtcCandidate> CtcDecoder::Decode(std::span<const float> probs, int frames, int top_k,
                                             int beam_width) const {
  const size_t classes = map_.size();
  if (frames <= 0 || classes == 0 || probs.size() < static_cast<size_t>(frames) * classes) {
    return {};
  }
  beam_width = std::max(beam_width, top_k);
  // Per frame: probability mass of blank (index 0) and of each plate character.
  std::vector<std::array<float, kAlphabetSize + 1>> folded(static_cast<size_t>(frames));
  for (size_t t = 0; t < folded.size(); ++t) {
    folded[t].fill(0);
    const float* row = probs.data() + t * classes;
    for (size_t k = 0; k < classes; ++k) folded[t][static_cast<size_t>(map_[k])] += row[k];
  }
  // Prefix beam search (Hannun et al. 2014) with a per-frame rescaling to avoid underflow;
  // the log of the scale factors is added back at the end.
  std::map<std::string, Beam> beams = {{"", Beam{1, 0}}};
  double log_scale = 0;
  for (const auto& f : folded) {
    std::map<std::string, Beam> next;
    for (const auto& [prefix, beam] : beams) {
      const float total = beam.Total();
      Beam& same = next[prefix];
      same.p_blank += total * f[0];
      if (!prefix.empty()) {
        const size_t last =
            static_cast<size_t>(std::strchr(kPlateAlphabet, prefix.back()) - kPlateAlphabet) + 1;
        same.p_nonblank += beam.p_nonblank * f[last];  // Repeated character, collapsed.
      }
      for (size_t c = 1; c <= kAlphabetSize; ++c) {
        if (f[c] < 1e-4f) continue;
        const char ch = kPlateAlphabet[c - 1];
        Beam& ext = next[prefix + ch];
        if (!prefix.empty() && prefix.back() == ch) {
          ext.p_nonblank += beam.p_blank * f[c];  // A repeat needs a blank in between.
        } else {
          ext.p_nonblank += total * f[c];
        }
      }
    }
    std::vector<std::pair<std::string, Beam>> sorted(next.begin(), next.end());
    const size_t keep = std::min(sorted.size(), static_cast<size_t>(beam_width));
    std::partial_sort(
        sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(keep), sorted.end(),
        [](const auto& a, const auto& b) { return a.second.Total() > b.second.Total(); });
    sorted.resize(keep);
    float norm = 0;
    for (const auto& [prefix, beam] : sorted) norm = std::max(norm, beam.Total());
    if (norm <= 0) return {};
    beams.clear();
    for (auto& [prefix, beam] : sorted) {
      beam.p_blank /= norm;
      beam.p_nonblank /= norm;
      beams.emplace(prefix, beam);
    }
    log_scale += std::log(static_cast<double>(norm));
  }
  // Ranked by the probability of the whole string, as CTC defines it.
  std::vector<std::pair<double, CtcCandidate>> ranked;
  for (const auto& [prefix, beam] : beams) {
    if (prefix.empty() || beam.Total() <= 0) continue;
    const double log_p = log_scale + std::log(static_cast<double>(beam.Total()));
    const double per_char = log_p / static_cast<double>(prefix.size());
    ranked.push_back(
        {log_p, CtcCandidate{prefix, static_cast<float>(std::exp(std::min(0.0, per_char)))}});
  }
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<CtcCandidate> out;
  for (auto& [log_p, c] : ranked) {
    if (out.size() == static_cast<size_t>(top_k)) break;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> VocabularyFromDictionary(const std::vector<std::string>& lines,
                                                  int model_classes) {
  std::vector<std::string> vocab;
  vocab.reserve(lines.size() + 2);
  vocab.emplace_back("");  // blank
  vocab.insert(vocab.end(), lines.begin(), lines.end());
  if (model_classes == static_cast<int>(vocab.size()) + 1) vocab.emplace_back(" ");
  return vocab;
}

}  // namespace custos::plate
