// Voting across the reads of one vehicle track: a plate seen in many frames is read many times,
// some of them wrong (motion blur, a frame where a character is occluded). Each read votes for
// its candidates, weighted by confidence; the text with the most weight wins.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "plate/plate_reader.h"

namespace custos::plate {

struct PlateVoterOptions {
  // A read's first candidate votes with its confidence; the k-th (k >= 2) with its confidence
  // times this, so alternatives break ties between frames without outvoting clear reads.
  float alternative_weight = 0.25f;
  // Reads below this confidence do not vote (a plate barely visible at the frame's edge).
  float min_confidence = 0.3f;
  // A result needs at least this many voting reads.
  int min_reads = 1;
};

struct PlateVote {
  std::string text;
  // The winner's share of all votes, in [0, 1]: 1 when every read agreed.
  float confidence = 0;
  int reads = 0;                       // Reads that voted.
  int agreeing = 0;                    // Reads whose first candidate was the winner.
  float best_read_confidence = 0;      // The highest confidence of a read of the winner.
  int64_t best_read_timestamp_ms = 0;  // When that read was taken (for the snapshot).
};

// One per track. Thread-compatible.
class PlateVoter {
 public:
  explicit PlateVoter(PlateVoterOptions options = {}) : options_(options) {}

  // Adds one read of the track's plate taken at `timestamp_ms`. Reads below
  // options.min_confidence are ignored; returns whether the read voted.
  bool Add(const PlateRead& read, int64_t timestamp_ms);

  // The winning text so far; nullopt before min_reads reads voted. Ties go to the text whose
  // best read is more confident.
  std::optional<PlateVote> Result() const;

  int reads() const { return reads_; }

 private:
  struct Tally {
    float weight = 0;
    int agreeing = 0;
    float best_confidence = 0;
    int64_t best_timestamp_ms = 0;
  };
  const PlateVoterOptions options_;
  std::map<std::string, Tally> tallies_;
  float total_weight_ = 0;
  int reads_ = 0;
};

}  // namespace custos::plate
