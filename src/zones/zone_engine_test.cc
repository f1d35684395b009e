#include "zones/zone_engine.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/ulid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::zones {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int kWidth = 1000;  // Not square, so normalised and pixel geometry differ.
constexpr int kHeight = 500;
constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kFrameMs = 200;  // 5 fps.

// A 20x40 px box whose foot point (bottom centre) is at (x, y) px.
TrackedObject At(int64_t id, float x, float y, const std::string& label = "person",
                 float score = 0.8f) {
  return {id, label, score, BoxF{x - 10, y - 40, 20, 40}};
}

// Drives an engine frame by frame and collects the events.
class Driver {
 public:
  explicit Driver(ZoneEngineOptions options) {
    options.camera = "cam1";
    auto engine = ZoneEngine::Create(std::move(options));
    EXPECT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }

  // One frame with the given tracks; returns its events.
  std::vector<Event> Step(std::vector<TrackedObject> tracks, std::vector<int64_t> ended = {}) {
    FrameTracks frame{time_ms_, kWidth, kHeight, std::move(tracks), std::move(ended)};
    time_ms_ += kFrameMs;
    auto events = engine_->Process(frame);
    EXPECT_TRUE(events.ok()) << events.status();
    all_.insert(all_.end(), events->begin(), events->end());
    return *events;
  }

  // Walks track `id` in a straight line over `frames` frames (both ends included).
  void Walk(int64_t id, PointF from, PointF to, int frames, const std::string& label = "person") {
    for (int i = 0; i < frames; ++i) {
      const float t = frames == 1 ? 1.0f : static_cast<float>(i) / static_cast<float>(frames - 1);
      Step({At(id, from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t, label)});
    }
  }

  std::vector<std::string> Summary() const {
    std::vector<std::string> out;
    for (const Event& e : all_) {
      std::string s = std::string(EventTypeName(e.type)) + " " + e.zone;
      if (!e.direction.empty()) s += " " + e.direction;
      out.push_back(s);
    }
    return out;
  }

  ZoneEngine& engine() { return *engine_; }
  int64_t time_ms() const { return time_ms_; }
  const std::vector<Event>& all() const { return all_; }

 private:
  std::unique_ptr<ZoneEngine> engine_;
  int64_t time_ms_ = kT0;
  std::vector<Event> all_;
};

// The left half of the frame, x in [0, 0.5].
ZoneSpec LeftHalf(int min_frames = 2) {
  ZoneSpec zone;
  zone.name = "left";
  zone.polygon = {{0, 0}, {0.5f, 0}, {0.5f, 1}, {0, 1}};
  zone.min_frames = min_frames;
  return zone;
}

// A vertical line down the middle, drawn top to bottom: walking from `from` to `to` on the
// picture means walking down, so "left" is the right half of the picture (x > 500 px).
LineSpec MiddleLine() {
  LineSpec line;
  line.name = "gate";
  line.from = {0.5f, 0.0f};
  line.to = {0.5f, 1.0f};
  return line;
}

TEST(Geometry, PointInPolygonHandlesConcaveShapes) {
  // A "U": the notch between x 0.4 and 0.6 above y 0.5 is outside.
  const Polygon u = {{0.1f, 0.1f}, {0.4f, 0.1f}, {0.4f, 0.5f}, {0.6f, 0.5f},
                     {0.6f, 0.1f}, {0.9f, 0.1f}, {0.9f, 0.9f}, {0.1f, 0.9f}};
  EXPECT_TRUE(PointInPolygon({0.2f, 0.2f}, u));
  EXPECT_TRUE(PointInPolygon({0.5f, 0.7f}, u));
  EXPECT_FALSE(PointInPolygon({0.5f, 0.3f}, u));
  EXPECT_FALSE(PointInPolygon({0.95f, 0.5f}, u));
  EXPECT_FALSE(PointInPolygon({0.5f, 0.05f}, u));
}

TEST(Geometry, SegmentsIntersectCountsTouchingButNotMisses) {
  EXPECT_TRUE(SegmentsIntersect({0, 0}, {2, 2}, {0, 2}, {2, 0}));
  EXPECT_TRUE(SegmentsIntersect({0, 0}, {1, 1}, {1, 1}, {2, 0}));        // Shared endpoint.
  EXPECT_TRUE(SegmentsIntersect({0, 1}, {1, 1}, {0.5f, 0}, {0.5f, 2}));  // T junction.
  EXPECT_TRUE(SegmentsIntersect({0, 0}, {2, 0}, {1, 0}, {3, 0}));        // Collinear overlap.
  EXPECT_FALSE(SegmentsIntersect({0, 0}, {1, 0}, {2, 0}, {3, 0}));       // Collinear apart.
  EXPECT_FALSE(SegmentsIntersect({0, 0}, {1, 1}, {0, 1}, {0.4f, 0.6f}));
  EXPECT_FALSE(SegmentsIntersect({0, 0}, {1, 0}, {0, 1}, {1, 1}));  // Parallel.
}

