#include "traffic/traffic_engine.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"

namespace custos::traffic {
namespace {

bool InUnitSquare(const PointF& p) {
  return std::isfinite(p.x) && std::isfinite(p.y) && p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1;
}

bool Listed(const std::vector<std::string>& labels, const std::string& label) {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

// An empty list admits every (vehicle) label.
bool Admits(const std::vector<std::string>& labels, const std::string& label) {
  return labels.empty() || Listed(labels, label);
}

// A stopped vehicle has moved on once this many samples in a row lie outside the stop radius;
// one box that jumps for a frame does not end a stop.
constexpr int kMoveSamples = 2;

double Length(const PointD& v) { return std::hypot(v.x, v.y); }

PointD Minus(const PointD& a, const PointD& b) { return {a.x - b.x, a.y - b.y}; }

// Normalised picture coordinates (or a difference of them) in isotropic units, fractions of
// the frame diagonal, so that directions and distances do not depend on the aspect ratio.
PointD InDiagonals(double x, double y, const zones::FrameTracks& frame) {
  const double w = frame.width, h = frame.height;
  const double diagonal = std::hypot(w, h);
  return {x * w / diagonal, y * h / diagonal};
}

absl::Status CheckArea(absl::string_view kind, const std::string& name, const Polygon& polygon) {
  if (polygon.size() < 3) {
    return absl::InvalidArgumentError(absl::StrCat(kind, " '", name, "' has ", polygon.size(),
                                                   " points; a polygon needs at least 3"));
  }
  if (!std::all_of(polygon.begin(), polygon.end(), InUnitSquare)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, " '", name, "' has a point outside [0, 1]; coordinates are normalised"));
  }
  return absl::OkStatus();
}

absl::Status CheckOptions(const TrafficEngineOptions& o) {
  if (o.vehicle_labels.empty()) {
    return absl::InvalidArgumentError("vehicle_labels is empty; list the labels of vehicles");
  }
  const SpeedOptions& s = o.speed;
  if (s.window_ms < 1 || s.min_points < 2 || s.min_span_ms < 1 || s.min_span_ms > s.window_ms ||
      !(s.min_travel_m >= 0) || !(s.max_kmh > 0)) {
    return absl::InvalidArgumentError(
        "speed options: need window_ms >= min_span_ms >= 1, min_points >= 2, min_travel_m >= 0 "
        "and max_kmh > 0");
  }
  if (o.direction_window_ms < 1 || !(o.wrong_way_cos >= -1 && o.wrong_way_cos <= 0) ||
      !(o.wrong_way_min_m > 0) || !(o.wrong_way_min_frame > 0 && o.wrong_way_min_frame <= 1)) {
    return absl::InvalidArgumentError(
        "wrong-way options: need direction_window_ms >= 1, wrong_way_cos in [-1, 0], "
        "wrong_way_min_m > 0 and wrong_way_min_frame in (0, 1]");
  }
  if (!(o.stop_radius_m > 0) || !(o.stop_radius_frame > 0 && o.stop_radius_frame <= 1)) {
    return absl::InvalidArgumentError(
        "stopped-vehicle options: need stop_radius_m > 0 and stop_radius_frame in (0, 1]");
  }
  if (o.forget_after_ms < 0) {
    return absl::InvalidArgumentError("forget_after_ms must not be negative (0 = never)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TrafficEngine>> TrafficEngine::Create(TrafficEngineOptions options) {
  CUSTOS_RETURN_IF_ERROR(CheckOptions(options));
  std::set<std::string> names;
  auto check_name = [&](absl::string_view kind, const std::string& name) -> absl::Status {
    if (name.empty()) return absl::InvalidArgumentError(absl::StrCat("a ", kind, " has no name"));
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " name '", name, "' is used twice; lane and stop zone names differ"));
    }
    return absl::OkStatus();
  };
  std::vector<PointD> ground_directions;
  for (const LaneSpec& lane : options.lanes) {
    CUSTOS_RETURN_IF_ERROR(check_name("lane", lane.name));
    CUSTOS_RETURN_IF_ERROR(CheckArea("lane", lane.name, lane.polygon));
    if (!InUnitSquare(lane.from) || !InUnitSquare(lane.to) ||
        (lane.from.x == lane.to.x && lane.from.y == lane.to.y)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "lane '", lane.name, "': the direction needs two different points in [0, 1]"));
    }
    if (options.calibration) {
      const std::optional<PointD> from = options.calibration->ToGround(lane.from);
      const std::optional<PointD> to = options.calibration->ToGround(lane.to);
      if (!from || !to) {
        return absl::InvalidArgumentError(
            absl::StrCat("lane '", lane.name,
                         "': a direction point lies beyond the road's horizon in the "
                         "calibration; draw the direction on the road"));
      }
      const PointD d = Minus(*to, *from);
      ground_directions.push_back({d.x / Length(d), d.y / Length(d)});
    }
  }
  for (const StoppedZoneSpec& zone : options.stopped) {
    CUSTOS_RETURN_IF_ERROR(check_name("stop zone", zone.name));
    CUSTOS_RETURN_IF_ERROR(CheckArea("stop zone", zone.name, zone.polygon));
    if (zone.after_ms < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("stop zone '", zone.name, "': after_ms must be at least 1"));
    }
  }
  return std::unique_ptr<TrafficEngine>(
      new TrafficEngine(std::move(options), std::move(ground_directions)));
}

