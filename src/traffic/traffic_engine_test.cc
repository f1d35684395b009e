#include "traffic/traffic_engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/ulid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite_event_store.h"

namespace custos::traffic {
namespace {

using ::testing::HasSubstr;

constexpr int kWidth = 640;
constexpr int kHeight = 360;
constexpr int64_t kFrameMs = 200;  // 5 fps.
// A whole minute, so that one-minute buckets start at whole minutes of the scene.
constexpr int64_t kT0 = 1'800'000'000'000 - 1'800'000'000'000 % 60'000;

// The road: 12 m wide, x across (-6 left .. +6 right), y along it away from the camera (0 at
// the bottom of the picture, 60 m at the far edge of the calibrated stretch). Traffic keeps
// right: x > 0 drives away (northbound), x < 0 comes towards the camera (southbound).
const std::vector<PointF> kImage = {{0.1f, 0.95f}, {0.9f, 0.95f}, {0.6f, 0.25f}, {0.4f, 0.25f}};
const std::vector<PointD> kGround = {{-6, 0}, {6, 0}, {6, 60}, {-6, 60}};

GroundCalibration Calibration() { return *GroundCalibration::Create(kImage, kGround); }

PointF Image(const PointD& ground) { return *Calibration().ToImage(ground); }

Polygon GroundRect(double x0, double x1, double y0, double y1) {
  return {Image({x0, y0}), Image({x1, y0}), Image({x1, y1}), Image({x0, y1})};
}

// One road user: moves along x = lane_x from y0 to y1 at kmh (near edge of its footprint),
// optionally standing still for stop_ms once its near edge reaches stop_y.
struct Mover {
  int64_t track_id;
  std::string label;
  double kmh;
  double x;
  double y0;
  double y1;
  int64_t start_ms;  // Scene time of its first frame.
  double length_m = 4.5;
  double width_m = 1.8;
  double height_m = 1.5;
  double stop_y = 0;  // With stop_ms > 0: where it stands.
  int64_t stop_ms = 0;