TEST(ZoneEngine, EntersAfterMinFramesInsideWithCompleteEvents) {
  ZoneEngineOptions options;
  options.zones = {LeftHalf(/*min_frames=*/3)};
  Driver d(options);
  EXPECT_THAT(d.Step({At(7, 800, 300)}), IsEmpty());  // Outside.
  EXPECT_THAT(d.Step({At(7, 300, 300, "person", 0.9f)}), IsEmpty());
  EXPECT_THAT(d.Step({At(7, 310, 300, "person", 0.6f)}), IsEmpty());
  const int64_t third_inside_ms = d.time_ms();
  std::vector<Event> events = d.Step({At(7, 320, 300, "person", 0.7f)});
  ASSERT_EQ(events.size(), 1u);
  const Event& e = events[0];
  EXPECT_EQ(e.type, EventType::kZoneEnter);
  EXPECT_EQ(e.camera, "cam1");
  EXPECT_EQ(UlidTimeMs(e.id), third_inside_ms);
  EXPECT_EQ(e.time_ms, third_inside_ms);
  EXPECT_EQ(e.zone, "left");
  EXPECT_EQ(e.label, "person");
  EXPECT_EQ(e.track_id, 7);
  EXPECT_FLOAT_EQ(e.score, 0.9f);  // The best so far, not this frame's.
  EXPECT_FLOAT_EQ(e.box.x, 310);
  EXPECT_FLOAT_EQ(e.box.Bottom(), 300);
  EXPECT_THAT(d.Step({At(7, 330, 300)}), IsEmpty());  // Still inside: nothing new.
}

TEST(ZoneEngine, IgnoresBlipsShorterThanMinFrames) {
  ZoneEngineOptions options;
  options.zones = {LeftHalf(2)};
  Driver d(options);
  d.Step({At(1, 800, 300)});
  d.Step({At(1, 400, 300)});  // One frame inside...
  d.Step({At(1, 800, 300)});  // ...then out again: no visit.
  EXPECT_THAT(d.Summary(), IsEmpty());
  d.Step({At(1, 400, 300)});
  d.Step({At(1, 400, 300)});  // Enter.
  d.Step({At(1, 800, 300)});  // One frame outside...
  d.Step({At(1, 400, 300)});  // ...back in: still the same visit.
  d.Step({At(1, 400, 300)});
  EXPECT_THAT(d.Summary(), ElementsAre("zone_enter left"));
}

TEST(ZoneEngine, LeavesAfterMinFramesOutsideAndReportsDwell) {
  ZoneEngineOptions options;
  options.zones = {LeftHalf(2)};
  Driver d(options);
  const int64_t start = d.time_ms();
  d.Walk(1, {100, 300}, {400, 300}, 10);  // 10 frames inside: enters at frame 2.
  const int64_t first_outside = d.time_ms();
  d.Step({At(1, 700, 300)});
  std::vector<Event> leave = d.Step({At(1, 700, 300)});
  ASSERT_EQ(leave.size(), 1u);
  EXPECT_EQ(leave[0].type, EventType::kZoneLeave);
  EXPECT_EQ(leave[0].time_ms, first_outside + kFrameMs);
  EXPECT_EQ(leave[0].dwell_ms, first_outside - start);
  EXPECT_THAT(d.Summary(), ElementsAre("zone_enter left", "zone_leave left"));
}

TEST(ZoneEngine, UsesTheFootPointNotTheBoxCentre) {
  ZoneEngineOptions options;
  ZoneSpec floor;  // The bottom fifth of the picture.
  floor.name = "floor";
  floor.polygon = {{0, 0.8f}, {1, 0.8f}, {1, 1}, {0, 1}};
  floor.min_frames = 1;
  options.zones = {floor};
  Driver d(options);
  // Box from y 380 to 480: the centre (430) is above the zone, the foot (480) inside.
  std::vector<Event> events = d.Step({TrackedObject{1, "person", 0.8f, BoxF{100, 380, 40, 100}}});
  EXPECT_EQ(events.size(), 1u);
}