TrafficEngine::TrafficEngine(TrafficEngineOptions options, std::vector<PointD> ground_directions)
    : options_(std::move(options)), ground_directions_(std::move(ground_directions)) {}

bool TrafficEngine::IsVehicle(const std::string& label) const {
  return Listed(options_.vehicle_labels, label);
}

absl::Status TrafficEngine::Process(const zones::FrameTracks& frame, std::vector<Event>& events) {
  if (frame.width <= 0 || frame.height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame size ", frame.width, "x", frame.height, " is not positive"));
  }
  if (frame.time_ms < last_time_ms_) {
    return absl::InvalidArgumentError(absl::StrCat("frame time ", frame.time_ms,
                                                   " ms is earlier than the previous frame's (",
                                                   last_time_ms_, " ms); frames must be in order"));
  }
  last_time_ms_ = frame.time_ms;
  if (options_.forget_after_ms > 0) {
    std::erase_if(tracks_, [&](const auto& entry) {
      return frame.time_ms - entry.second.last_seen_ms > options_.forget_after_ms;
    });
  }
  std::vector<Event> raised;
  for (const zones::TrackedObject& object : frame.tracks) {
    if (IsVehicle(object.label)) UpdateTrack(object, frame, raised);
  }
  FillSpeeds(events);
  for (int64_t id : frame.ended) tracks_.erase(id);
  for (Event& e : raised) events.push_back(std::move(e));
  return absl::OkStatus();
}

void TrafficEngine::EndAll(std::vector<Event>& events) {
  FillSpeeds(events);
  tracks_.clear();
}

void TrafficEngine::FillSpeeds(std::vector<Event>& events) const {
  if (!options_.calibration) return;
  for (Event& e : events) {
    if (e.type != EventType::kLineCross && e.type != EventType::kTrackEnd) continue;
    if (!IsVehicle(e.label)) continue;
    auto it = tracks_.find(e.track_id);
    if (it == tracks_.end()) continue;
    const std::optional<double> speed =
        e.type == EventType::kLineCross ? it->second.speed_kmh : it->second.moving_speeds.Median();
    if (speed) e.speed_kmh = *speed;
  }
}

void TrafficEngine::UpdateTrack(const zones::TrackedObject& object, const zones::FrameTracks& frame,
                                std::vector<Event>& raised) {
  const int64_t now = frame.time_ms;
  const std::optional<PointF> foot_point = zones::NormalisedFootPoint(object, frame);
  if (!foot_point) return;  // A broken box.
  const PointF foot = *foot_point;
  PointD position;
  double weight = 1;
  if (options_.calibration) {
    const std::optional<PointD> ground = options_.calibration->ToGround(foot);
    if (!ground) return;  // Above the horizon: not on the road.
    position = *ground;
    // A pixel of box jitter moves the ground point this far (squared): further away from the
    // camera than close to it, so far samples count for less in the speed.
    double m2_per_px = 0;
    for (const PointF& step : {PointF{1.0f / static_cast<float>(frame.width), 0},
                               PointF{0, 1.0f / static_cast<float>(frame.height)}}) {
      const std::optional<PointD> moved =
          options_.calibration->ToGround({foot.x + step.x, foot.y + step.y});
      if (moved) m2_per_px += std::pow(Length(Minus(*moved, position)), 2);
    }
    if (m2_per_px > 0) weight = 1 / m2_per_px;
  } else {
    position = InDiagonals(foot.x, foot.y, frame);
  }

  auto [it, is_new] = tracks_.try_emplace(object.track_id);
  TrackState& track = it->second;
  if (is_new) {
    track.wrong_way.resize(options_.lanes.size());
    track.stops.resize(options_.stopped.size());
  }
  track.Update(object, now);
  track.samples.push_back({now, foot, position, weight});
  const int64_t keep_ms = std::max(options_.speed.window_ms, options_.direction_window_ms);
  while (now - track.samples.front().time_ms > keep_ms) track.samples.pop_front();

  if (options_.calibration) {
    std::vector<GroundSample> ground;
    for (const Sample& s : track.samples) ground.push_back({s.time_ms, s.position, s.weight});
    track.speed_kmh = EstimateSpeedKmh(ground, options_.speed);
    if (track.speed_kmh && *track.speed_kmh > 0) track.moving_speeds.Add(*track.speed_kmh);
  }
  CheckWrongWay(track, frame, raised);
  CheckStopped(track, now, raised);
}

