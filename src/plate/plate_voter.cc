#include "plate/plate_voter.h"

namespace custos::plate {

bool PlateVoter::Add(const PlateRead& read, int64_t timestamp_ms) {
  if (read.text.empty() || read.confidence < options_.min_confidence) return false;
  ++reads_;
  // A read without candidates still votes for its text.
  std::vector<PlateCandidate> candidates = read.candidates;
  if (candidates.empty() || candidates[0].text != read.text) {
    candidates.insert(candidates.begin(), {read.text, read.confidence});
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    const PlateCandidate& c = candidates[i];
    const float w = c.confidence * (i == 0 ? 1.0f : options_.alternative_weight);
    Tally& t = tallies_[c.text];
    t.weight += w;
    total_weight_ += w;
    if (i == 0) {
      ++t.agreeing;
      if (c.confidence > t.best_confidence) {
        t.best_confidence = c.confidence;
        t.best_timestamp_ms = timestamp_ms;
      }
    }
  }
  return true;
}

std::optional<PlateVote> PlateVoter::Result() const {
  if (reads_ < options_.min_reads || tallies_.empty() || total_weight_ <= 0) return std::nullopt;
  const std::pair<const std::string, Tally>* best = nullptr;
  for (const auto& entry : tallies_) {
    if (best == nullptr || entry.second.weight > best->second.weight ||
        (entry.second.weight == best->second.weight &&
         entry.second.best_confidence > best->second.best_confidence)) {
      best = &entry;
    }
  }
  PlateVote vote;
  vote.text = best->first;
  vote.confidence = best->second.weight / total_weight_;
  vote.reads = reads_;
  vote.agreeing = best->second.agreeing;
  vote.best_read_confidence = best->second.best_confidence;
  vote.best_read_timestamp_ms = best->second.best_timestamp_ms;
  return vote;
}

}  // namespace custos::plate
