// Zones and counting lines for one camera: turns confirmed tracks into zone_enter,
// zone_leave, loiter and line_cross events and keeps running counts. The rules (foot point,
// hysteresis, which side is "left") are documented in docs/zones.md.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "custos/event.h"
#include "custos/geometry.h"

namespace custos::zones {

// A polygonal zone in normalised detect-frame coordinates (x, y in [0, 1], origin top-left).
struct ZoneSpec {
  std::string name;                 // Unique among the camera's zones and lines.
  Polygon polygon;                  // >= 3 points, normalised.
  std::vector<std::string> labels;  // Labels this zone reports; empty = all.
  int64_t loiter_ms = 0;            // Loiter event after this long inside; 0 = off.
  int min_frames = 2;               // Consecutive frames inside (outside) to enter (leave).
};

// A directed counting segment from `from` to `to`, normalised coordinates. Left and right
// are as seen walking from `from` to `to` on the picture (docs/zones.md has a drawing).
struct LineSpec {
  std::string name;  // Unique among the camera's zones and lines.
  PointF from;
  PointF to;
  std::vector<std::string> labels;    // Empty = all.
  std::string left_to_right = "in";   // Event::direction of a left-to-right crossing.
  std::string right_to_left = "out";  // Event::direction of a right-to-left crossing.
};

struct ZoneEngineOptions {
  std::string camera;  // Copied into Event::camera.
  std::vector<ZoneSpec> zones;
  std::vector<LineSpec> lines;
  // A crossing counts only once the foot point is this far from the line, as a fraction of
  // the frame diagonal; a track jittering on the line counts at most once, net.
  double line_margin = 0.01;
  // Safety net for a caller that never reports a track's end: a track not updated for this
  // long is ended (zone_leave emitted) at the next Process(). 0 = never.
  int64_t forget_after_ms = 60'000;
};

// One confirmed track as seen in one processed frame.
struct TrackedObject {
  int64_t track_id = 0;
  std::string label;
  float score = 0;  // Detector score in this frame; events carry the best seen so far.
  BoxF box;         // Detect-frame pixels.
};

// Everything the engine learns from one processed frame.
struct FrameTracks {
  int64_t time_ms = 0;  // UTC wall-clock ms of the frame; never decreases.
  int width = 0;        // Detect frame size in px; box coordinates are relative to it.
  int height = 0;
  std::vector<TrackedObject> tracks;  // Confirmed tracks updated in this frame.
  // Tracks that ended at this frame (lost for good). A track absent from `tracks` but not
  // ended is treated as unseen: it neither enters nor leaves.
  std::vector<int64_t> ended;
};

// What an engine that follows tracks (zones, traffic) keeps of one for the events it raises.
struct TrackSighting {
  int64_t track_id = 0;
  std::string label;
  float best_score = 0;  // Best detector score so far.
  BoxF box;              // At last_seen_ms.
  int64_t last_seen_ms = 0;

  // Takes in the track as seen in the frame at time_ms.
  void Update(const TrackedObject& object, int64_t time_ms);
  // An event about the track at time_ms, every field set: a new ULID from time_ms, camera,
  // type, label, track_id, score (best so far), box and zone.
  Event MakeEvent(EventType type, const std::string& camera, int64_t time_ms,
                  const std::string& zone) const;
};

struct ZoneCountKey {
  std::string zone;
  std::string label;
  auto operator<=>(const ZoneCountKey&) const = default;
};

struct LineCountKey {
  std::string line;
  std::string label;
  std::string direction;  // LineSpec::left_to_right or right_to_left.
  auto operator<=>(const LineCountKey&) const = default;
};

struct ZoneCounts {
  std::map<ZoneCountKey, int64_t> zone_entries;    // zone_enter events per (zone, label).
  std::map<LineCountKey, int64_t> line_crossings;  // line_cross events.
};

// Evaluates the zones and lines of one camera against its tracks, frame by frame.
//
// Events come out with every field set: id (a new ULID from the frame time), camera (from the
// options), time_ms (the frame that raised it), label, track_id, score (best so far), box
// (at that frame), zone (zone or line name), direction (line_cross), dwell_ms (loiter and
// zone_leave: time since the visit began).
//
// Thread-safe: calls are serialised by an internal mutex, so Counts() may be read from any
// thread while the camera's pipeline calls Process().
class ZoneEngine {
 public:
  // Errors: kInvalidArgument when a zone or line is malformed (fewer than 3 points,
  // coordinates outside [0, 1], a zero-length line, empty or duplicate names, min_frames < 1,
  // loiter_ms < 0, line_margin outside [0, 0.5]).
  static absl::StatusOr<std::unique_ptr<ZoneEngine>> Create(ZoneEngineOptions options);

  // Feeds one frame; returns the events it raised, in order: first leaves of tracks
  // forgotten after forget_after_ms, then track by track in input order (its zones in
  // configuration order, then its lines), then the leaves of `ended` tracks.
  // Errors: kInvalidArgument when width/height <= 0 or time_ms is earlier than the previous
  // frame's; the frame is then ignored and the state unchanged.
  absl::StatusOr<std::vector<Event>> Process(const FrameTracks& frame);

  // Ends every track (stream ended or camera stopped): zone_leave for each open visit.
  std::vector<Event> EndAll(int64_t time_ms);

  // Counts since the engine was created.
  ZoneCounts Counts() const;

  const ZoneEngineOptions& options() const { return options_; }

 private:
  // One track's progress through one zone.
  struct ZoneVisit {
    bool inside = false;          // Debounced state: an enter was emitted, no leave yet.
    int streak = 0;               // Consecutive frames contradicting `inside`.
    int64_t streak_start_ms = 0;  // Time of the first frame of that streak.
    int64_t visit_start_ms = 0;   // First frame inside of the current visit.
    bool loitered = false;        // Loiter already reported for this visit.
  };
  // One track's progress across one line.
  struct LineProgress {
    int side = 0;          // Side it was last clear of the line on: -1 left, +1 right, 0 none.
    bool crossed = false;  // Its path met the segment since it was last clear on `side`.
  };
  struct TrackState : TrackSighting {
    PointF foot;                      // Normalised foot point at last_seen_ms.
    std::vector<ZoneVisit> zones;     // Parallel to options_.zones.
    std::vector<LineProgress> lines;  // Parallel to options_.lines.
  };

  explicit ZoneEngine(ZoneEngineOptions options);

  void UpdateTrack(const TrackedObject& object, const FrameTracks& frame,
                   std::vector<Event>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndTrack(int64_t track_id, int64_t time_ms, std::vector<Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Event MakeEvent(EventType type, const TrackState& track, int64_t time_ms,
                  const std::string& zone) const;

  const ZoneEngineOptions options_;
  mutable absl::Mutex mu_;
  std::map<int64_t, TrackState> tracks_ ABSL_GUARDED_BY(mu_);
  ZoneCounts counts_ ABSL_GUARDED_BY(mu_);
  int64_t last_time_ms_ ABSL_GUARDED_BY(mu_) = INT64_MIN;
};

// The foot point (bottom centre) of the object's box in normalised coordinates of the frame,
// as zones, lines and traffic analytics test it; nullopt for a box without a finite one.
std::optional<PointF> NormalisedFootPoint(const TrackedObject& object, const FrameTracks& frame);

// Geometry helpers, exposed for tests.
// Even-odd rule; points exactly on an edge may fall either way.
bool PointInPolygon(const PointF& p, const Polygon& polygon);
// True when segments ab and cd share a point (touching counts).
bool SegmentsIntersect(const PointF& a, const PointF& b, const PointF& c, const PointF& d);

}  // namespace custos::zones
