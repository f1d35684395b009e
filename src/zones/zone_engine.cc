#include "zones/zone_engine.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/ulid.h"
#include "custos/status.h"

namespace custos::zones {
namespace {

// Twice the signed area of triangle abc; in image coordinates (y down) it is negative when
// c is on the left of a->b as seen walking from a to b on the picture.
double Cross(const PointF& a, const PointF& b, const PointF& c) {
  return (static_cast<double>(b.x) - a.x) * (static_cast<double>(c.y) - a.y) -
         (static_cast<double>(b.y) - a.y) * (static_cast<double>(c.x) - a.x);
}

int Sign(double v) { return (v > 0) - (v < 0); }

// For collinear p, q, r: whether q lies within the bounding box of pr.
bool OnSegment(const PointF& p, const PointF& q, const PointF& r) {
  return std::min(p.x, r.x) <= q.x && q.x <= std::max(p.x, r.x) && std::min(p.y, r.y) <= q.y &&
         q.y <= std::max(p.y, r.y);
}

bool InUnitSquare(const PointF& p) {
  return std::isfinite(p.x) && std::isfinite(p.y) && p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1;
}

bool LabelMatches(const std::vector<std::string>& labels, const std::string& label) {
  return labels.empty() || std::find(labels.begin(), labels.end(), label) != labels.end();
}

PointF ToPixels(const PointF& p, int width, int height) {
  return {p.x * static_cast<float>(width), p.y * static_cast<float>(height)};
}

}  // namespace

std::optional<PointF> NormalisedFootPoint(const TrackedObject& object, const FrameTracks& frame) {
  const PointF px = object.box.FootPoint();
  const PointF foot{px.x / static_cast<float>(frame.width),
                    px.y / static_cast<float>(frame.height)};
  if (!std::isfinite(foot.x) || !std::isfinite(foot.y)) return std::nullopt;
  return foot;
}

bool PointInPolygon(const PointF& p, const Polygon& polygon) {
  bool inside = false;
  const size_t n = polygon.size();
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    const PointF& a = polygon[i];
    const PointF& b = polygon[j];
    if ((a.y > p.y) != (b.y > p.y)) {
      const double x_at_y = static_cast<double>(a.x) + (static_cast<double>(p.y) - a.y) *
                                                           (static_cast<double>(b.x) - a.x) /
                                                           (static_cast<double>(b.y) - a.y);
      if (p.x < x_at_y) inside = !inside;
    }
  }
  return inside;
}

bool SegmentsIntersect(const PointF& a, const PointF& b, const PointF& c, const PointF& d) {
  const int o1 = Sign(Cross(a, b, c));
  const int o2 = Sign(Cross(a, b, d));
  const int o3 = Sign(Cross(c, d, a));
  const int o4 = Sign(Cross(c, d, b));
  if (o1 * o2 < 0 && o3 * o4 < 0) return true;  // A proper crossing.
  // Otherwise they meet only if an endpoint lies on the other segment.
  if (o1 == 0 && OnSegment(a, c, b)) return true;
  if (o2 == 0 && OnSegment(a, d, b)) return true;
  if (o3 == 0 && OnSegment(c, a, d)) return true;
  if (o4 == 0 && OnSegment(c, b, d)) return true;
  return false;
}

