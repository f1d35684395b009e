// Live face recognition on person tracks (DESIGN.md §1.2–1.3, docs/face.md "Watchlists"):
// the pipeline calls it once per analysed frame with the frame, the camera, the frame's wall
// time and the confirmed person tracks. For each track it makes several attempts over
// successive frames (a budget per track, a minimum interval between attempts): the face
// detector on the head region of the person box, the quality gate, the embedder, the
// watchlist matcher. The identity is decided by a vote weighted by face quality; only when the
// vote decides for an active entry does it return a FaceMatch (a lead for a person to verify).
//
// It runs only where the policy engine allows face recognition for that camera, time and the
// person's zones: without an authorisation in force, or inside a protected assembly, nothing
// runs — not even face detection. With no active watchlist entry, nothing runs either.
//
// Data minimisation: the embedding, landmarks and crop of a face that matches no active
// entry are dropped (and their memory overwritten) before the next face is looked at; they
// are never logged or stored. What a track keeps across frames is its vote tally (entry ids
// and weights) and, only for attempts that matched an entry, that attempt's face crop — the
// candidate evidence of a lead — until the vote decides or the track ends.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/geometry.h"
#include "face/face_analyzer.h"
#include "policy/policy_engine.h"
#include "watchlist/watchlist_matcher.h"
#include "watchlist/watchlist_types.h"

namespace custos::watchlist {

// The face models as the recognizer uses them. Implementations must be thread-safe.
class FaceSource {
 public:
  virtual ~FaceSource() = default;
  // The largest face in `image` (8-bit BGR), with quality verdict and — only when it passed the
  // quality gate — its embedding; nullopt when there is none. Errors: kInvalidArgument.
  virtual absl::StatusOr<std::optional<face::AnalyzedFace>> LargestFace(const cv::Mat& image) = 0;
};

// face::FaceAnalyzer as a FaceSource. REQUIRES: `analyzer` outlives it.
class AnalyzerFaceSource final : public FaceSource {
 public:
  explicit AnalyzerFaceSource(face::FaceAnalyzer* analyzer) : analyzer_(analyzer) {}
  absl::StatusOr<std::optional<face::AnalyzedFace>> LargestFace(const cv::Mat& image) override {
    return analyzer_->AnalyzeLargest(image);
  }

