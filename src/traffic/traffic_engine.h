// Traffic analytics for one camera: vehicle speed from a ground calibration, wrong-way
// driving in configured lanes, stopped vehicles in configured zones, and speeds on the zone
// engine's line crossings. The rules are documented in docs/traffic.md.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "custos/event.h"
#include "custos/geometry.h"
#include "traffic/calibration.h"
#include "traffic/speed.h"
#include "zones/zone_engine.h"

namespace custos::traffic {

// A lane with its direction of travel. Coordinates are normalised detect-frame coordinates.
struct LaneSpec {
  std::string name;  // Unique among the camera's zones, lines, lanes and stop zones.
  Polygon polygon;   // >= 3 points.
  PointF from;       // Travel is expected from `from` towards `to` (compared on the ground
  PointF to;         // when the camera is calibrated, else on the picture).
  std::vector<std::string> labels = {};  // Empty: every vehicle label.
};

// A zone where a vehicle must not stand still (hard shoulder, junction box, tunnel).
struct StoppedZoneSpec {
  std::string name;                      // Unique as for lanes.
  Polygon polygon;                       // >= 3 points, normalised.
  int64_t after_ms = 30'000;             // stopped_vehicle after standing this long; >= 1.
  std::vector<std::string> labels = {};  // Empty: every vehicle label.
};

struct TrafficEngineOptions {
  std::string camera;  // Copied into Event::camera.
  // Without it there is no speed, and lanes and stop zones work on the picture.
  std::optional<GroundCalibration> calibration = std::nullopt;
  std::vector<LaneSpec> lanes = {};
  std::vector<StoppedZoneSpec> stopped = {};
  // Tracks with other labels (people) are ignored entirely.
  std::vector<std::string> vehicle_labels = {"car", "truck", "bus", "motorcycle"};
  SpeedOptions speed = {};
  // Wrong way: the displacement over this window (with at least speed.min_points samples over
  // speed.min_span_ms) must point against the lane (cosine below wrong_way_cos) and be at
  // least this long: metres when calibrated, else a fraction of the frame diagonal.
  int64_t direction_window_ms = 2000;
  double wrong_way_cos = -0.5;
  double wrong_way_min_m = 5;
  double wrong_way_min_frame = 0.05;
  // Stopped: the vehicle's foot point stays within this radius of where it stopped (a single
  // sample outside does not count): metres when calibrated, else a fraction of the frame
  // diagonal.
  double stop_radius_m = 1.5;
  double stop_radius_frame = 0.01;
  // A track not updated for this long is forgotten (as ZoneEngineOptions::forget_after_ms).
  int64_t forget_after_ms = 60'000;
};

// Follows the vehicle tracks of one camera frame by frame, after the zone engine.
//
// Lifecycle as a pipeline stage: Create() once, Process() per frame in time order, EndAll()
// when the stream stops. Thread-compatible: one camera's pipeline thread calls it.
class TrafficEngine {
 public:
  // Errors: kInvalidArgument for a malformed lane or stop zone (fewer than 3 points,
  // coordinates outside [0, 1], a zero-length direction, a direction point beyond the
  // calibration's horizon, empty or duplicate names, after_ms < 1) or thresholds out of range.
  static absl::StatusOr<std::unique_ptr<TrafficEngine>> Create(TrafficEngineOptions options);

  // Feeds one frame: the same FrameTracks the zone engine was given, and `events`, the events
  // raised for that frame so far (the zone engine's, the tracker's track_end). Fills
  // speed_kmh of the line_cross and track_end events of vehicles when the camera is
  // calibrated (track_end: the median of the track's speeds while it moved), then appends
  // its own wrong_way and stopped_vehicle events with every field set. Ended tracks are
  // forgotten after their track_end got its speed.
  // Errors: kInvalidArgument when width/height <= 0 or time_ms is earlier than the previous
  // frame's; nothing is changed then.
  absl::Status Process(const zones::FrameTracks& frame, std::vector<Event>& events);

  // Stream ended: fills speed_kmh of the track_end events in `events` and forgets every track.
  void EndAll(std::vector<Event>& events);

  const TrafficEngineOptions& options() const { return options_; }

 private:
  struct Sample {
    int64_t time_ms = 0;
    PointF foot;        // Normalised.
    PointD position;    // Metres on the ground; uncalibrated: the picture, in frame diagonals.
    double weight = 1;  // GroundSample::weight.
  };
  // One track's stop in one stop zone. Where it stands is the mean of its positions since
  // it stopped: one noisy first position does not decide, and a vehicle creeping forward
  // leaves the radius of the mean, which trails it, at half its pace.
  struct StopState {
    static constexpr size_t kFirstSamples = 5;

    bool inside = false;             // The foot point is in the zone.
    bool reported = false;           // stopped_vehicle raised for this stop.
    int outside = 0;                 // Consecutive samples beyond the stop radius.
    PointD sum;                      // Of the positions of this stop,
    double n = 0;                    // and how many.
    std::vector<Sample> first = {};  // Its first kFirstSamples samples, in time order.

    void Add(const Sample& s);
    PointD Anchor() const { return {sum.x / n, sum.y / n}; }
    // When it came to a stand: its first sample within half the radius of where it stands,
    // so that the last frames of its approach, which the radius may include, do not count.
    int64_t SinceMs(double radius) const;
  };
  struct TrackState : zones::TrackSighting {
    std::deque<Sample> samples;  // The last max(window) of samples, oldest first.
    std::optional<double> speed_kmh;
    SpeedMedian moving_speeds;
    std::vector<bool> wrong_way;   // Reported, parallel to options_.lanes.
    std::vector<StopState> stops;  // Parallel to options_.stopped.
  };

  TrafficEngine(TrafficEngineOptions options, std::vector<PointD> ground_directions);

  void UpdateTrack(const zones::TrackedObject& object, const zones::FrameTracks& frame,
                   std::vector<Event>& raised);
  void CheckWrongWay(TrackState& track, const zones::FrameTracks& frame,
                     std::vector<Event>& raised) const;
  void CheckStopped(TrackState& track, int64_t now, std::vector<Event>& raised) const;
  void FillSpeeds(std::vector<Event>& events) const;
  bool IsVehicle(const std::string& label) const;

  const TrafficEngineOptions options_;
  // Calibrated: each lane's direction on the ground (metres), parallel to options_.lanes.
  const std::vector<PointD> ground_directions_;
  std::map<int64_t, TrackState> tracks_;
  int64_t last_time_ms_ = INT64_MIN;
};

}  // namespace custos::traffic