TEST(ZoneEngine, TrackEndEmitsLeaveForOpenVisits) {
  ZoneEngineOptions options;
  options.zones = {LeftHalf(2)};
  Driver d(options);
  const int64_t start = d.time_ms();
  d.Walk(3, {100, 300}, {200, 300}, 5);
  const int64_t last_seen = d.time_ms() - kFrameMs;
  d.Step({});  // Not seen, not ended: no leave yet.
  EXPECT_THAT(d.Summary(), ElementsAre("zone_enter left"));
  const int64_t end_ms = d.time_ms();
  std::vector<Event> events = d.Step({}, /*ended=*/{3});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kZoneLeave);
  EXPECT_EQ(events[0].time_ms, end_ms);
  EXPECT_EQ(events[0].dwell_ms, last_seen - start);
  EXPECT_EQ(events[0].track_id, 3);
  // A track that never entered ends silently; unknown ids are ignored.
  d.Step({At(4, 900, 300)});
  EXPECT_THAT(d.Step({}, {4, 99}), IsEmpty());
}

TEST(ZoneEngine, EndAllClosesEveryVisit) {
  ZoneEngineOptions options;
  options.zones = {LeftHalf(1)};
  Driver d(options);
  d.Step({At(1, 100, 300), At(2, 200, 300), At(3, 900, 300)});
  std::vector<Event> events = d.engine().EndAll(d.time_ms());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, EventType::kZoneLeave);
  EXPECT_EQ(events[1].type, EventType::kZoneLeave);
  EXPECT_THAT(d.engine().EndAll(d.time_ms()), IsEmpty());
}

TEST(ZoneEngine, LoitersOncePerVisit) {
  ZoneEngineOptions options;
  ZoneSpec zone = LeftHalf(2);
  zone.loiter_ms = 1000;
  options.zones = {zone};
  Driver d(options);
  const int64_t start = d.time_ms();
  // 10 frames = 1.8 s inside: loiter fires once, at the first frame >= 1 s after the start.
  d.Walk(1, {100, 300}, {300, 300}, 10);
  ASSERT_THAT(d.Summary(), ElementsAre("zone_enter left", "loiter left"));
  const Event& loiter = d.all()[1];
  EXPECT_EQ(loiter.time_ms, start + 1000);
  EXPECT_EQ(loiter.dwell_ms, 1000);
  // Leave and come back: a new visit may loiter again.
  d.Walk(1, {700, 300}, {700, 300}, 2);
  d.Walk(1, {100, 300}, {100, 300}, 8);
  EXPECT_THAT(d.Summary(), ElementsAre("zone_enter left", "loiter left", "zone_leave left",
                                       "zone_enter left", "loiter left"));
}

TEST(ZoneEngine, LoiterIsOffByDefault) {
  ZoneEngineOptions options;
  options.zones = {LeftHalf(2)};
  Driver d(options);
  d.Walk(1, {100, 300}, {100, 300}, 200);  // 40 s.
  EXPECT_THAT(d.Summary(), ElementsAre("zone_enter left"));
}

TEST(ZoneEngine, ZoneLabelFilterIgnoresOtherLabels) {
  ZoneEngineOptions options;
  ZoneSpec zone = LeftHalf(1);
  zone.labels = {"car", "truck"};
  options.zones = {zone};
  Driver d(options);
  d.Step({At(1, 100, 300, "person"), At(2, 100, 300, "car"), At(3, 100, 300, "truck")});
  EXPECT_THAT(d.Summary(), ElementsAre("zone_enter left", "zone_enter left"));
  EXPECT_EQ(d.all()[0].label, "car");
  EXPECT_EQ(d.all()[1].label, "truck");
}

TEST(ZoneEngine, WalkingAcrossTheLineCountsOneCrossingWithItsDirection) {
  ZoneEngineOptions options;
  options.lines = {MiddleLine()};
  Driver d(options);
  // Screen left to screen right across a line drawn downwards: from its right side to its
  // left side.
  d.Walk(1, {200, 250}, {800, 250}, 7);
  ASSERT_THAT(d.Summary(), ElementsAre("line_cross gate out"));
  EXPECT_EQ(d.all()[0].track_id, 1);
  EXPECT_EQ(d.all()[0].camera, "cam1");
  // And back.
  d.Walk(1, {800, 250}, {200, 250}, 7);
  EXPECT_THAT(d.Summary(), ElementsAre("line_cross gate out", "line_cross gate in"));
}