 private:
  face::FaceAnalyzer* const analyzer_;
};

// A confirmed person track on this frame, as the pipeline has it (pipeline::TrackView).
struct PersonTrack {
  int64_t track_id = 0;
  BoxF box;           // Frame pixels.
  bool lost = false;  // Predicted, not seen on this frame: no attempt.
  // The camera zones the person stands in (names of config zones); nullopt asks about the
  // camera's whole view, which is off when any part of it is inside a protected assembly.
  std::optional<std::vector<std::string>> zones;
};

// Person tracks from the pipeline's tracks (pipeline::TrackView or any type with id, label,
// box and lost). Zones are left unset (whole view).
template <typename TrackLike>
std::vector<PersonTrack> PersonTracksFrom(const std::vector<TrackLike>& tracks) {
  std::vector<PersonTrack> out;
  for (const TrackLike& t : tracks) {
    if (t.label == "person") out.push_back({t.id, t.box, t.lost, std::nullopt});
  }
  return out;
}

struct RecognizerOptions {
  // Face-detector runs (attempts) per track, and the least time between two on one track:
  // successive frames of one walk give different poses, and the budget bounds the cost of a
  // person who stays long in view.
  int max_attempts_per_track = 20;
  int64_t min_attempt_interval_ms = 300;
  // Lowest face-detector score of a face that may vote. Real faces score 0.75-0.95, backs of
  // heads up to about 0.65 (docs/face.md); the quality gate's pose rules miss some of the
  // latter: in the person video the back of a long-haired head (score 0.55) passes them.
  float min_face_score = 0.7f;
  // Embeddings per track (the expensive step, ~15x one detector run): the vote's size.
  int max_embeddings_per_track = 8;
  // Attempts per frame over all tracks of the camera (fewest-tried tracks first), which bounds
  // the per-frame cost when a crowd walks in.
  int max_attempts_per_frame = 2;
  // The vote: an entry wins when at least min_agreeing embedded attempts matched it and their
  // quality weights make at least min_vote_share of all embedded attempts' weights.
  int min_agreeing = 2;
  float min_vote_share = 0.6f;
  // The head region searched: the top of the person box, as tall as the box is wide (times
  // this factor, clipped to the box), widened by head_margin of the width on each side.
  float head_height_factor = 1.0f;
  float head_margin = 0.1f;
  // A track absent for this long is forgotten, with its tally and candidate crops.
  int64_t forget_after_ms = 10'000;
  // The stored crop: the face box plus crop_margin of its size on each side, JPEG quality.
  float crop_margin = 0.4f;
  int crop_jpeg_quality = 90;
  // TESTS ONLY: sees every embedding computed (before it is dropped), so that the
  // minimisation test can search the disk for it. Never set in production.
  std::function<void(const face::Embedding&)> test_embedding_hook;
};

// Counters since creation; no biometric data.
struct RecognizerStats {
  int64_t frames = 0;
  int64_t refused_tracks = 0;  // Track-frames on which the policy engine said no.
  std::map<std::string, int64_t> refused_by_rule;  // By Decision::rule_id.
  int64_t empty_watchlist_frames = 0;              // Skipped: no active entry.
  int64_t attempts = 0;                            // Face-detector runs.
  int64_t no_face = 0;
  int64_t low_quality = 0;  // Found, failed the quality gate or min_face_score.
  int64_t embedded = 0;
  int64_t candidate_hits = 0;  // Embedded faces at or above the threshold of some entry.
  int64_t matches = 0;         // Votes decided: FaceMatch returned.
};

// The quality weight of one embedded attempt, in (0, 1]: detector score x size (face width /
// 100 px, at most 1) x pose (1 - |yaw| / 0.9, at least 0.1) x sharpness (Laplacian variance /
// 100, at least 0.1, at most 1).
float QualityWeight(const face::AnalyzedFace& face);

// Where the recognizer looks for a person's face: the top of the person box (see
// RecognizerOptions::head_height_factor, head_margin), clipped to the frame. May be empty.
cv::Rect HeadRegion(const BoxF& person, const cv::Size& frame, const RecognizerOptions& options);

// Not thread-safe: one per camera thread (state is kept per camera and track id). The matcher,
// face source and policy engine it uses are shared and thread-safe.
class TrackFaceRecognizer {
 public:
  // REQUIRES: all three outlive the recognizer. kInvalidArgument for options out of range.
  static absl::StatusOr<std::unique_ptr<TrackFaceRecognizer>> Create(
      const RecognizerOptions& options, const policy::PolicyEngine* policy,
      WatchlistMatcher* matcher, FaceSource* faces);
  ~TrackFaceRecognizer();

  // One analysed frame: `frame` the BGR image the track boxes refer to, `wall_ms` its UTC
  // time. Returns the matches decided on this frame (usually none).
  // Errors: the face source's (kInvalidArgument for a bad image), the matcher's (kDataLoss,
  // kUnavailable); state stays consistent and the next frame can be processed.
  absl::StatusOr<std::vector<FaceMatch>> ProcessFrame(std::string_view camera, int64_t wall_ms,
                                                      const cv::Mat& frame,
                                                      std::span<const PersonTrack> tracks);

  // Forgets a camera's tracks (camera stopped).
  void Reset(std::string_view camera);

  const RecognizerStats& stats() const { return stats_; }
  size_t tracked() const { return tracks_.size(); }

 private:
  struct Candidate;  // An entry's share of a track's vote.
  struct TrackState;
  TrackFaceRecognizer(const RecognizerOptions& options, const policy::PolicyEngine* policy,
                      WatchlistMatcher* matcher, FaceSource* faces);
  // One attempt on one track. Appends a decided match to `out`.
  absl::Status Attempt(std::string_view camera, int64_t wall_ms, const cv::Mat& frame,
                       const PersonTrack& track, TrackState& state, std::vector<FaceMatch>& out);

  const RecognizerOptions options_;
  const policy::PolicyEngine* const policy_;
  WatchlistMatcher* const matcher_;
  FaceSource* const faces_;
  std::map<std::pair<std::string, int64_t>, std::unique_ptr<TrackState>> tracks_;
  RecognizerStats stats_;
};

}  // namespace custos::watchlist