  double Direction() const { return y1 > y0 ? 1 : -1; }
  // Time the near edge first reaches y (moving), scene ms.
  int64_t ArrivalMs(double y) const {
    const double t_ms = std::abs(y - y0) / (kmh / 3.6) * 1000;
    const bool after_stop = stop_ms > 0 && (y - stop_y) * Direction() > 0;
    return start_ms + static_cast<int64_t>(std::llround(t_ms)) + (after_stop ? stop_ms : 0);
  }
  int64_t EndMs() const { return ArrivalMs(y1); }
  // Near-edge position at scene time t (REQUIRES start_ms <= t <= EndMs()).
  double NearY(int64_t t) const {
    double moving_ms = static_cast<double>(t - start_ms);
    if (stop_ms > 0) {
      const double stop_at = static_cast<double>(ArrivalMs(stop_y) - start_ms);
      if (moving_ms > stop_at) {
        moving_ms = std::max(stop_at, moving_ms - static_cast<double>(stop_ms));
      }
    }
    return y0 + Direction() * kmh / 3.6 * moving_ms / 1000;
  }
};

// The detect-frame box of a footprint whose edge nearest the camera is at near_y: the bounds
// of its four ground corners on the picture, raised by its height, plus pixel noise on each
// edge.
BoxF BoxOf(const Mover& m, double near_y, std::mt19937& rng, double noise_px) {
  std::normal_distribution<double> noise(0, noise_px);
  const double far_y = near_y + m.length_m * (m.y1 > m.y0 ? 1 : -1);
  double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
  for (double gx : {m.x - m.width_m / 2, m.x + m.width_m / 2}) {
    for (double gy : {near_y, far_y}) {
      const PointF p = Image({gx, gy});
      x0 = std::min(x0, p.x * kWidth + 0.0);
      x1 = std::max(x1, p.x * kWidth + 0.0);
      y0 = std::min(y0, p.y * kHeight + 0.0);
      y1 = std::max(y1, p.y * kHeight + 0.0);
    }
  }
  const double px_per_m = (x1 - x0) / (m.width_m + m.length_m * 0.2);
  y0 -= m.height_m * px_per_m;
  x0 += noise(rng), x1 += noise(rng), y0 += noise(rng), y1 += noise(rng);
  return {static_cast<float>(x0), static_cast<float>(y0), static_cast<float>(x1 - x0),
          static_cast<float>(y1 - y0)};
}

// Everything the scene produced.
struct SceneOutput {
  std::vector<Event> events;  // Zone engine, track_end and traffic engine, in order.
  std::vector<Event> Of(EventType type) const {
    std::vector<Event> out;
    for (const Event& e : events) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
  const Event* Find(EventType type, int64_t track_id) const {
    for (const Event& e : events) {
      if (e.type == type && e.track_id == track_id) return &e;
    }
    return nullptr;
  }
};

enum : int64_t { kCarA = 1, kTruckB, kMotorcycleC, kCarD, kWrongWayE, kStopperF, kPersonP };

// 80, 30 and 50 km/h both ways, a wrong-way car in the northbound lane, a car that stands
// 20 s in the stop zone, and a person walking along the southbound lane's edge.
std::vector<Mover> Movers() {
  std::vector<Mover> m = {
      {kCarA, "car", 80, 3, 0, 60, 0},
      {kTruckB, "truck", 30, -3, 60, 0, 5'000, 10, 2.5, 3.5},
      {kMotorcycleC, "motorcycle", 50, 2, 0, 60, 10'000, 2, 0.8, 1.4},
      {kCarD, "car", 50, -3, 60, 0, 70'000},
      {kWrongWayE, "car", 50, 3, 60, 0, 80'000},
      {kStopperF, "car", 30, 4.5, 0, 60, 20'000},
      {kPersonP, "person", 5, -5.5, 20, 40, 65'000, 0.5, 0.5, 1.7},
  };
  m[5].stop_y = 40;
  m[5].stop_ms = 20'000;
  return m;
}

constexpr int64_t kStopAfterMs = 10'000;

TrafficEngineOptions SceneTrafficOptions(bool calibrated) {
  TrafficEngineOptions o;
  o.camera = "road";
  if (calibrated) o.calibration = Calibration();
  o.lanes.push_back({"northbound", GroundRect(0, 6, 0, 60), Image({3, 10}), Image({3, 50})});
  o.lanes.push_back({"southbound", GroundRect(-6, 0, 0, 60), Image({-3, 50}), Image({-3, 10})});
  o.stopped.push_back({"shoulder", GroundRect(1, 6, 35, 50), kStopAfterMs});
  return o;
}

zones::ZoneEngineOptions SceneZoneOptions() {
  zones::ZoneEngineOptions o;
  o.camera = "road";
  // Drawn left to right across the road at 30 m: coming down the picture (towards the
  // camera) is left to right.
  o.lines.push_back({"count", Image({-6, 30}), Image({6, 30}), {}, "southbound", "northbound"});
  return o;
}

// Runs the scene frame by frame through a ZoneEngine and a TrafficEngine, as the camera
// pipeline does.
SceneOutput RunScene(bool calibrated, double noise_px = 0.5, uint32_t seed = 42) {
  std::mt19937 rng(seed);
  auto zones = zones::ZoneEngine::Create(SceneZoneOptions());
  auto traffic = TrafficEngine::Create(SceneTrafficOptions(calibrated));
  EXPECT_TRUE(zones.ok() && traffic.ok()) << zones.status() << traffic.status();
  const std::vector<Mover> movers = Movers();
  int64_t end_ms = 0;
  for (const Mover& m : movers) end_ms = std::max(end_ms, m.EndMs());
  SceneOutput out;
  std::set<int64_t> active;
  for (int64_t t = 0; t <= end_ms + 2 * kFrameMs; t += kFrameMs) {
    zones::FrameTracks frame;
    frame.time_ms = kT0 + t;
    frame.width = kWidth;
    frame.height = kHeight;
    std::vector<Event> ends;
    for (const Mover& m : movers) {
      if (t >= m.start_ms && t <= m.EndMs()) {
        frame.tracks.push_back({m.track_id, m.label, 0.8f, BoxOf(m, m.NearY(t), rng, noise_px)});
        active.insert(m.track_id);
      } else if (active.erase(m.track_id) > 0) {
        frame.ended.push_back(m.track_id);
        Event end;  // What the pipeline raises for the tracker's ended track.
        end.id = NewUlid(frame.time_ms);
        end.camera = "road";
        end.time_ms = frame.time_ms;
        end.type = EventType::kTrackEnd;
        end.label = m.label;
        end.track_id = m.track_id;
        ends.push_back(end);
      }
    }
    absl::StatusOr<std::vector<Event>> events = (*zones)->Process(frame);
    EXPECT_TRUE(events.ok()) << events.status();
    events->insert(events->end(), ends.begin(), ends.end());
    const absl::Status status = (*traffic)->Process(frame, *events);
    EXPECT_TRUE(status.ok()) << status;
    out.events.insert(out.events.end(), events->begin(), events->end());
  }
  return out;
}

std::map<int64_t, const Mover*> MoverById(const std::vector<Mover>& movers) {
  std::map<int64_t, const Mover*> by_id;
  for (const Mover& m : movers) by_id[m.track_id] = &m;
  return by_id;
}

// Within 5 % or 2 km/h, whichever is wider.
void ExpectSpeed(double measured, double truth, const std::string& what) {
  EXPECT_NEAR(measured, truth, std::max(2.0, 0.05 * truth)) << what;
  std::printf("  %-28s true %5.1f km/h  measured %5.1f km/h  error %+5.2f %%\n", what.c_str(),
              truth, measured, 100 * (measured - truth) / truth);
}

TEST(TrafficScene, LineCrossingsCarrySpeedsWithinFivePercent) {
  const SceneOutput out = RunScene(/*calibrated=*/true);
  const std::vector<Mover> movers = Movers();
  const auto by_id = MoverById(movers);
  const std::vector<Event> crossings = out.Of(EventType::kLineCross);
  ASSERT_EQ(crossings.size(), 7u);
  for (const Event& e : crossings) {
    const Mover& m = *by_id.at(e.track_id);
    if (m.label == "person") {
      EXPECT_EQ(e.speed_kmh, 0) << "people get no speed";
      continue;
    }
    ExpectSpeed(e.speed_kmh, m.kmh, absl::StrCat("line_cross ", m.label, " #", m.track_id));
  }
}

TEST(TrafficScene, TrackEndsCarryTheMedianSpeed) {
  const SceneOutput out = RunScene(/*calibrated=*/true);
  const std::vector<Mover> movers = Movers();
  for (const Mover& m : movers) {
    const Event* end = out.Find(EventType::kTrackEnd, m.track_id);
    ASSERT_NE(end, nullptr) << m.track_id;
    if (m.label == "person") {
      EXPECT_EQ(end->speed_kmh, 0);
    } else if (m.track_id == kStopperF) {
      // Braking and pulling away are part of its moving estimates: never faster than it
      // drove.
      EXPECT_GT(end->speed_kmh, 0.5 * m.kmh);
      EXPECT_LE(end->speed_kmh, 1.05 * m.kmh);
    } else {
      ExpectSpeed(end->speed_kmh, m.kmh, absl::StrCat("track_end ", m.label, " #", m.track_id));
    }
  }
}

TEST(TrafficScene, CountsPerLineDirectionAndClassAreExact) {
  const SceneOutput out = RunScene(/*calibrated=*/true);
  std::map<std::tuple<std::string, std::string, std::string>, int> counts;
  for (const Event& e : out.Of(EventType::kLineCross)) ++counts[{e.zone, e.direction, e.label}];
  const std::map<std::tuple<std::string, std::string, std::string>, int> expected = {
      {{"count", "northbound", "car"}, 2},         // A, F
      {{"count", "northbound", "motorcycle"}, 1},  // C
      {{"count", "northbound", "person"}, 1},      // P
      {{"count", "southbound", "car"}, 2},         // D, E
      {{"count", "southbound", "truck"}, 1},       // B
  };
  EXPECT_EQ(counts, expected);
}

TEST(TrafficScene, OnlyTheWrongWayCarRaisesWrongWayOnce) {
  for (bool calibrated : {true, false}) {
    SCOPED_TRACE(calibrated ? "calibrated" : "picture only");
    const SceneOutput out = RunScene(calibrated);
    const std::vector<Event> wrong = out.Of(EventType::kWrongWay);
    ASSERT_EQ(wrong.size(), 1u);
    EXPECT_EQ(wrong[0].track_id, kWrongWayE);
    EXPECT_EQ(wrong[0].zone, "northbound");
    EXPECT_EQ(wrong[0].label, "car");
    EXPECT_EQ(wrong[0].camera, "road");
    EXPECT_EQ(wrong[0].id.size(), 26u);
    if (calibrated) {
      ExpectSpeed(wrong[0].speed_kmh, 50, "wrong_way car #5");
    } else {
      EXPECT_EQ(wrong[0].speed_kmh, 0);
    }
  }
}

TEST(TrafficScene, TheCarStandingInTheStopZoneRaisesOneStoppedVehicleAfterTenSeconds) {
  const Mover f = Movers()[5];
  ASSERT_EQ(f.track_id, kStopperF);
  const int64_t stopped_at = kT0 + f.ArrivalMs(f.stop_y);
  for (bool calibrated : {true, false}) {
    SCOPED_TRACE(calibrated ? "calibrated" : "picture only");
    const SceneOutput out = RunScene(calibrated);
    const std::vector<Event> stopped = out.Of(EventType::kStoppedVehicle);
    ASSERT_EQ(stopped.size(), 1u);
    const Event& e = stopped[0];
    EXPECT_EQ(e.track_id, kStopperF);
    EXPECT_EQ(e.zone, "shoulder");
    // Calibrated, 30 km/h is 1.7 m a frame, beyond the 1.5 m stop radius: the stop is timed
    // to the frame, never before it has stood for after_s. On the picture alone its last
    // frame of approach, 40 m away, is 3 px from where it stops, within half the radius (0.01
    // of the diagonal, 7 px): timed from up to a frame early.
    const int64_t slack = calibrated ? 0 : kFrameMs;
    EXPECT_GE(e.time_ms, stopped_at + kStopAfterMs - slack);
    EXPECT_LE(e.time_ms, stopped_at + kStopAfterMs + kFrameMs);
    EXPECT_GE(e.dwell_ms, kStopAfterMs);
    EXPECT_LE(e.dwell_ms, kStopAfterMs + kFrameMs);
  }
}

TEST(TrafficScene, WithoutCalibrationThereAreNoSpeeds) {
  const SceneOutput out = RunScene(/*calibrated=*/false);
  for (const Event& e : out.events) EXPECT_EQ(e.speed_kmh, 0) << EventTypeName(e.type);
}

TEST(TrafficScene, TheStoreCountsTheCrossingsPerBucketWithMeanSpeeds) {
  const SceneOutput out = RunScene(/*calibrated=*/true);
  auto store = store::SqliteEventStore::Open({.path = ":memory:"});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Append(out.events).ok());
  absl::StatusOr<std::vector<LineCrossingCount>> counts = (*store)->CountLineCrossings(
      {.camera = "road", .from_ms = kT0, .to_ms = kT0 + 180'000}, 60'000);
  ASSERT_TRUE(counts.ok()) << counts.status();
  std::map<std::tuple<int64_t, std::string, std::string>, LineCrossingCount> got;
  for (const LineCrossingCount& c : *counts) {
    EXPECT_EQ(c.line, "count");
    got[{(c.start_ms - kT0) / 60'000, c.direction, c.label}] = c;
  }
  ASSERT_EQ(got.size(), 5u);
  auto expect = [&](int64_t bucket, const std::string& direction, const std::string& label,
                    int64_t n, double mean_kmh) {
    SCOPED_TRACE(absl::StrCat(bucket, " ", direction, " ", label));
    auto it = got.find({bucket, direction, label});
    ASSERT_NE(it, got.end());
    EXPECT_EQ(it->second.count, n);
    if (mean_kmh == 0) {
      EXPECT_EQ(it->second.with_speed, 0);
    } else {
      EXPECT_EQ(it->second.with_speed, n);
      EXPECT_NEAR(it->second.mean_speed_kmh, mean_kmh, 0.05 * mean_kmh);
    }
  };
  // First minute: A (80) and F (30) north, C north, B south; second minute: P north, D and E
  // (both 50) south; nothing in the third.
  expect(0, "northbound", "car", 2, 55);
  expect(0, "northbound", "motorcycle", 1, 50);
  expect(0, "southbound", "truck", 1, 30);
  expect(1, "northbound", "person", 1, 0);
  expect(1, "southbound", "car", 2, 50);
}

// The scene again with 20 other draws of the pixel noise: every speed within tolerance, one
// wrong-way car and one stopped car every time, the stop timed as promised.
TEST(TrafficScene, HoldsAcrossNoiseDraws) {
  const std::vector<Mover> movers = Movers();
  const auto by_id = MoverById(movers);
  const Mover& f = *by_id.at(kStopperF);
  const int64_t due = kT0 + f.ArrivalMs(f.stop_y) + kStopAfterMs;
  double worst = 0, sum_squares = 0;
  int n = 0;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    for (bool calibrated : {true, false}) {
      SCOPED_TRACE(absl::StrCat("seed ", seed, calibrated ? " calibrated" : " picture only"));
      const SceneOutput out = RunScene(calibrated, 0.5, seed);
      ASSERT_EQ(out.Of(EventType::kWrongWay).size(), 1u);
      EXPECT_EQ(out.Of(EventType::kWrongWay)[0].track_id, kWrongWayE);
      const std::vector<Event> stopped = out.Of(EventType::kStoppedVehicle);
      ASSERT_EQ(stopped.size(), 1u);
      EXPECT_GE(stopped[0].time_ms, due - (calibrated ? 0 : kFrameMs));
      EXPECT_LE(stopped[0].time_ms, due + kFrameMs);
      if (!calibrated) continue;
      // The wrong way is raised as soon as it is sure, 5 frames into the track and 50 m away:
      // its speed comes from a short, far window.
      const Event wrong = out.Of(EventType::kWrongWay)[0];
      EXPECT_NEAR(wrong.speed_kmh, 50, 0.1 * 50);
      for (const Event& e : out.events) {
        const bool measured = e.type == EventType::kLineCross ||
                              (e.type == EventType::kTrackEnd && e.track_id != kStopperF);
        const Mover& m = *by_id.at(e.track_id);
        if (!measured || m.label == "person") continue;
        EXPECT_NEAR(e.speed_kmh, m.kmh, std::max(2.0, 0.05 * m.kmh)) << EventTypeName(e.type);
        const double error = (e.speed_kmh - m.kmh) / m.kmh;
        worst = std::max(worst, std::abs(error));
        sum_squares += error * error;
        ++n;
      }
    }
  }
  std::printf("  %d speeds over 20 noise draws: RMS error %.2f %%, worst %.2f %%\n", n,
              100 * std::sqrt(sum_squares / n), 100 * worst);
}

// A box on the picture (no calibration) standing, moving on, standing again.
TEST(TrafficEngine, AVehicleThatStopsTwiceIsReportedTwice) {
  TrafficEngineOptions o;
  o.camera = "cam";
  o.stopped.push_back({"box", {{0, 0}, {1, 0}, {1, 1}, {0, 1}}, 5'000});
  auto engine = TrafficEngine::Create(o);
  ASSERT_TRUE(engine.ok()) << engine.status();
  std::vector<Event> all;
  float x = 100;
  for (int i = 0; i < 150; ++i) {  // 30 s at 5 fps.
    const int64_t t = kT0 + i * kFrameMs;
    // Stands 0-8 s, drives 8-12 s, stands 12-30 s.
    if ((i >= 40 && i < 60)) x += 10;
    zones::FrameTracks frame{t, kWidth, kHeight, {{7, "car", 0.9f, {x, 200, 40, 30}}}, {}};
    std::vector<Event> events;
    ASSERT_TRUE((*engine)->Process(frame, events).ok());
    all.insert(all.end(), events.begin(), events.end());
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].type, EventType::kStoppedVehicle);
  EXPECT_EQ(all[0].time_ms, kT0 + 5'000);
  EXPECT_EQ(all[0].dwell_ms, 5'000);
  EXPECT_EQ(all[1].time_ms, kT0 + 59 * kFrameMs + 5'000);
  EXPECT_EQ(all[1].dwell_ms, 5'000);
}

TEST(TrafficEngine, IgnoresPeople) {
  auto engine = TrafficEngine::Create(SceneTrafficOptions(/*calibrated=*/true));
  ASSERT_TRUE(engine.ok());
  // A person standing in the stop zone for a minute, then walking the wrong way up a lane.
  const PointF stand = Image({3, 40});
  for (int i = 0; i < 400; ++i) {
    const float y = i < 300 ? stand.y * kHeight : stand.y * kHeight + static_cast<float>(i - 300);
    zones::FrameTracks frame{kT0 + i * kFrameMs,
                             kWidth,
                             kHeight,
                             {{9, "person", 0.9f, {stand.x * kWidth - 5, y - 30, 10, 30}}},
                             {}};
    std::vector<Event> events;
    Event cross;
    cross.type = EventType::kLineCross;
    cross.label = "person";
    cross.track_id = 9;
    events.push_back(cross);
    ASSERT_TRUE((*engine)->Process(frame, events).ok());
    ASSERT_EQ(events.size(), 1u) << EventTypeName(events.back().type);
    EXPECT_EQ(events[0].speed_kmh, 0);
  }
}

TEST(TrafficEngine, RefusesFramesOutOfOrderAndBadSizes) {
  auto engine = TrafficEngine::Create(SceneTrafficOptions(/*calibrated=*/true));
  ASSERT_TRUE(engine.ok());
  std::vector<Event> events;
  ASSERT_TRUE((*engine)->Process({kT0, kWidth, kHeight, {}, {}}, events).ok());
  EXPECT_EQ((*engine)->Process({kT0 - 1, kWidth, kHeight, {}, {}}, events).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*engine)->Process({kT0, 0, kHeight, {}, {}}, events).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TrafficEngine, RefusesMalformedLanesAndStopZones) {
  auto status_of = [](TrafficEngineOptions o) { return TrafficEngine::Create(o).status(); };
  TrafficEngineOptions o = SceneTrafficOptions(/*calibrated=*/true);
  o.lanes[1].name = "northbound";
  EXPECT_THAT(status_of(o).message(), HasSubstr("'northbound' is used twice"));
  o = SceneTrafficOptions(true);
  o.lanes[0].to = o.lanes[0].from;
  EXPECT_THAT(status_of(o).message(), HasSubstr("two different points"));
  o = SceneTrafficOptions(true);
  o.lanes[0].to = {0.5f, 0.0f};  // Sky: the road vanishes at y = 0.017.
  EXPECT_THAT(status_of(o).message(), HasSubstr("beyond the road's horizon"));
  o.calibration.reset();  // On the picture, the same lane is fine.
  EXPECT_TRUE(status_of(o).ok());
  o = SceneTrafficOptions(true);
  o.stopped[0].polygon.resize(2);
  EXPECT_THAT(status_of(o).message(), HasSubstr("'shoulder' has 2 points"));
  o = SceneTrafficOptions(true);
  o.stopped[0].after_ms = 0;
  EXPECT_THAT(status_of(o).message(), HasSubstr("after_ms must be at least 1"));
  o = SceneTrafficOptions(true);
  o.wrong_way_cos = 0.5;
  EXPECT_EQ(status_of(o).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::traffic
