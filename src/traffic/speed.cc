#include "traffic/speed.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace custos::traffic {
namespace {

// Residuals up to this many metres are noise, never outliers, however small the others are.
constexpr double kMinOutlierM = 0.25;
// An outlier lies this many times the median residual off the fitted line.
constexpr double kOutlierFactor = 3;

struct Fit {
  double vx = 0;  // Metres per second.
  double vy = 0;
  double x0 = 0;  // Position at t_mean.
  double y0 = 0;
  double t_mean = 0;
};

// Weighted least squares of x(t) and y(t); t in seconds. REQUIRES: the times are not all
// equal, positive weights.
Fit LeastSquares(const std::vector<GroundSample>& s) {
  Fit f;
  double total = 0;
  for (const GroundSample& p : s) total += p.weight;
  for (const GroundSample& p : s) {
    const double w = p.weight / total;
    f.t_mean += w * static_cast<double>(p.time_ms) / 1000;
    f.x0 += w * p.position.x;
    f.y0 += w * p.position.y;
  }
  double stt = 0, stx = 0, sty = 0;
  for (const GroundSample& p : s) {
    const double dt = static_cast<double>(p.time_ms) / 1000 - f.t_mean;
    stt += p.weight * dt * dt;
    stx += p.weight * dt * (p.position.x - f.x0);
    sty += p.weight * dt * (p.position.y - f.y0);
  }
  f.vx = stx / stt;
  f.vy = sty / stt;
  return f;
}

double Residual(const Fit& f, const GroundSample& p) {
  const double dt = static_cast<double>(p.time_ms) / 1000 - f.t_mean;
  return std::hypot(p.position.x - (f.x0 + f.vx * dt), p.position.y - (f.y0 + f.vy * dt));
}

}  // namespace

std::optional<double> EstimateSpeedKmh(std::span<const GroundSample> samples,
                                       const SpeedOptions& options) {
  if (samples.empty()) return std::nullopt;
  const int64_t newest = samples.back().time_ms;
  std::vector<GroundSample> window;
  for (const GroundSample& s : samples) {
    if (newest - s.time_ms <= options.window_ms && std::isfinite(s.position.x) &&
        std::isfinite(s.position.y) && s.weight > 0 && std::isfinite(s.weight)) {
      window.push_back(s);
    }
  }
  const size_t min_points = static_cast<size_t>(std::max(2, options.min_points));
  auto span_ms = [&] { return window.back().time_ms - window.front().time_ms; };
  if (window.size() < min_points || span_ms() < std::max<int64_t>(1, options.min_span_ms)) {
    return std::nullopt;
  }

  Fit fit = LeastSquares(window);
  // Drop the worst sample while it is an outlier, keeping at least three quarters.
  const size_t keep = std::max(min_points, window.size() - window.size() / 4);
  while (window.size() > keep) {
    std::vector<double> residuals;
    for (const GroundSample& s : window) residuals.push_back(Residual(fit, s));
    std::vector<double> sorted = residuals;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2),
                     sorted.end());
    const double median = sorted[sorted.size() / 2];
    const auto worst = std::max_element(residuals.begin(), residuals.end());
    if (*worst <= std::max(kMinOutlierM, kOutlierFactor * median)) break;
    window.erase(window.begin() + (worst - residuals.begin()));
    if (span_ms() < std::max<int64_t>(1, options.min_span_ms)) return std::nullopt;
    fit = LeastSquares(window);
  }

  const double speed_ms = std::hypot(fit.vx, fit.vy);
  if (speed_ms * static_cast<double>(span_ms()) / 1000 < options.min_travel_m) return 0.0;
  const double kmh = speed_ms * 3.6;
  if (!std::isfinite(kmh) || kmh > options.max_kmh) return std::nullopt;
  return kmh;
}

void SpeedMedian::Add(double kmh) {
  if (!std::isfinite(kmh) || kmh < 0) return;
  ++bins_[std::llround(kmh * 10)];
  ++count_;
}

std::optional<double> SpeedMedian::Median() const {
  if (count_ == 0) return std::nullopt;
  // The lower median: the estimate at rank (count - 1) / 2.
  int64_t rank = (count_ - 1) / 2;
  for (const auto& [bin, n] : bins_) {
    if (rank < n) return static_cast<double>(bin) / 10;
    rank -= n;
  }
  return static_cast<double>(bins_.rbegin()->first) / 10;
}

}  // namespace custos::traffic
