#include "track/tracker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "track/linear_assignment.h"

namespace custos::track {
namespace {

constexpr double kForbidden = std::numeric_limits<double>::infinity();

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("tracker options: ", message));
}

bool InRange(double v, double lo, double hi) { return v >= lo && v <= hi; }

absl::Status Validate(const TrackerOptions& o) {
  if (!(o.high_thresh > 0 && o.high_thresh <= 1)) {
    return Invalid(absl::StrCat("high_thresh must be in (0, 1], got ", o.high_thresh));
  }
  if (!InRange(o.low_thresh, 0, o.high_thresh)) {
    return Invalid(absl::StrCat("low_thresh must be in [0, high_thresh], got ", o.low_thresh));
  }
  if (!InRange(o.new_track_thresh, o.high_thresh, 1)) {
    return Invalid(
        absl::StrCat("new_track_thresh must be in [high_thresh, 1], got ", o.new_track_thresh));
  }
  for (const auto& [name, value] : {std::pair<const char*, float>{"match_iou", o.match_iou},
                                    {"low_match_iou", o.low_match_iou},
                                    {"tentative_match_iou", o.tentative_match_iou},
                                    {"duplicate_iou", o.duplicate_iou},
                                    {"searched_coverage", o.searched_coverage},
                                    {"stationary_move_fraction", o.stationary_move_fraction},
                                    {"snapshot_edge_penalty", o.snapshot_edge_penalty}}) {
    if (!(value > 0 && value <= 1)) {
      return Invalid(absl::StrCat(name, " must be in (0, 1], got ", value));
    }
  }
  if (!(o.size_change_tolerance > 0 && o.size_change_tolerance <= 10)) {
    return Invalid(
        absl::StrCat("size_change_tolerance must be in (0, 10], got ", o.size_change_tolerance));
  }
  if (!InRange(o.max_jump_heights, 0, 10)) {
    return Invalid(absl::StrCat("max_jump_heights must be in [0, 10], got ", o.max_jump_heights));
  }
  if (!InRange(o.max_jump_size_ratio, 1, 10)) {
    return Invalid(
        absl::StrCat("max_jump_size_ratio must be in [1, 10], got ", o.max_jump_size_ratio));
  }
  if (o.confirm_hits < 1 || o.confirm_hits > 100) {
    return Invalid(absl::StrCat("confirm_hits must be in [1, 100], got ", o.confirm_hits));
  }
  if (!InRange(static_cast<double>(o.confirm_window_ms), 0, 600'000)) {
    return Invalid(
        absl::StrCat("confirm_window_ms must be in [0, 600000], got ", o.confirm_window_ms));
  }
  if (o.tentative_max_misses < 1 || o.tentative_max_misses > 100) {
    return Invalid(
        absl::StrCat("tentative_max_misses must be in [1, 100], got ", o.tentative_max_misses));
  }
  if (!InRange(static_cast<double>(o.max_lost_ms), 0, 600'000)) {
    return Invalid(absl::StrCat("max_lost_ms must be in [0, 600000], got ", o.max_lost_ms));
  }
  if (!InRange(o.min_in_frame_fraction, 0, 1)) {
    return Invalid(
        absl::StrCat("min_in_frame_fraction must be in [0, 1], got ", o.min_in_frame_fraction));
  }
  if (!InRange(static_cast<double>(o.stationary_after_ms), 0, 86'400'000)) {
    return Invalid(
        absl::StrCat("stationary_after_ms must be in [0, 86400000], got ", o.stationary_after_ms));
  }
  if (!(o.snapshot_full_size_px >= 1) || !std::isfinite(o.snapshot_full_size_px)) {
    return Invalid(
        absl::StrCat("snapshot_full_size_px must be >= 1, got ", o.snapshot_full_size_px));
  }
  if (!InRange(o.snapshot_margin, 0, 2)) {
    return Invalid(absl::StrCat("snapshot_margin must be in [0, 2], got ", o.snapshot_margin));
  }
  if (o.snapshot_max_side_px < 16 || o.snapshot_max_side_px > 4096) {
    return Invalid(
        absl::StrCat("snapshot_max_side_px must be in [16, 4096], got ", o.snapshot_max_side_px));
  }
  const KalmanOptions& k = o.kalman;
  for (const auto& [name, value] :
       {std::pair<const char*, double>{"kalman.position_noise", k.position_noise},
        {"kalman.velocity_noise", k.velocity_noise},
        {"kalman.size_velocity_noise", k.size_velocity_noise},
        {"kalman.measurement_noise", k.measurement_noise},
        {"kalman.initial_velocity_std", k.initial_velocity_std},
        {"kalman.initial_size_velocity_std", k.initial_size_velocity_std}}) {
    if (!(value > 0 && value <= 100)) {
      return Invalid(absl::StrCat(name, " must be in (0, 100], got ", value));
    }
  }
  return absl::OkStatus();
}

// Objects a detector confuses with each other share a group, and tracks match detections of
// their group only: cars flicker to truck, but a person never becomes a car.
std::string_view ClassGroup(std::string_view label) {
  static constexpr std::string_view kVehicles[] = {"car",     "truck",     "bus", "motorcycle",
                                                   "bicycle", "motorbike", "van"};
  for (std::string_view vehicle : kVehicles) {
    if (label == vehicle) return "vehicle";
  }
  return label;
}

bool ValidBox(const BoxF& b) {
  return std::isfinite(b.x) && std::isfinite(b.y) && std::isfinite(b.w) && std::isfinite(b.h) &&
         b.w > 0 && b.h > 0;
}

BoxF ToBox(const cv::Rect& r) {
  return BoxF{static_cast<float>(r.x), static_cast<float>(r.y), static_cast<float>(r.width),
              static_cast<float>(r.height)};
}

BoxF IntersectBoxes(const BoxF& a, const BoxF& b) {
  const float x0 = std::max(a.x, b.x);
  const float y0 = std::max(a.y, b.y);
  const float x1 = std::min(a.Right(), b.Right());
  const float y1 = std::min(a.Bottom(), b.Bottom());
  return BoxF{x0, y0, std::max(0.0f, x1 - x0), std::max(0.0f, y1 - y0)};
}

float Distance(PointF a, PointF b) { return std::hypot(a.x - b.x, a.y - b.y); }

}  // namespace

const char* TrackStateName(TrackState state) {
  switch (state) {
    case TrackState::kTentative:
      return "tentative";
    case TrackState::kConfirmed:
      return "confirmed";
    case TrackState::kLost:
      return "lost";
  }
  return "unknown";
}

struct Tracker::Entry {
  Entry(const BoxF& box, const KalmanOptions& kalman) : filter(box, kalman) {}

  struct Vote {
    std::string label;
    int class_id = -1;
    float score_sum = 0;
  };

  Track track;
  KalmanBoxFilter filter;
  std::string group;
  std::vector<Vote> votes;
  int tentative_misses = 0;
  int64_t missed_ms = 0;  // Searched time without a match since the last match.
  BoxF anchor;            // Where the object was when it last moved (stationary test).
  int64_t anchor_ms = 0;
  bool searched = false;  // Scratch for one update.
  bool matched = false;   // Scratch for one update.
};

Tracker::Tracker(const TrackerOptions& options) : options_(options) {}
Tracker::~Tracker() = default;

absl::StatusOr<std::unique_ptr<Tracker>> Tracker::Create(const TrackerOptions& options) {
  if (absl::Status status = Validate(options); !status.ok()) return status;
  return std::unique_ptr<Tracker>(new Tracker(options));
}

absl::StatusOr<TrackerUpdate> Tracker::Update(const Detections& detections, int64_t time_ms,
                                              const cv::Mat& frame,
                                              std::span<const cv::Rect> searched_regions) {
  if (started_ && time_ms < last_time_ms_) {
    return absl::InvalidArgumentError(
        absl::StrCat("tracker update at ", time_ms, " ms is before the previous one at ",
                     last_time_ms_, " ms: frames must arrive in time order"));
  }
  const int64_t dt_ms = started_ ? time_ms - last_time_ms_ : 0;
  last_time_ms_ = time_ms;
  started_ = true;
  TrackerUpdate update;

  const bool have_frame = !frame.empty();
  const BoxF frame_box{0, 0, static_cast<float>(frame.cols), static_cast<float>(frame.rows)};

  // Tentative tracks past their window go first, so their detections can start afresh.
  std::erase_if(entries_, [&](const std::unique_ptr<Entry>& e) {
    return e->track.state == TrackState::kTentative &&
           time_ms - e->track.first_ms > options_.confirm_window_ms;
  });

  // Predict, and decide which tracks the detector looked for.
  for (const std::unique_ptr<Entry>& e : entries_) {
    if (e->track.state == TrackState::kLost) e->filter.FreezeSize();
    e->filter.Predict(static_cast<double>(dt_ms) / 1000.0);
    e->track.box = e->filter.Box();
    e->track.velocity = e->filter.Velocity();
    e->matched = false;
    const BoxF visible = have_frame ? IntersectBoxes(e->track.box, frame_box) : e->track.box;
    float coverage = 0;
    if (visible.Area() > 0) {
      for (const cv::Rect& r : searched_regions) {
        coverage = std::max(coverage, Intersection(visible, ToBox(r)) / visible.Area());
      }
    }
    e->searched = coverage >= options_.searched_coverage;
  }

  // One object under two labels of its group (per-class NMS lets "car" and "truck" through
  // for one vehicle): the lower score goes.
  std::vector<char> duplicate(detections.size(), 0);
  for (size_t i = 0; i < detections.size(); ++i) {
    for (size_t j = 0; j < detections.size(); ++j) {
      const Detection& a = detections[i];
      const Detection& b = detections[j];
      if (i == j || a.label == b.label || ClassGroup(a.label) != ClassGroup(b.label)) continue;
      const bool weaker = b.score > a.score || (b.score == a.score && j < i);
      if (weaker && IoU(a.box, b.box) >= options_.duplicate_iou) duplicate[i] = 1;
    }
  }

  std::vector<int> high;
  std::vector<int> low;
  for (size_t i = 0; i < detections.size(); ++i) {
    const Detection& d = detections[i];
    if (duplicate[i] || !ValidBox(d.box) || !std::isfinite(d.score)) continue;
    if (d.score >= options_.high_thresh) {
      high.push_back(static_cast<int>(i));
    } else if (d.score >= options_.low_thresh) {
      low.push_back(static_cast<int>(i));
    }
  }
  std::vector<char> used(detections.size(), 0);

  // One association stage: tracks passing `track_filter` against unused detections of
  // `candidates`, costed by `cost` (kForbidden never matches), up to `limit`.
  const auto stage = [&](auto track_filter, const std::vector<int>& candidates, auto cost,
                         double limit) {
    std::vector<Entry*> pool;
    for (const std::unique_ptr<Entry>& e : entries_) {
      if (!e->matched && track_filter(*e)) pool.push_back(e.get());
    }
    std::vector<int> dets;
    for (int d : candidates) {
      if (!used[d]) dets.push_back(d);
    }
    if (pool.empty() || dets.empty()) return;
    std::vector<double> costs(pool.size() * dets.size());
    for (size_t t = 0; t < pool.size(); ++t) {
      for (size_t d = 0; d < dets.size(); ++d) {
        const Detection& det = detections[dets[d]];
        costs[t * dets.size() + d] =
            ClassGroup(det.label) == pool[t]->group ? cost(*pool[t], det) : kForbidden;
      }
    }
    for (const auto& [t, d] : SolveAssignment(costs, static_cast<int>(pool.size()),
                                              static_cast<int>(dets.size()), limit)) {
      used[dets[d]] = 1;
      Match(*pool[t], detections[dets[d]], time_ms, frame, update);
    }
  };
  const auto iou_cost = [](const Entry& e, const Detection& d) {
    return 1.0 - static_cast<double>(IoU(e.track.box, d.box));
  };
  const auto is_active = [](const Entry& e) { return e.track.state != TrackState::kTentative; };

  // 1. Confident detections against every confirmed or lost track.
  stage(is_active, high, iou_cost, 1.0 - options_.match_iou);
  // 2. Low-score detections extend tracks (ByteTrack's key idea: an occluded object scores
  //    low, but its box is still where the track expects it). Unlike ByteTrack, lost tracks
  //    too: a small model scores a distant person low for seconds on end.
  stage(is_active, low, iou_cost, 1.0 - options_.low_match_iou);
  // 3. Jumps: nearby detections without overlap, for tracks still unmatched.
  const auto jump_cost = [this](const Entry& e, const Detection& d) {
    const float ratio = d.box.h / e.track.box.h;
    if (ratio > options_.max_jump_size_ratio || ratio * options_.max_jump_size_ratio < 1) {
      return kForbidden;
    }
    return static_cast<double>(Distance(d.box.Center(), e.track.box.Center()) / e.track.box.h);
  };
  if (options_.max_jump_heights > 0) stage(is_active, high, jump_cost, options_.max_jump_heights);
  // 4. Tentative tracks take what is left: by IoU, then (they have no velocity yet, so a fast
  //    object at a low frame rate may not overlap its last box) by distance.
  const auto is_tentative = [](const Entry& e) { return e.track.state == TrackState::kTentative; };
  stage(is_tentative, high, iou_cost, 1.0 - options_.tentative_match_iou);
  if (options_.max_jump_heights > 0) {
    stage(is_tentative, high, jump_cost, options_.max_jump_heights);
  }

  // Misses, losses and ends.
  std::vector<std::unique_ptr<Entry>> kept;
  kept.reserve(entries_.size() + high.size());
  for (std::unique_ptr<Entry>& e : entries_) {
    Track& t = e->track;
    bool remove = false;
    bool report = false;
    if (t.state == TrackState::kTentative) {
      if (!e->matched && e->searched) ++e->tentative_misses;
      remove = e->tentative_misses >= options_.tentative_max_misses;
    } else {
      if (!e->matched && e->searched) {
        t.state = TrackState::kLost;
        e->missed_ms += dt_ms;
      }
      const bool left_scene =
          t.state == TrackState::kLost && have_frame &&
          Intersection(t.box, frame_box) < options_.min_in_frame_fraction * t.box.Area();
      remove = report = e->missed_ms > options_.max_lost_ms || left_scene;
    }
    if (report) update.ended.push_back(t);
    if (!remove) kept.push_back(std::move(e));
  }
  entries_ = std::move(kept);

  // Births.
  for (int d : high) {
    const Detection& det = detections[d];
    if (used[d] || det.score < options_.new_track_thresh) continue;
    auto e = std::make_unique<Entry>(det.box, options_.kalman);
    e->group = std::string(ClassGroup(det.label));
    e->track.first_ms = time_ms;
    e->track.state = TrackState::kTentative;
    Match(*e, det, time_ms, frame, update);
    entries_.push_back(std::move(e));
  }
  return update;
}

void Tracker::Match(Entry& e, const Detection& detection, int64_t time_ms, const cv::Mat& frame,
                    TrackerUpdate& update) {
  Track& t = e.track;
  e.matched = true;
  if (t.hits > 0) {  // A new filter already starts at the box.
    // A box whose height is far from the prediction is most likely a partial view (a torso,
    // an object half behind another): it counts as a match, but is trusted less, so it
    // cannot teach the filter a size or velocity the object does not have. The noise grows
    // with the square of the excess: a 45% shorter torso box (2.7 tolerances) gets 7x the
    // noise, moving the estimate about 1/50 as much.
    const double excess = std::abs(std::log(static_cast<double>(detection.box.h) / t.box.h)) /
                          std::log(1.0 + options_.size_change_tolerance);
    e.filter.Update(detection.box, std::max(1.0, excess * excess));
  }
  t.box = e.filter.Box();
  t.velocity = e.filter.Velocity();
  t.score = detection.score;
  t.best_score = std::max(t.best_score, detection.score);
  t.last_seen_ms = time_ms;
  ++t.hits;
  e.missed_ms = 0;
  e.tentative_misses = 0;

  auto vote = std::find_if(e.votes.begin(), e.votes.end(),
                           [&](const Entry::Vote& v) { return v.label == detection.label; });
  if (vote == e.votes.end()) {
    e.votes.push_back({detection.label, detection.class_id, 0});
    vote = e.votes.end() - 1;
  }
  vote->score_sum += detection.score;
  vote->class_id = detection.class_id;
  const Entry::Vote* winner = &*vote;
  for (const Entry::Vote& v : e.votes) {
    if (v.score_sum > winner->score_sum) winner = &v;
  }
  // On a tie the current label stays, so labels do not flicker.
  const bool current_ties = std::any_of(e.votes.begin(), e.votes.end(), [&](const Entry::Vote& v) {
    return v.label == t.label && v.score_sum >= winner->score_sum;
  });
  if (t.hits == 1 || !current_ties) {
    t.label = winner->label;
    t.class_id = winner->class_id;
  }

  UpdateSnapshot(e, detection, time_ms, frame);

  if (t.state == TrackState::kLost) t.state = TrackState::kConfirmed;
  if (t.state == TrackState::kTentative && t.hits >= options_.confirm_hits) {
    t.state = TrackState::kConfirmed;
    t.id = next_id_++;
    e.anchor = t.box;
    e.anchor_ms = time_ms;
    update.started.push_back(t);
  } else if (t.state == TrackState::kConfirmed) {
    UpdateStationary(e, time_ms);
  }
}

void Tracker::UpdateStationary(Entry& e, int64_t time_ms) {
  Track& t = e.track;
  const float limit = options_.stationary_move_fraction;
  const bool moved =
      Distance(t.box.Center(), e.anchor.Center()) > limit * std::max(e.anchor.w, e.anchor.h) ||
      std::abs(t.box.h - e.anchor.h) > limit * e.anchor.h;
  if (moved) {
    e.anchor = t.box;
    e.anchor_ms = time_ms;
    t.stationary = false;
  } else if (t.stationary || time_ms - e.anchor_ms >= options_.stationary_after_ms) {
    t.stationary = true;
    // Keeps the prediction in place between the periodic re-checks of a stationary object,
    // however long they are apart: detector jitter must not become a drift.
    e.filter.StopMotion();
    t.velocity = e.filter.Velocity();
  }
}

void Tracker::UpdateSnapshot(Entry& e, const Detection& detection, int64_t time_ms,
                             const cv::Mat& frame) const {
  const BoxF& b = detection.box;
  const float size_factor = std::min(1.0f, std::sqrt(b.Area()) / options_.snapshot_full_size_px);
  const bool at_edge =
      !frame.empty() && (b.x <= 1 || b.y <= 1 || b.Right() >= static_cast<float>(frame.cols) - 1 ||
                         b.Bottom() >= static_cast<float>(frame.rows) - 1);
  const float quality =
      detection.score * size_factor * (at_edge ? options_.snapshot_edge_penalty : 1.0f);
  Snapshot& best = e.track.best;
  if (quality <= best.quality) return;
  best.quality = quality;
  best.box = b;
  best.time_ms = time_ms;
  best.score = detection.score;
  best.image.release();
  best.crop = cv::Rect();
  if (frame.empty()) return;
  const float mx = b.w * options_.snapshot_margin;
  const float my = b.h * options_.snapshot_margin;
  const cv::Point tl(static_cast<int>(std::lround(b.x - mx)),
                     static_cast<int>(std::lround(b.y - my)));
  const cv::Point br(static_cast<int>(std::lround(b.Right() + mx)),
                     static_cast<int>(std::lround(b.Bottom() + my)));
  const cv::Rect crop = cv::Rect(tl, br) & cv::Rect(0, 0, frame.cols, frame.rows);
  if (crop.empty()) return;
  best.crop = crop;
  const int longest = std::max(crop.width, crop.height);
  if (longest > options_.snapshot_max_side_px) {
    const double scale = static_cast<double>(options_.snapshot_max_side_px) / longest;
    const cv::Size size(std::max(1, static_cast<int>(std::lround(crop.width * scale))),
                        std::max(1, static_cast<int>(std::lround(crop.height * scale))));
    cv::resize(frame(crop), best.image, size, 0, 0, cv::INTER_AREA);
  } else {
    best.image = frame(crop).clone();
  }
}

TrackerUpdate Tracker::Flush() {
  TrackerUpdate update;
  for (const std::unique_ptr<Entry>& e : entries_) {
    if (e->track.state != TrackState::kTentative) update.ended.push_back(e->track);
  }
  entries_.clear();
  return update;
}

std::vector<Track> Tracker::Tracks(bool include_tentative) const {
  std::vector<Track> result;
  result.reserve(entries_.size());
  for (const std::unique_ptr<Entry>& e : entries_) {
    if (include_tentative || e->track.state != TrackState::kTentative) {
      result.push_back(e->track);
    }
  }
  return result;
}

}  // namespace custos::track
