#include "watchlist/track_face_recognizer.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "watchlist/sealed_db.h"

namespace custos::watchlist {
namespace {

// Overwrites an image's pixels before it is released (a face crop of a possible passer-by).
void WipeImage(cv::Mat& image) {
  if (!image.empty()) image.setTo(cv::Scalar::all(0));
  image.release();
}

cv::Rect Clip(const cv::Rect& r, const cv::Size& size) { return r & cv::Rect({0, 0}, size); }

}  // namespace

struct TrackFaceRecognizer::Candidate {
  std::string label;
  SubjectCategory category = SubjectCategory::kWantedSuspect;
  int count = 0;
  float weight = 0;
  float best_weight = -1;
  float best_score = 0;
  int64_t best_time_ms = 0;
  cv::Mat best_crop;  // The face crop of the best-weighted attempt that matched this entry.
};

struct TrackFaceRecognizer::TrackState {
  ~TrackState() {
    for (auto& [id, c] : candidates) WipeImage(c.best_crop);
  }
  int64_t last_seen_ms = 0;
  int64_t last_attempt_ms = 0;
  bool attempted = false;
  int attempts = 0;
  int embedded = 0;
  float total_weight = 0;
  bool decided = false;
  std::map<std::string, Candidate> candidates;  // By entry id.
};

cv::Rect HeadRegion(const BoxF& b, const cv::Size& frame, const RecognizerOptions& options) {
  const float head_h = std::min(b.h, b.w * options.head_height_factor);
  const float margin = b.w * options.head_margin;
  return Clip(cv::Rect(static_cast<int>(std::floor(b.x - margin)),
                       static_cast<int>(std::floor(b.y - 0.1f * head_h)),
                       static_cast<int>(std::ceil(b.w + 2 * margin)),
                       static_cast<int>(std::ceil(1.1f * head_h))),
              frame);
}

float QualityWeight(const face::AnalyzedFace& face) {
  const float score = std::clamp(face.detection.score, 0.0f, 1.0f);
  const float size = std::clamp(face.quality.size_px / 100.0f, 0.1f, 1.0f);
  const float pose = std::clamp(1.0f - std::abs(face.quality.yaw) / 0.9f, 0.1f, 1.0f);
  const float sharp = std::clamp(face.quality.sharpness / 100.0f, 0.1f, 1.0f);
  return std::max(score * size * pose * sharp, 1e-3f);
}

absl::StatusOr<std::unique_ptr<TrackFaceRecognizer>> TrackFaceRecognizer::Create(
    const RecognizerOptions& options, const policy::PolicyEngine* policy, WatchlistMatcher* matcher,
    FaceSource* faces) {
  if (policy == nullptr || matcher == nullptr || faces == nullptr) {
    return absl::InvalidArgumentError(
        "the face recognizer needs the policy engine, the watchlist matcher and the face models");
  }
  if (options.max_attempts_per_track < 1 || options.max_embeddings_per_track < 1 ||
      options.max_attempts_per_frame < 1 || options.min_agreeing < 1 ||
      options.min_attempt_interval_ms < 0 || options.forget_after_ms < 1) {
    return absl::InvalidArgumentError(
        "recognizer budgets must be at least 1 (max_attempts_per_track, "
        "max_embeddings_per_track, max_attempts_per_frame, min_agreeing, forget_after_ms) and "
        "min_attempt_interval_ms not negative");
  }
  if (options.min_agreeing > options.max_embeddings_per_track) {
    return absl::InvalidArgumentError(
        "min_agreeing is larger than max_embeddings_per_track: no vote could ever decide");
  }
  if (!(options.min_face_score >= 0 && options.min_face_score <= 1)) {
    return absl::InvalidArgumentError("min_face_score must be in [0, 1]");
  }
  if (!(options.min_vote_share > 0.5f && options.min_vote_share <= 1.0f)) {
    return absl::InvalidArgumentError(
        "min_vote_share must be in (0.5, 1]: a match needs a majority of the weighted vote");
  }
  if (!(options.head_height_factor > 0) || options.head_margin < 0 || options.crop_margin < 0 ||
      options.crop_jpeg_quality < 1 || options.crop_jpeg_quality > 100) {
    return absl::InvalidArgumentError(
        "head_height_factor must be positive, margins not negative, crop_jpeg_quality 1..100");
  }
  return std::unique_ptr<TrackFaceRecognizer>(
      new TrackFaceRecognizer(options, policy, matcher, faces));
}

TrackFaceRecognizer::TrackFaceRecognizer(const RecognizerOptions& options,
                                         const policy::PolicyEngine* policy,
                                         WatchlistMatcher* matcher, FaceSource* faces)
    : options_(options), policy_(policy), matcher_(matcher), faces_(faces) {}

TrackFaceRecognizer::~TrackFaceRecognizer() = default;

void TrackFaceRecognizer::Reset(std::string_view camera) {
  std::erase_if(tracks_, [&](const auto& kv) { return kv.first.first == camera; });
}

absl::StatusOr<std::vector<FaceMatch>> TrackFaceRecognizer::ProcessFrame(
    std::string_view camera, int64_t wall_ms, const cv::Mat& frame,
    std::span<const PersonTrack> tracks) {
  ++stats_.frames;
  std::vector<FaceMatch> out;
  // Forget tracks of this camera that are gone, with whatever they held.
  std::erase_if(tracks_, [&](const auto& kv) {
    return kv.first.first == camera && wall_ms - kv.second->last_seen_ms > options_.forget_after_ms;
  });
  if (tracks.empty() || frame.empty()) return out;
  CUSTOS_ASSIGN_OR_RETURN(const size_t active, matcher_->ActiveEntries(wall_ms));
  if (active == 0) {
    ++stats_.empty_watchlist_frames;
    return out;
  }

  struct Pick {
    const PersonTrack* track;
    TrackState* state;
  };
  std::vector<Pick> picks;
  for (const PersonTrack& track : tracks) {
    if (track.lost || !(track.box.w >= 1 && track.box.h >= 1)) continue;
    // The policy engine decides per frame and per person (zones); refused: nothing runs.
    const policy::Decision allowed =
        policy_->FaceRecognitionAllowed({std::string(camera), wall_ms, track.zones});
    if (!allowed.allowed) {
      ++stats_.refused_tracks;
      ++stats_.refused_by_rule[allowed.rule_id];
      continue;
    }
    std::unique_ptr<TrackState>& state = tracks_[{std::string(camera), track.track_id}];
    if (!state) state = std::make_unique<TrackState>();
    state->last_seen_ms = wall_ms;
    if (state->decided || state->attempts >= options_.max_attempts_per_track ||
        state->embedded >= options_.max_embeddings_per_track ||
        (state->attempted && wall_ms - state->last_attempt_ms < options_.min_attempt_interval_ms)) {
      continue;
    }
    picks.push_back({&track, state.get()});
  }
  // Fewest attempts first, then the largest person (the best chance of a usable face).
  std::stable_sort(picks.begin(), picks.end(), [](const Pick& a, const Pick& b) {
    if (a.state->attempts != b.state->attempts) return a.state->attempts < b.state->attempts;
    return a.track->box.Area() > b.track->box.Area();
  });
  if (static_cast<int>(picks.size()) > options_.max_attempts_per_frame) {
    picks.resize(static_cast<size_t>(options_.max_attempts_per_frame));
  }
  for (const Pick& pick : picks) {
    CUSTOS_RETURN_IF_ERROR(Attempt(camera, wall_ms, frame, *pick.track, *pick.state, out));
  }
  return out;
}

absl::Status TrackFaceRecognizer::Attempt(std::string_view camera, int64_t wall_ms,
                                          const cv::Mat& frame, const PersonTrack& track,
                                          TrackState& state, std::vector<FaceMatch>& out) {
  const cv::Rect head = HeadRegion(track.box, frame.size(), options_);
  state.attempted = true;
  state.last_attempt_ms = wall_ms;
  ++state.attempts;
  if (head.width < 16 || head.height < 16) {
    ++stats_.no_face;
    return absl::OkStatus();
  }
  ++stats_.attempts;
  cv::Mat region = frame(head).clone();
  absl::StatusOr<std::optional<face::AnalyzedFace>> found = faces_->LargestFace(region);
  if (!found.ok()) {
    WipeImage(region);
    return found.status();
  }
  if (!found->has_value()) {
    ++stats_.no_face;
    WipeImage(region);
    return absl::OkStatus();
  }
  face::AnalyzedFace& face = **found;
  if (!face.quality.passed || face.embedding.empty()) {
    ++stats_.low_quality;
    face.landmarks.clear();
    WipeImage(region);
    return absl::OkStatus();
  }
  if (options_.test_embedding_hook) options_.test_embedding_hook(face.embedding);
  if (face.detection.score < options_.min_face_score) {
    ++stats_.low_quality;
    Wipe(face.embedding);
    face.landmarks.clear();
    WipeImage(region);
    return absl::OkStatus();
  }
  ++stats_.embedded;
  ++state.embedded;
  const float weight = QualityWeight(face);
  absl::StatusOr<std::optional<WatchlistHit>> hit = matcher_->Match(face.embedding, wall_ms);
  // The probe is no longer needed, whatever the answer.
  Wipe(face.embedding);
  face.landmarks.clear();
  if (!hit.ok()) {
    WipeImage(region);
    return hit.status();
  }
  state.total_weight += weight;
  if (hit->has_value()) {
    ++stats_.candidate_hits;
    const WatchlistHit& h = **hit;
    Candidate& c = state.candidates[h.entry_id];
    c.label = h.label;
    c.category = h.category;
    ++c.count;
    c.weight += weight;
    if (weight > c.best_weight) {
      c.best_weight = weight;
      c.best_score = h.score;
      c.best_time_ms = wall_ms;
      const cv::Rect2f& f = face.detection.box;
      const float m = options_.crop_margin * std::max(f.width, f.height);
      const cv::Rect crop =
          Clip(cv::Rect(static_cast<int>(std::floor(static_cast<float>(head.x) + f.x - m)),
                        static_cast<int>(std::floor(static_cast<float>(head.y) + f.y - m)),
                        static_cast<int>(std::ceil(f.width + 2 * m)),
                        static_cast<int>(std::ceil(f.height + 2 * m))),
               frame.size());
      WipeImage(c.best_crop);
      if (crop.area() > 0) c.best_crop = frame(crop).clone();
    }
  }
  WipeImage(region);

  // The vote: the entry with the most weight, if it has enough agreeing attempts and share.
  const Candidate* best = nullptr;
  std::string best_id;
  for (const auto& [id, c] : state.candidates) {
    if (best == nullptr || c.weight > best->weight) {
      best = &c;
      best_id = id;
    }
  }
  if (best == nullptr || best->count < options_.min_agreeing ||
      best->weight < options_.min_vote_share * state.total_weight || best->best_crop.empty()) {
    // Out of budget without a decision: drop the candidates' crops now.
    if (state.embedded >= options_.max_embeddings_per_track ||
        state.attempts >= options_.max_attempts_per_track) {
      for (auto& [id, c] : state.candidates) WipeImage(c.best_crop);
      state.candidates.clear();
    }
    return absl::OkStatus();
  }
  FaceMatch match;
  match.entry_id = best_id;
  match.label = best->label;
  match.category = best->category;
  match.score = best->best_score;
  match.camera = std::string(camera);
  match.track_id = track.track_id;
  match.time_ms = best->best_time_ms;
  match.attempts = state.embedded;
  match.agreeing = best->count;
  match.vote_share = state.total_weight > 0 ? best->weight / state.total_weight : 0;
  std::vector<unsigned char> jpeg;
  if (!cv::imencode(".jpg", best->best_crop, jpeg,
                    {cv::IMWRITE_JPEG_QUALITY, options_.crop_jpeg_quality})) {
    return absl::InternalError("cannot encode the face crop of a match as JPEG");
  }
  match.crop_jpeg.assign(jpeg.begin(), jpeg.end());
  state.decided = true;
  for (auto& [id, c] : state.candidates) WipeImage(c.best_crop);
  state.candidates.clear();
  ++stats_.matches;
  out.push_back(std::move(match));
  return absl::OkStatus();
}

}  // namespace custos::watchlist
