// Vehicle speed from a track's ground positions: a robust least-squares slope over a sliding
// window. Advisory, never evidential (docs/traffic.md "Speed").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>

#include "custos/geometry.h"

namespace custos::traffic {

// Where a track's foot point was on the road at one frame.
struct GroundSample {
  int64_t time_ms = 0;
  PointD position;  // Metres on the calibration's ground plane.
  // Relative confidence in the position, e.g. 1 / (metres per pixel)^2 there: a pixel of
  // jitter far away moves a ground point further than close to the camera.
  double weight = 1;
};

struct SpeedOptions {
  // The estimate uses the samples of the last window_ms before the newest one.
  int64_t window_ms = 2000;
  // Fewer samples than this in the window, or samples spanning less than min_span_ms: the
  // speed is unknown (a track just begun, or frames with the same time).
  int min_points = 5;
  int64_t min_span_ms = 600;
  // A fitted travel over the window shorter than this is a standing vehicle whose box
  // jitters: the speed is 0, not the jitter's.
  double min_travel_m = 1.0;
  // Faster than this is a tracking error (two vehicles swapped identities): unknown.
  double max_kmh = 300;
};

// The speed in km/h of the samples' last window_ms (samples in time order). The velocity is
// the least-squares slope of x and of y against time; samples far off the fitted line (a box
// that jumped for a frame) are dropped, at most a quarter of them, and the line is fitted
// again. nullopt when unknown (see SpeedOptions); 0 for a standing vehicle.
std::optional<double> EstimateSpeedKmh(std::span<const GroundSample> samples,
                                       const SpeedOptions& options);

// The median of a track's speed estimates, kept in 0.1 km/h bins so a long-lived track costs
// a few hundred bytes, not one number per frame. Thread-compatible.
class SpeedMedian {
 public:
  void Add(double kmh);
  // nullopt before the first Add().
  std::optional<double> Median() const;

 private:
  std::map<int64_t, int64_t> bins_;  // Bin (kmh * 10, rounded) -> estimates in it.
  int64_t count_ = 0;
};

}  // namespace custos::traffic