absl::StatusOr<std::unique_ptr<ZoneEngine>> ZoneEngine::Create(ZoneEngineOptions options) {
  std::set<std::string> names;
  auto check_name = [&](const std::string& kind, size_t i,
                        const std::string& name) -> absl::Status {
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(kind, "[", i, "] has no name"));
    }
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          kind, "[", i, "]: name '", name, "' is used twice; zone and line names must differ"));
    }
    return absl::OkStatus();
  };
  for (size_t i = 0; i < options.zones.size(); ++i) {
    const ZoneSpec& zone = options.zones[i];
    CUSTOS_RETURN_IF_ERROR(check_name("zones", i, zone.name));
    if (zone.polygon.size() < 3) {
      return absl::InvalidArgumentError(absl::StrCat("zone '", zone.name, "' has ",
                                                     zone.polygon.size(),
                                                     " points; a polygon needs at least 3"));
    }
    if (!std::all_of(zone.polygon.begin(), zone.polygon.end(), InUnitSquare)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "zone '", zone.name, "' has a point outside [0, 1]; coordinates are normalised"));
    }
    if (zone.min_frames < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("zone '", zone.name, "': min_frames must be at least 1"));
    }
    if (zone.loiter_ms < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("zone '", zone.name, "': loiter_ms must not be negative"));
    }
  }
  for (size_t i = 0; i < options.lines.size(); ++i) {
    const LineSpec& line = options.lines[i];
    CUSTOS_RETURN_IF_ERROR(check_name("lines", i, line.name));
    if (!InUnitSquare(line.from) || !InUnitSquare(line.to)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line '", line.name, "' has a point outside [0, 1]; coordinates are normalised"));
    }
    if (line.from.x == line.to.x && line.from.y == line.to.y) {
      return absl::InvalidArgumentError(
          absl::StrCat("line '", line.name, "' has zero length; give two different points"));
    }
    if (line.left_to_right.empty() || line.right_to_left.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line '", line.name, "': direction names must not be empty"));
    }
  }
  if (!(options.line_margin >= 0 && options.line_margin <= 0.5)) {
    return absl::InvalidArgumentError(
        "line_margin must be in [0, 0.5] (a fraction of the "
        "frame diagonal)");
  }
  if (options.forget_after_ms < 0) {
    return absl::InvalidArgumentError("forget_after_ms must not be negative (0 = never)");
  }
  return std::unique_ptr<ZoneEngine>(new ZoneEngine(std::move(options)));
}

ZoneEngine::ZoneEngine(ZoneEngineOptions options) : options_(std::move(options)) {}

void TrackSighting::Update(const TrackedObject& object, int64_t time_ms) {
  track_id = object.track_id;
  label = object.label;
  best_score = std::max(best_score, object.score);
  box = object.box;
  last_seen_ms = time_ms;
}

Event TrackSighting::MakeEvent(EventType type, const std::string& camera, int64_t time_ms,
                               const std::string& zone) const {
  Event event;
  event.id = NewUlid(time_ms);
  event.camera = camera;
  event.time_ms = time_ms;
  event.type = type;
  event.label = label;
  event.track_id = track_id;
  event.score = best_score;
  event.box = box;
  event.zone = zone;
  return event;
}

Event ZoneEngine::MakeEvent(EventType type, const TrackState& track, int64_t time_ms,
                            const std::string& zone) const {
  return track.MakeEvent(type, options_.camera, time_ms, zone);
}

absl::StatusOr<std::vector<Event>> ZoneEngine::Process(const FrameTracks& frame) {
  if (frame.width <= 0 || frame.height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame size ", frame.width, "x", frame.height, " is not positive"));
  }
  absl::MutexLock lock(&mu_);
  if (frame.time_ms < last_time_ms_) {
    return absl::InvalidArgumentError(absl::StrCat("frame time ", frame.time_ms,
                                                   " ms is earlier than the previous frame's (",
                                                   last_time_ms_, " ms); frames must be in order"));
  }
  last_time_ms_ = frame.time_ms;
  std::vector<Event> events;
  if (options_.forget_after_ms > 0) {
    std::vector<int64_t> stale;
    for (const auto& [id, track] : tracks_) {
      if (frame.time_ms - track.last_seen_ms > options_.forget_after_ms) stale.push_back(id);
    }
    for (int64_t id : stale) EndTrack(id, frame.time_ms, events);
  }
  for (const TrackedObject& object : frame.tracks) UpdateTrack(object, frame, events);
  for (int64_t id : frame.ended) EndTrack(id, frame.time_ms, events);
  return events;
}