TEST(ZoneEngine, LeftIsAsSeenWalkingAlongTheLine) {
  ZoneEngineOptions options;
  LineSpec line;  // Horizontal, drawn left to right: its left side is the top of the picture.
  line.name = "h";
  line.from = {0.1f, 0.5f};
  line.to = {0.9f, 0.5f};
  line.left_to_right = "down";
  line.right_to_left = "up";
  LineSpec up = line;  // The same line drawn right to left: sides swap.
  up.name = "h_reversed";
  up.from = line.to;
  up.to = line.from;
  options.lines = {line, up};
  Driver d(options);
  d.Walk(1, {500, 100}, {500, 400}, 4);  // Top to bottom.
  EXPECT_THAT(d.Summary(), ElementsAre("line_cross h down", "line_cross h_reversed up"));
}

TEST(ZoneEngine, FastTracksCrossBetweenTwoUpdates) {
  ZoneEngineOptions options;
  options.lines = {MiddleLine()};
  Driver d(options);
  d.Step({At(1, 100, 250)});
  d.Step({At(1, 900, 250)});  // One jump over the line.
  EXPECT_THAT(d.Summary(), ElementsAre("line_cross gate out"));
}

TEST(ZoneEngine, PassingBeyondTheSegmentsEndDoesNotCount) {
  ZoneEngineOptions options;
  LineSpec line = MiddleLine();
  line.from = {0.5f, 0.5f};  // Only the bottom half of the picture.
  options.lines = {line};
  Driver d(options);
  d.Walk(1, {200, 100}, {800, 100}, 7);  // Across the top half: misses the segment.
  EXPECT_THAT(d.Summary(), IsEmpty());
  // Around the end and back through the segment: one crossing, from screen right (the line's
  // left) to screen left (its right), so left_to_right.
  d.Walk(1, {800, 100}, {800, 400}, 4);
  d.Walk(1, {800, 400}, {200, 400}, 7);
  EXPECT_THAT(d.Summary(), ElementsAre("line_cross gate in"));
}

TEST(ZoneEngine, JitterOnTheLineCountsOnceNet) {
  ZoneEngineOptions options;
  options.lines = {MiddleLine()};  // Margin 1% of the 1118 px diagonal: ~11 px.
  Driver d(options);
  d.Walk(1, {300, 250}, {495, 250}, 5);
  // Thirty frames wobbling across the line by +-5 px.
  for (int i = 0; i < 30; ++i) d.Step({At(1, i % 2 ? 505.0f : 495.0f, 250)});
  EXPECT_THAT(d.Summary(), IsEmpty());  // Undecided while on the line.
  d.Walk(1, {505, 250}, {700, 250}, 5);
  EXPECT_THAT(d.Summary(), ElementsAre("line_cross gate out"));

  // Wobbling and then going back where it came from is no crossing at all.
  d.Walk(2, {700, 250}, {505, 250}, 5);
  for (int i = 0; i < 30; ++i) d.Step({At(2, i % 2 ? 505.0f : 495.0f, 250)});
  d.Walk(2, {505, 250}, {700, 250}, 5);
  EXPECT_THAT(d.Summary(), ElementsAre("line_cross gate out"));
}

TEST(ZoneEngine, JitterWithoutMarginCountsEveryCrossing) {
  ZoneEngineOptions options;
  options.lines = {MiddleLine()};
  options.line_margin = 0;
  Driver d(options);
  for (int i = 0; i < 4; ++i) d.Step({At(1, i % 2 ? 505.0f : 495.0f, 250)});
  EXPECT_EQ(d.Summary().size(), 3u);  // Why the margin exists.
}

TEST(ZoneEngine, TrackStartingOnTheLineDoesNotCount) {
  ZoneEngineOptions options;
  options.lines = {MiddleLine()};
  Driver d(options);
  d.Walk(1, {500, 250}, {800, 250}, 5);
  EXPECT_THAT(d.Summary(), IsEmpty());
}

TEST(ZoneEngine, LineLabelFilterAndCounts) {
  ZoneEngineOptions options;
  LineSpec line = MiddleLine();
  line.labels = {"person", "car"};
  options.lines = {line};
  options.zones = {LeftHalf(1)};
  Driver d(options);
  d.Walk(1, {800, 250}, {200, 250}, 4, "person");   // in, enters "left"
  d.Walk(2, {800, 250}, {200, 250}, 4, "car");      // in, enters "left"
  d.Walk(3, {800, 250}, {200, 250}, 4, "bicycle");  // filtered by the line; enters "left"
  d.Walk(1, {200, 250}, {800, 250}, 4, "person");   // out
  d.Walk(4, {800, 250}, {200, 250}, 4, "person");   // in, enters "left"
  const ZoneCounts counts = d.engine().Counts();
  EXPECT_EQ(counts.line_crossings.size(), 3u);
  EXPECT_EQ(counts.line_crossings.at({"gate", "person", "in"}), 2);
  EXPECT_EQ(counts.line_crossings.at({"gate", "person", "out"}), 1);
  EXPECT_EQ(counts.line_crossings.at({"gate", "car", "in"}), 1);
  EXPECT_EQ(counts.line_crossings.count({"gate", "bicycle", "in"}), 0u);
  EXPECT_EQ(counts.zone_entries.at({"left", "person"}), 2);
  EXPECT_EQ(counts.zone_entries.at({"left", "car"}), 1);
  EXPECT_EQ(counts.zone_entries.at({"left", "bicycle"}), 1);
}

