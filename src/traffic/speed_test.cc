#include "traffic/speed.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace custos::traffic {
namespace {

// Samples at 5 fps of a vehicle moving at `kmh` along a diagonal, with `noise_m` of
// uniform jitter on each axis.
std::vector<GroundSample> Drive(double kmh, int frames, double noise_m = 0, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(-noise_m, noise_m);
  std::vector<GroundSample> out;
  const double ms = kmh / 3.6;
  for (int i = 0; i < frames; ++i) {
    const double t = i * 0.2;
    out.push_back({1'700'000'000'000 + i * 200,
                   {3 + 0.6 * ms * t + jitter(rng), 10 + 0.8 * ms * t + jitter(rng)}});
  }
  return out;
}

TEST(EstimateSpeedKmh, RecoversAConstantSpeed) {
  for (double kmh : {10.0, 30.0, 50.0, 80.0, 130.0}) {
    const std::optional<double> v = EstimateSpeedKmh(Drive(kmh, 20), {});
    ASSERT_TRUE(v.has_value()) << kmh;
    EXPECT_NEAR(*v, kmh, 1e-6 * kmh) << kmh;
  }
}

TEST(EstimateSpeedKmh, UsesOnlyTheLastWindow) {
  // 50 km/h, then 20 km/h for the last 3 s: the 2 s window sees only the latter.
  std::vector<GroundSample> s = Drive(50, 10);
  const GroundSample last = s.back();
  for (int i = 1; i <= 15; ++i) {
    s.push_back(
        {last.time_ms + i * 200,
         {last.position.x + 0.6 * 20 / 3.6 * i * 0.2, last.position.y + 0.8 * 20 / 3.6 * i * 0.2}});
  }
  EXPECT_NEAR(*EstimateSpeedKmh(s, {}), 20, 1e-6);
}

TEST(EstimateSpeedKmh, IsUnknownWithTooFewPointsOrNoTime) {
  EXPECT_FALSE(EstimateSpeedKmh({}, {}).has_value());
  const std::vector<GroundSample> one = Drive(50, 1);
  EXPECT_FALSE(EstimateSpeedKmh(one, {}).has_value());
  EXPECT_FALSE(EstimateSpeedKmh(Drive(50, 4), {}).has_value());  // min_points is 5.
  // Five frames with the same time: no time has passed, however far it moved.
  std::vector<GroundSample> same_time = Drive(50, 5);
  for (GroundSample& s : same_time) s.time_ms = same_time[0].time_ms;
  EXPECT_FALSE(EstimateSpeedKmh(same_time, {}).has_value());
  // Too short a span: five frames 10 ms apart.
  std::vector<GroundSample> burst = Drive(50, 5);
  for (size_t i = 0; i < burst.size(); ++i) burst[i].time_ms = burst[0].time_ms + 10 * i;
  EXPECT_FALSE(EstimateSpeedKmh(burst, {}).has_value());
}

TEST(EstimateSpeedKmh, AStandingVehicleWhoseBoxJittersIsAtZero) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const std::optional<double> v = EstimateSpeedKmh(Drive(0, 30, /*noise_m=*/0.3, seed), {});
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 0.0) << seed;
  }
  // Without the travel floor the jitter alone would read as a slow crawl, never more.
  SpeedOptions no_floor;
  no_floor.min_travel_m = 0;
  const std::optional<double> raw = EstimateSpeedKmh(Drive(0, 30, 0.3, 7), no_floor);
  ASSERT_TRUE(raw.has_value());
  EXPECT_LT(*raw, 1.5);
}

TEST(EstimateSpeedKmh, ShrugsOffABoxThatJumpsForOneFrame) {
  std::vector<GroundSample> s = Drive(50, 12, 0.1);
  s[8].position.y += 6;  // The detector grabbed the car behind for one frame.
  const std::optional<double> v = EstimateSpeedKmh(s, {});
  ASSERT_TRUE(v.has_value());
  EXPECT_NEAR(*v, 50, 1.5);
}

TEST(EstimateSpeedKmh, AnImpossibleSpeedIsUnknown) {
  EXPECT_FALSE(EstimateSpeedKmh(Drive(450, 12), {}).has_value());
}

TEST(SpeedMedian, IsTheMiddleEstimateToATenth) {
  SpeedMedian m;
  EXPECT_FALSE(m.Median().has_value());
  for (double v : {48.04, 51.0, 49.96, 120.0, 50.0}) m.Add(v);
  EXPECT_DOUBLE_EQ(*m.Median(), 50.0);
  m.Add(-1);   // Ignored.
  m.Add(0.5);  // Lower median of six: 49.96 -> 50.0 bin.
  EXPECT_DOUBLE_EQ(*m.Median(), 50.0);
}

}  // namespace
}  // namespace custos::traffic