void ZoneEngine::UpdateTrack(const TrackedObject& object, const FrameTracks& frame,
                             std::vector<Event>& events) {
  const int64_t now = frame.time_ms;
  const std::optional<PointF> foot_point = NormalisedFootPoint(object, frame);
  if (!foot_point) return;  // A broken box: ignore it.
  const PointF foot = *foot_point;

  auto [it, is_new] = tracks_.try_emplace(object.track_id);
  TrackState& track = it->second;
  const PointF previous_foot = track.foot;
  if (is_new) {
    track.zones.resize(options_.zones.size());
    track.lines.resize(options_.lines.size());
  }
  track.Update(object, now);
  track.foot = foot;

  for (size_t z = 0; z < options_.zones.size(); ++z) {
    const ZoneSpec& spec = options_.zones[z];
    if (!LabelMatches(spec.labels, track.label)) continue;
    ZoneVisit& visit = track.zones[z];
    const bool inside_now = PointInPolygon(foot, spec.polygon);
    if (inside_now == visit.inside) {
      visit.streak = 0;
    } else {
      if (visit.streak == 0) visit.streak_start_ms = now;
      if (++visit.streak >= spec.min_frames) {
        visit.streak = 0;
        if (inside_now) {
          visit.inside = true;
          visit.visit_start_ms = visit.streak_start_ms;
          visit.loitered = false;
          events.push_back(MakeEvent(EventType::kZoneEnter, track, now, spec.name));
          ++counts_.zone_entries[{spec.name, track.label}];
        } else {
          visit.inside = false;
          Event leave = MakeEvent(EventType::kZoneLeave, track, now, spec.name);
          leave.dwell_ms = visit.streak_start_ms - visit.visit_start_ms;
          events.push_back(std::move(leave));
        }
      }
    }
    if (visit.inside && inside_now && spec.loiter_ms > 0 && !visit.loitered &&
        now - visit.visit_start_ms >= spec.loiter_ms) {
      visit.loitered = true;
      Event loiter = MakeEvent(EventType::kLoiter, track, now, spec.name);
      loiter.dwell_ms = now - visit.visit_start_ms;
      events.push_back(std::move(loiter));
    }
  }

  // Lines are evaluated in pixels so that the margin is the same distance in every direction.
  const double diagonal = std::hypot(static_cast<double>(frame.width), frame.height);
  const double margin_px = options_.line_margin * diagonal;
  const PointF p1 = ToPixels(foot, frame.width, frame.height);
  const PointF p0 = ToPixels(previous_foot, frame.width, frame.height);
  for (size_t l = 0; l < options_.lines.size(); ++l) {
    const LineSpec& spec = options_.lines[l];
    if (!LabelMatches(spec.labels, track.label)) continue;
    LineProgress& progress = track.lines[l];
    const PointF a = ToPixels(spec.from, frame.width, frame.height);
    const PointF b = ToPixels(spec.to, frame.width, frame.height);
    if (!is_new && SegmentsIntersect(p0, p1, a, b)) progress.crossed = true;
    const double length =
        std::hypot(static_cast<double>(b.x) - a.x, static_cast<double>(b.y) - a.y);
    const double distance = Cross(a, b, p1) / length;  // Negative on the left.
    int side = 0;
    if (std::abs(distance) >= margin_px && distance != 0) side = distance < 0 ? -1 : 1;
    if (side == 0) continue;  // On the line, within the margin: undecided.
    if (progress.side != 0 && side != progress.side && progress.crossed) {
      const std::string& direction = side > 0 ? spec.left_to_right : spec.right_to_left;
      Event cross = MakeEvent(EventType::kLineCross, track, now, spec.name);
      cross.direction = direction;
      events.push_back(std::move(cross));
      ++counts_.line_crossings[{spec.name, track.label, direction}];
    }
    // Clear of the line: a crossing back to the same side, or around the segment's end, nets
    // out to nothing.
    progress.side = side;
    progress.crossed = false;
  }
}

void ZoneEngine::EndTrack(int64_t track_id, int64_t time_ms, std::vector<Event>& events) {
  auto it = tracks_.find(track_id);
  if (it == tracks_.end()) return;
  const TrackState& track = it->second;
  for (size_t z = 0; z < options_.zones.size(); ++z) {
    const ZoneVisit& visit = track.zones[z];
    if (!visit.inside) continue;
    Event leave = MakeEvent(EventType::kZoneLeave, track, time_ms, options_.zones[z].name);
    // Inside until it was last seen, or until it started to leave.
    leave.dwell_ms =
        (visit.streak > 0 ? visit.streak_start_ms : track.last_seen_ms) - visit.visit_start_ms;
    events.push_back(std::move(leave));
  }
  tracks_.erase(it);
}

std::vector<Event> ZoneEngine::EndAll(int64_t time_ms) {
  absl::MutexLock lock(&mu_);
  std::vector<Event> events;
  while (!tracks_.empty()) EndTrack(tracks_.begin()->first, time_ms, events);
  return events;
}

ZoneCounts ZoneEngine::Counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

}  // namespace custos::zones