TEST(ZoneEngine, ManyTracksAreIndependent) {
  ZoneEngineOptions options;
  options.lines = {MiddleLine()};
  Driver d(options);
  for (int i = 0; i < 7; ++i) {
    const float x = 100.0f + 130.0f * static_cast<float>(i);
    d.Step({At(1, x, 100), At(2, 1000 - x, 300)});
  }
  EXPECT_THAT(d.Summary(), ElementsAre("line_cross gate out", "line_cross gate in"));
  EXPECT_EQ(d.all()[0].track_id, 1);
  EXPECT_EQ(d.all()[1].track_id, 2);
}

TEST(ZoneEngine, ForgetsTracksThatAreNeverEnded) {
  ZoneEngineOptions options;
  options.zones = {LeftHalf(1)};
  options.forget_after_ms = 1000;
  Driver d(options);
  d.Step({At(1, 100, 300)});
  for (int i = 0; i < 5; ++i) d.Step({});
  EXPECT_THAT(d.Summary(), ElementsAre("zone_enter left"));
  d.Step({});  // 1.2 s unseen.
  EXPECT_THAT(d.Summary(), ElementsAre("zone_enter left", "zone_leave left"));
}

TEST(ZoneEngine, CountsCanBeReadWhileFramesAreProcessed) {
  ZoneEngineOptions options;
  options.lines = {MiddleLine()};
  options.line_margin = 0;
  auto engine = ZoneEngine::Create(options);
  ASSERT_TRUE(engine.ok());
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) (*engine)->Counts();
  });
  for (int i = 0; i < 1000; ++i) {
    const float x = i % 2 ? 700.0f : 300.0f;
    ASSERT_TRUE((*engine)->Process({kT0 + i, kWidth, kHeight, {At(1, x, 250)}, {}}).ok());
  }
  done = true;
  reader.join();
  const ZoneCounts counts = (*engine)->Counts();
  EXPECT_EQ(counts.line_crossings.at({"gate", "person", "out"}) +
                counts.line_crossings.at({"gate", "person", "in"}),
            999);
}

TEST(ZoneEngine, RejectsBadFrames) {
  auto engine = ZoneEngine::Create({});
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ((*engine)->Process({kT0, 0, 480, {}, {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*engine)->Process({kT0, 640, 480, {}, {}}).ok());
  ASSERT_TRUE((*engine)->Process({kT0, 640, 480, {}, {}}).ok());  // Same time is fine.
  absl::StatusOr<std::vector<Event>> back = (*engine)->Process({kT0 - 1, 640, 480, {}, {}});
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("earlier than the previous"));
}

TEST(ZoneEngine, CreateRejectsMalformedZonesAndLines) {
  auto error = [](ZoneEngineOptions options) {
    auto engine = ZoneEngine::Create(std::move(options));
    EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(engine.status().message());
  };
  ZoneEngineOptions o;
  o.zones = {LeftHalf()};
  o.zones[0].polygon.pop_back();
  o.zones[0].polygon.pop_back();
  EXPECT_THAT(error(o), HasSubstr("needs at least 3"));
  o.zones = {LeftHalf()};
  o.zones[0].polygon[0].x = 1.5f;
  EXPECT_THAT(error(o), HasSubstr("outside [0, 1]"));
  o.zones = {LeftHalf(0)};
  EXPECT_THAT(error(o), HasSubstr("min_frames"));
  o.zones = {LeftHalf(), LeftHalf()};
  EXPECT_THAT(error(o), HasSubstr("used twice"));
  o.zones = {LeftHalf()};
  o.lines = {MiddleLine()};
  o.lines[0].name = "left";
  EXPECT_THAT(error(o), HasSubstr("used twice"));
  o.lines[0] = MiddleLine();
  o.lines[0].to = o.lines[0].from;
  EXPECT_THAT(error(o), HasSubstr("zero length"));
  o.lines[0] = MiddleLine();
  o.line_margin = -1;
  EXPECT_THAT(error(o), HasSubstr("line_margin"));
}

}  // namespace
}  // namespace custos::zones