void TrafficEngine::CheckWrongWay(TrackState& track, const zones::FrameTracks& frame,
                                  std::vector<Event>& raised) const {
  const Sample& newest = track.samples.back();
  // The oldest sample of the direction window.
  const auto first = std::find_if(track.samples.begin(), track.samples.end(), [&](const Sample& s) {
    return newest.time_ms - s.time_ms <= options_.direction_window_ms;
  });
  const Sample& oldest = *first;
  // As much evidence as a speed needs: a track just begun, or one box that jumped, is not a
  // direction.
  if (track.samples.end() - first < options_.speed.min_points ||
      newest.time_ms - oldest.time_ms < options_.speed.min_span_ms) {
    return;
  }
  const PointD moved = Minus(newest.position, oldest.position);
  const double distance = Length(moved);
  const double min_distance =
      options_.calibration ? options_.wrong_way_min_m : options_.wrong_way_min_frame;
  if (distance < min_distance) return;
  for (size_t l = 0; l < options_.lanes.size(); ++l) {
    const LaneSpec& lane = options_.lanes[l];
    if (track.wrong_way[l] || !Admits(lane.labels, track.label)) continue;
    // Inside the lane at both ends of the window: a vehicle crossing it is not driving in it.
    if (!zones::PointInPolygon(newest.foot, lane.polygon) ||
        !zones::PointInPolygon(oldest.foot, lane.polygon)) {
      continue;
    }
    PointD direction;
    if (options_.calibration) {
      direction = ground_directions_[l];
    } else {
      direction = InDiagonals(lane.to.x - lane.from.x, lane.to.y - lane.from.y, frame);
      const double length = Length(direction);
      direction = {direction.x / length, direction.y / length};
    }
    const double cosine = (moved.x * direction.x + moved.y * direction.y) / distance;
    if (cosine >= options_.wrong_way_cos) continue;
    track.wrong_way[l] = true;
    Event event = track.MakeEvent(EventType::kWrongWay, options_.camera, newest.time_ms, lane.name);
    if (track.speed_kmh) event.speed_kmh = *track.speed_kmh;
    raised.push_back(std::move(event));
  }
}

void TrafficEngine::StopState::Add(const Sample& s) {
  sum = {sum.x + s.position.x, sum.y + s.position.y};
  ++n;
  if (first.size() < kFirstSamples) first.push_back(s);
}

int64_t TrafficEngine::StopState::SinceMs(double radius) const {
  const PointD anchor = Anchor();
  for (const Sample& s : first) {
    if (Length(Minus(s.position, anchor)) <= radius / 2) return s.time_ms;
  }
  return first.back().time_ms;
}

void TrafficEngine::CheckStopped(TrackState& track, int64_t now, std::vector<Event>& raised) const {
  const double radius = options_.calibration ? options_.stop_radius_m : options_.stop_radius_frame;
  const Sample& newest = track.samples.back();
  for (size_t z = 0; z < options_.stopped.size(); ++z) {
    const StoppedZoneSpec& spec = options_.stopped[z];
    if (!Admits(spec.labels, track.label)) continue;
    StopState& stop = track.stops[z];
    if (!zones::PointInPolygon(newest.foot, spec.polygon)) {
      stop = {};
      continue;
    }
    if (stop.inside && Length(Minus(newest.position, stop.Anchor())) <= radius) {
      stop.Add(newest);
      stop.outside = 0;
    } else if (!stop.inside || ++stop.outside >= kMoveSamples) {
      // Arrived, or moved on: a new stop may begin here, with those of the samples that left
      // the old one which lie within the radius of this one.
      auto begin = track.samples.end() - 1;
      while (begin != track.samples.begin() && track.samples.end() - begin < kMoveSamples &&
             Length(Minus((begin - 1)->position, newest.position)) <= radius) {
        --begin;
      }
      stop = {};
      stop.inside = true;
      for (auto s = begin; s != track.samples.end(); ++s) stop.Add(*s);
    }
    const int64_t since_ms = stop.SinceMs(radius);
    if (!stop.reported && now - since_ms >= spec.after_ms) {
      stop.reported = true;
      Event event = track.MakeEvent(EventType::kStoppedVehicle, options_.camera, now, spec.name);
      event.dwell_ms = now - since_ms;
      raised.push_back(std::move(event));
    }
  }
}

}  // namespace custos::traffic
