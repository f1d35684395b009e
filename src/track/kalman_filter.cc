#include "track/kalman_filter.h"

#include <algorithm>
#include <opencv2/core.hpp>  // Matx::inv is defined here.

namespace custos::track {
namespace {

// Aspect ratio (w/h) noise is absolute, not relative to the height: ByteTrack's values
// (1e-2 per frame at 30 fps for the process, 1e-1 for measurements) turned into per-second.
constexpr double kAspectNoise = 0.05;
constexpr double kAspectVelocityNoise = 1e-4;
constexpr double kAspectMeasurementNoise = 0.1;
constexpr double kMinHeight = 1.0;
constexpr double kMinAspect = 0.01;

double Sq(double v) { return v * v; }

}  // namespace

KalmanBoxFilter::KalmanBoxFilter(const BoxF& box, const KalmanOptions& options)
    : options_(options), p_(Mat8::zeros()) {
  const double h = std::max<double>(box.h, kMinHeight);
  x_ = Vec8::zeros();
  x_(0) = box.x + box.w / 2.0;
  x_(1) = box.y + box.h / 2.0;
  x_(2) = std::max<double>(box.w, kMinHeight) / h;
  x_(3) = h;
  const double pos = 2 * options_.measurement_noise * h;
  const double vel = options_.initial_velocity_std * h;
  p_(0, 0) = Sq(pos);
  p_(1, 1) = Sq(pos);
  p_(2, 2) = Sq(1e-2);
  p_(3, 3) = Sq(pos);
  p_(4, 4) = Sq(vel);
  p_(5, 5) = Sq(vel);
  p_(6, 6) = Sq(1e-3);
  p_(7, 7) = Sq(options_.initial_size_velocity_std * h);
}

void KalmanBoxFilter::Predict(double dt_s) {
  if (!(dt_s > 0)) return;
  const double h = x_(3);
  // White-noise random walks: variance grows linearly with the step.
  const double pos = Sq(options_.position_noise * h) * dt_s;
  const double vel = Sq(options_.velocity_noise * h) * dt_s;
  const double size_vel = Sq(options_.size_velocity_noise * h) * dt_s;
  const cv::Matx<double, 8, 1> q(pos, pos, Sq(kAspectNoise) * dt_s, pos, vel, vel,
                                 Sq(kAspectVelocityNoise) * dt_s, size_vel);
  // x = F x and P = F P F' + Q for F = [I dt*I; 0 I], by blocks rather than 8x8 products:
  // with P = [A B; B' D], F P F' = [A + dt (B + B') + dt^2 D, B + dt D; B' + dt D, D].
  for (int i = 0; i < 4; ++i) x_(i) += dt_s * x_(i + 4);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      p_(i, j) += dt_s * (p_(i, j + 4) + p_(i + 4, j)) + dt_s * dt_s * p_(i + 4, j + 4);
    }
  }
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) p_(i, j + 4) += dt_s * p_(i + 4, j + 4);
  }
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) p_(i + 4, j) = p_(j, i + 4);  // P stays symmetric.
  }
  for (int i = 0; i < 8; ++i) p_(i, i) += q(i);
  x_(2) = std::max(x_(2), kMinAspect);
  x_(3) = std::max(x_(3), kMinHeight);
}

void KalmanBoxFilter::Update(const BoxF& box, double noise_scale) {
  const double mh = std::max<double>(box.h, kMinHeight);
  const cv::Matx<double, 4, 1> z(box.x + box.w / 2.0, box.y + box.h / 2.0,
                                 std::max<double>(box.w, kMinHeight) / mh, mh);
  const double scale = Sq(std::max(1.0, noise_scale));
  const double r = Sq(options_.measurement_noise * x_(3)) * scale;
  const cv::Matx<double, 4, 4> rm =
      cv::Matx<double, 4, 4>::diag({r, r, Sq(kAspectMeasurementNoise) * scale, r});
  // H = [I4 0], so H P H' is P's top-left block and P H' its left four columns.
  cv::Matx<double, 8, 4> pht;
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j) pht(i, j) = p_(i, j);
  }
  cv::Matx<double, 4, 4> s;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) s(i, j) = p_(i, j);
  }
  cv::Matx<double, 4, 1> innovation;
  for (int i = 0; i < 4; ++i) innovation(i) = z(i) - x_(i);
  const cv::Matx<double, 8, 4> k = pht * (s + rm).inv(cv::DECOMP_CHOLESKY);
  x_ += k * innovation;
  // P -= K H P, where H P is P's top four rows, i.e. pht transposed.
  p_ -= k * pht.t();
  p_ = 0.5 * (p_ + p_.t());
  x_(2) = std::max(x_(2), kMinAspect);
  x_(3) = std::max(x_(3), kMinHeight);
}

void KalmanBoxFilter::StopMotion() {
  for (int i = 4; i < 8; ++i) x_(i) = 0;
}

void KalmanBoxFilter::FreezeSize() {
  x_(6) = 0;
  x_(7) = 0;
}

BoxF KalmanBoxFilter::Box() const {
  const double h = std::max(x_(3), kMinHeight);
  const double w = std::max(x_(2) * h, kMinHeight);
  return BoxF{static_cast<float>(x_(0) - w / 2), static_cast<float>(x_(1) - h / 2),
              static_cast<float>(w), static_cast<float>(h)};
}

PointF KalmanBoxFilter::Velocity() const {
  return PointF{static_cast<float>(x_(4)), static_cast<float>(x_(5))};
}

}  // namespace custos::track
