// Constant-velocity Kalman filter for one bounding box, in the state space of SORT and
// ByteTrack: centre x, centre y, aspect ratio w/h, height, and their rates of change. Unlike
// those, time steps are seconds taken from frame timestamps, so frames may arrive at
// irregular intervals (dropped frames, variable detect fps): process noise grows with the
// step, and velocities are in pixels per second.
#pragma once

#include <opencv2/core/matx.hpp>

#include "custos/geometry.h"

namespace custos::track {

// Noise model. Position and height noise are relative to the box height, so one setting
// fits near and far objects. See docs/tracking.md.
struct KalmanOptions {
  // Random-walk noise of position and height, in box heights per sqrt(second).
  double position_noise = 0.25;
  // Random-walk noise of the centre's velocity (acceleration), in box heights per second per
  // sqrt(second). People and vehicles keep their speed over a second or so; a larger value
  // follows turns sooner but lets one displaced box swing the velocity.
  double velocity_noise = 0.5;
  // Random-walk noise of the height's rate of change, in box heights per second per
  // sqrt(second). Much smaller than velocity_noise: objects cross the view far faster than
  // they grow or shrink in it, and a height velocity learnt from one odd box (a torso-only
  // detection) would make the predicted box collapse or balloon.
  double size_velocity_noise = 0.1;
  // Standard deviation of a measured position or height, in box heights.
  double measurement_noise = 0.05;
  // Initial uncertainty of a new track's centre velocity, in box heights per second.
  double initial_velocity_std = 2.0;
  // Initial uncertainty of a new track's height velocity, in box heights per second.
  double initial_size_velocity_std = 0.2;
};

// Thread-compatible value type.
class KalmanBoxFilter {
 public:
  // Starts at `box` with zero velocity. REQUIRES: box.w > 0, box.h > 0.
  explicit KalmanBoxFilter(const BoxF& box, const KalmanOptions& options = {});

  // Advances the state by `dt_s` seconds (<= 0: no change).
  void Predict(double dt_s);
  // Corrects the state with a measured box whose noise is measurement_noise x noise_scale
  // (a larger scale: a less trusted box, moving the estimate less).
  // REQUIRES: box.w > 0, box.h > 0, noise_scale >= 1.
  void Update(const BoxF& box, double noise_scale = 1.0);

  // Sets the velocities to zero (an object known to have stopped).
  void StopMotion();
  // Sets the rates of change of size and aspect ratio to zero, so a box predicted for long
  // without measurements keeps its size (ByteTrack does this for lost tracks).
  void FreezeSize();

  // The current box estimate; width and height are at least 1 px.
  BoxF Box() const;
  // Velocity of the box centre in pixels per second.
  PointF Velocity() const;

 private:
  using Vec8 = cv::Matx<double, 8, 1>;
  using Mat8 = cv::Matx<double, 8, 8>;

  KalmanOptions options_;
  Vec8 x_;  // cx, cy, aspect, h, vcx, vcy, vaspect, vh.
  Mat8 p_;  // Covariance of x_.
};

}  // namespace custos::track
