#include "track/tracker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

namespace custos::track {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const cv::Size kFrame(1280, 720);

int ClassId(const std::string& label) {
  static const std::map<std::string, int> kIds = {{"person", 0},     {"bicycle", 1}, {"car", 2},
                                                  {"motorcycle", 3}, {"bus", 5},     {"truck", 7},
                                                  {"dog", 16}};
  return kIds.at(label);
}

Detection Det(const std::string& label, float score, BoxF box) {
  Detection d;
  d.class_id = ClassId(label);
  d.label = label;
  d.score = score;
  d.box = box;
  return d;
}

Detection Person(float x, float y, float score = 0.8f, float w = 60, float h = 160) {
  return Det("person", score, BoxF{x, y, w, h});
}

template <typename F>
TrackerOptions With(F&& set) {
  TrackerOptions options;
  set(options);
  return options;
}

// Drives a tracker through time, keeping every track started and ended.
class Sim {
 public:
  explicit Sim(const TrackerOptions& options = {}) : frame_(kFrame, CV_8UC3, cv::Scalar(0, 0, 0)) {
    absl::StatusOr<std::unique_ptr<Tracker>> tracker = Tracker::Create(options);
    EXPECT_TRUE(tracker.ok()) << tracker.status();
    tracker_ = *std::move(tracker);
  }

  // Advances `dt_ms` and updates with `detections`, the detector having searched `regions`
  // (the whole frame unless given).
  TrackerUpdate Step(int64_t dt_ms, const Detections& detections,
                     std::vector<cv::Rect> regions = {cv::Rect(0, 0, 1280, 720)},
                     const cv::Mat* frame = nullptr) {
    time_ms_ += dt_ms;
    absl::StatusOr<TrackerUpdate> update =
        tracker_->Update(detections, time_ms_, frame ? *frame : frame_, regions);
    EXPECT_TRUE(update.ok()) << update.status();
    Record(*update);
    return *update;
  }

  TrackerUpdate Flush() {
    TrackerUpdate update = tracker_->Flush();
    Record(update);
    return update;
  }

  // The one confirmed or lost track; fails the test if there is not exactly one.
  Track Only() const {
    const std::vector<Track> tracks = tracker_->Tracks();
    EXPECT_THAT(tracks, SizeIs(1));
    return tracks.empty() ? Track{} : tracks[0];
  }

  Tracker& tracker() { return *tracker_; }
  int64_t time_ms() const { return time_ms_; }
  const std::vector<Track>& started() const { return started_; }
  const std::vector<Track>& ended() const { return ended_; }

 private:
  void Record(const TrackerUpdate& update) {
    started_.insert(started_.end(), update.started.begin(), update.started.end());
    ended_.insert(ended_.end(), update.ended.begin(), update.ended.end());
  }

  std::unique_ptr<Tracker> tracker_;
  cv::Mat frame_;
  int64_t time_ms_ = 1'700'000'000'000;
  std::vector<Track> started_;
  std::vector<Track> ended_;
};

TEST(Tracker, CreateRejectsOutOfRangeOptionsNamingTheOption) {
  struct Case {
    TrackerOptions options;
    std::string name;
  };
  const std::vector<Case> cases = {
      {With([](auto& o) { o.high_thresh = 0; }), "high_thresh"},
      {With([](auto& o) { o.low_thresh = 0.7f; }), "low_thresh"},
      {With([](auto& o) { o.new_track_thresh = 0.4f; }), "new_track_thresh"},
      {With([](auto& o) { o.match_iou = 0; }), "match_iou"},
      {With([](auto& o) { o.low_match_iou = 1.5f; }), "low_match_iou"},
      {With([](auto& o) { o.max_jump_heights = -1; }), "max_jump_heights"},
      {With([](auto& o) { o.max_jump_size_ratio = 0.5f; }), "max_jump_size_ratio"},
      {With([](auto& o) { o.confirm_hits = 0; }), "confirm_hits"},
      {With([](auto& o) { o.confirm_window_ms = -1; }), "confirm_window_ms"},
      {With([](auto& o) { o.tentative_max_misses = 0; }), "tentative_max_misses"},
      {With([](auto& o) { o.max_lost_ms = -5; }), "max_lost_ms"},
      {With([](auto& o) { o.searched_coverage = 0; }), "searched_coverage"},
      {With([](auto& o) { o.min_in_frame_fraction = 2; }), "min_in_frame_fraction"},
      {With([](auto& o) { o.stationary_after_ms = -1; }), "stationary_after_ms"},
      {With([](auto& o) { o.snapshot_max_side_px = 0; }), "snapshot_max_side_px"},
      {With([](auto& o) { o.kalman.velocity_noise = 0; }), "kalman.velocity_noise"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::unique_ptr<Tracker>> tracker = Tracker::Create(c.options);
    ASSERT_FALSE(tracker.ok()) << c.name;
    EXPECT_EQ(tracker.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(tracker.status().message(), HasSubstr(c.name));
  }
}

TEST(Tracker, ConfirmsATrackAfterConfirmHitsAndReportsItOnce) {
  Sim sim;
  EXPECT_THAT(sim.Step(200, {Person(100, 100)}).started, IsEmpty());
  EXPECT_THAT(sim.Step(200, {Person(110, 100)}).started, IsEmpty());
  const TrackerUpdate third = sim.Step(200, {Person(120, 100)});
  ASSERT_THAT(third.started, SizeIs(1));
  EXPECT_EQ(third.started[0].id, 1);
  EXPECT_EQ(third.started[0].label, "person");
  EXPECT_EQ(third.started[0].class_id, 0);
  EXPECT_EQ(third.started[0].state, TrackState::kConfirmed);
  EXPECT_EQ(third.started[0].hits, 3);
  EXPECT_EQ(third.started[0].first_ms, sim.time_ms() - 400);
  EXPECT_THAT(sim.Step(200, {Person(130, 100)}).started, IsEmpty());
  EXPECT_THAT(sim.started(), SizeIs(1));
}

// The defaults must give one walking person one track, through detector misses, jitter,
// low scores, box jumps and irregular frame times.
TEST(Tracker, OnePersonWalkingAcrossTheSceneGivesOneTrack) {
  for (int seed = 1; seed <= 25; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    cv::RNG rng(static_cast<uint64_t>(seed));
    Sim sim;
    double t_s = 0;
    int frames = 0;
    while (true) {
      const int dt_ms = rng.uniform(100, 400);  // 2.5-10 fps, irregular.
      t_s += dt_ms / 1000.0;
      const float x = static_cast<float>(-30 + 130 * t_s);  // 130 px/s, left to right.
      if (x > 1300) break;
      const float y = static_cast<float>(400 + 40 * std::sin(t_s));
      ++frames;
      Detections detections;
      // Hidden for 0.8 s every 4 s (a pillar, a passing car), missed at random on 20% of the
      // other frames, and scored low (0.2-0.5) on 20% of those seen.
      const bool occluded = std::fmod(t_s, 4.0) > 3.2;
      if (!occluded && rng.uniform(0.0, 1.0) > 0.2) {
        const float score =
            rng.uniform(0, 5) == 0 ? rng.uniform(0.2f, 0.5f) : rng.uniform(0.5f, 0.95f);
        Detection d = Person(x + rng.uniform(-5.0f, 5.0f), y + rng.uniform(-5.0f, 5.0f), score);
        if (rng.uniform(0, 8) == 0) d.box.h *= 0.55f;            // Torso only: the box jumps.
        if (rng.uniform(0, 10) == 0) d.box.x += 0.5f * d.box.w;  // Sideways jump.
        // Clip to the frame as a detector would.
        const float right = std::min(d.box.Right(), 1280.0f);
        d.box.x = std::max(d.box.x, 0.0f);
        d.box.w = right - d.box.x;
        if (d.box.w > 4) detections.push_back(d);
      }
      sim.Step(dt_ms, detections);
    }
    sim.Flush();
    EXPECT_GT(frames, 30);
    ASSERT_THAT(sim.started(), SizeIs(1));
    ASSERT_THAT(sim.ended(), SizeIs(1));
    EXPECT_EQ(sim.ended()[0].id, sim.started()[0].id);
  }
}

TEST(Tracker, KeepsIdentityThroughAShortGapOfMissedDetections) {
  Sim sim;
  float x = 100;
  for (int i = 0; i < 5; ++i, x += 20) sim.Step(200, {Person(x, 300)});
  const Track before = sim.Only();
  // One and a half seconds without detections while walking on at 100 px/s.
  for (int i = 0; i < 7; ++i, x += 20) {
    sim.Step(200, {});
    EXPECT_EQ(sim.Only().state, TrackState::kLost);
  }
  // The prediction walked on too.
  EXPECT_GT(sim.Only().box.x, x - 40);
  sim.Step(200, {Person(x, 300)});
  const Track after = sim.Only();
  EXPECT_EQ(after.id, before.id);
  EXPECT_EQ(after.state, TrackState::kConfirmed);
  EXPECT_THAT(sim.started(), SizeIs(1));
  EXPECT_THAT(sim.ended(), IsEmpty());
}

TEST(Tracker, LostTrackEndsAfterMaxLostMsOfSearchedTime) {
  Sim sim(With([](auto& o) { o.max_lost_ms = 2000; }));
  for (int i = 0; i < 4; ++i) sim.Step(200, {Person(600, 300)});
  // Frames at irregular times; the track ends on the first update more than 2 s after it
  // was last seen.
  EXPECT_THAT(sim.Step(700, {}).ended, IsEmpty());
  EXPECT_THAT(sim.Step(900, {}).ended, IsEmpty());
  EXPECT_THAT(sim.Step(400, {}).ended, IsEmpty());  // Exactly 2000 ms.
  const TrackerUpdate update = sim.Step(100, {});
  ASSERT_THAT(update.ended, SizeIs(1));
  EXPECT_EQ(update.ended[0].id, 1);
  EXPECT_EQ(update.ended[0].state, TrackState::kLost);
  EXPECT_THAT(sim.tracker().Tracks(), IsEmpty());
}

TEST(Tracker, TwoCrossingPeopleKeepTheirIds) {
  // Once with both always detected, once with the one behind hidden while they overlap.
  for (const float hidden_within_px : {0.0f, 90.0f}) {
    SCOPED_TRACE(::testing::Message() << "hidden within " << hidden_within_px << " px");
    Sim sim;
    // A walks right, B walks left, at the same height; they meet at x = 600 at t = 2 s.
    // While they are within hidden_within_px the detector sees only the one in front (A).
    int64_t a_id = 0;
    int64_t b_id = 0;
    for (int i = 1; i <= 25; ++i) {
      const float t = 0.2f * static_cast<float>(i);
      const float ax = 600 + 150 * (t - 2);
      const float bx = 600 - 150 * (t - 2);
      Detections detections = {Person(ax, 300, 0.9f)};
      if (std::abs(ax - bx) > hidden_within_px) detections.push_back(Person(bx, 305, 0.85f));
      sim.Step(200, detections);
      for (const Track& track : sim.tracker().Tracks()) {
        const bool is_a = std::abs(track.box.x - ax) < std::abs(track.box.x - bx);
        if (i == 5) (is_a ? a_id : b_id) = track.id;
        if (i > 5 && std::abs(ax - bx) > 100) {
          // Once apart, each id is on its own person.
          EXPECT_EQ(track.id, is_a ? a_id : b_id) << "t = " << t;
        }
      }
    }
    EXPECT_NE(a_id, 0);
    EXPECT_NE(b_id, 0);
    EXPECT_NE(a_id, b_id);
    EXPECT_THAT(sim.started(), SizeIs(2));
    EXPECT_THAT(sim.tracker().Tracks(), SizeIs(2));
    for (const Track& track : sim.tracker().Tracks()) {
      EXPECT_EQ(track.state, TrackState::kConfirmed);
      EXPECT_NEAR(std::abs(track.velocity.x), 150, 20);
    }
  }
}

TEST(Tracker, LowScoreDetectionsExtendTracksButNeverStartThem) {
  Sim sim;
  float x = 100;
  for (int i = 0; i < 4; ++i, x += 10) sim.Step(200, {Person(x, 300, 0.9f)});
  // Partly hidden for 5 s: only low scores, longer than max_lost_ms.
  for (int i = 0; i < 25; ++i, x += 10) {
    sim.Step(200, {Person(x, 300, 0.25f), Person(900, 100, 0.3f)});
    EXPECT_EQ(sim.Only().state, TrackState::kConfirmed);
  }
  const Track track = sim.Only();
  EXPECT_EQ(track.id, 1);
  EXPECT_EQ(track.hits, 29);
  EXPECT_FLOAT_EQ(track.score, 0.25f);
  EXPECT_FLOAT_EQ(track.best_score, 0.9f);
  EXPECT_THAT(sim.tracker().Tracks(/*include_tentative=*/true), SizeIs(1));
}

TEST(Tracker, DetectionsBelowLowThreshAreIgnored) {
  Sim sim;
  for (int i = 0; i < 4; ++i) sim.Step(200, {Person(100, 300, 0.9f)});
  sim.Step(200, {Person(100, 300, 0.05f)});
  EXPECT_EQ(sim.Only().state, TrackState::kLost);
}

TEST(Tracker, TentativeTracksThatNeverConfirmAreNotReported) {
  Sim sim;
  // Flickering false positives: two hits each, then gone.
  for (int k = 0; k < 5; ++k) {
    const float x = 100.0f + 200.0f * static_cast<float>(k);
    sim.Step(200, {Det("dog", 0.7f, BoxF{x, 500, 80, 60})});
    sim.Step(200, {Det("dog", 0.7f, BoxF{x, 500, 80, 60})});
    sim.Step(200, {});
    sim.Step(200, {});
  }
  sim.Flush();
  EXPECT_THAT(sim.started(), IsEmpty());
  EXPECT_THAT(sim.ended(), IsEmpty());
}

TEST(Tracker, TentativeTrackNotConfirmedWithinTheWindowIsDropped) {
  Sim sim(With([](auto& o) {
    o.confirm_hits = 5;
    o.confirm_window_ms = 1000;
  }));
  // Seen every 300 ms: the fifth hit would come at 1200 ms, past the window, so that
  // detection starts a new tentative track instead.
  for (int i = 0; i < 5; ++i) sim.Step(300, {Person(100, 300)});
  EXPECT_THAT(sim.started(), IsEmpty());
  EXPECT_THAT(sim.tracker().Tracks(/*include_tentative=*/true), SizeIs(1));  // A new one.
  EXPECT_EQ(sim.tracker().Tracks(true)[0].hits, 1);
}

TEST(Tracker, ConfirmHitsOfOneConfirmsAtOnce) {
  Sim sim(With([](auto& o) { o.confirm_hits = 1; }));
  EXPECT_THAT(sim.Step(200, {Person(100, 300)}).started, SizeIs(1));
}

TEST(Tracker, BecomesStationaryAfterStationaryAfterMsAndIsReleasedWhenItMoves) {
  Sim sim(With([](auto& o) { o.stationary_after_ms = 3000; }));
  const auto car = [](float x) { return Det("car", 0.8f, BoxF{x, 400, 200, 100}); };
  // Parks: jitter of a few pixels only.
  for (int i = 0; i < 14; ++i) {
    sim.Step(200, {car(500 + static_cast<float>(i % 3))});
    if (i >= 2) {  // Confirmed from the third frame.
      EXPECT_FALSE(sim.Only().stationary) << i;
    }
  }
  for (int i = 0; i < 5; ++i) sim.Step(200, {car(501)});
  const Track parked = sim.Only();
  EXPECT_TRUE(parked.stationary);
  EXPECT_EQ(parked.velocity.x, 0);
  // Stationary objects are re-checked only now and then: between checks their regions are
  // not searched, and the track neither moves nor ages.
  for (int i = 0; i < 50; ++i) sim.Step(200, {}, {cv::Rect(0, 0, 300, 300)});
  EXPECT_TRUE(sim.Only().stationary);
  EXPECT_EQ(sim.Only().state, TrackState::kConfirmed);
  EXPECT_NEAR(sim.Only().box.x, parked.box.x, 0.5);
  sim.Step(200, {car(501)});
  EXPECT_TRUE(sim.Only().stationary);
  // Drives off.
  float x = 501;
  for (int i = 0; i < 5; ++i) sim.Step(200, {car(x += 20)});
  EXPECT_FALSE(sim.Only().stationary);
  EXPECT_GT(sim.Only().velocity.x, 30);
  EXPECT_THAT(sim.started(), SizeIs(1));
}

TEST(Tracker, VelocityIsInPixelsPerSecondWhateverTheFrameTiming) {
  Sim sim;
  const std::vector<int> steps = {100, 400, 150, 250, 500, 120, 300, 200,
                                  350, 100, 450, 200, 150, 300, 250};
  double t_s = 0;
  for (int dt : steps) {
    t_s += dt / 1000.0;
    sim.Step(dt, {Person(static_cast<float>(100 + 80 * t_s), static_cast<float>(300 - 20 * t_s))});
  }
  const Track track = sim.Only();
  EXPECT_NEAR(track.velocity.x, 80, 6);
  EXPECT_NEAR(track.velocity.y, -20, 4);
  EXPECT_NEAR(track.box.x, 100 + 80 * t_s, 3);
}

TEST(Tracker, LabelIsTheScoreWeightedMajorityOfItsDetections) {
  Sim sim;
  const BoxF box{400, 300, 240, 120};
  // A car the detector sometimes calls a truck, with a higher score on the truck frames:
  // car 5 x 0.7 = 3.5 beats truck 4 x 0.8 = 3.2.
  const std::vector<std::pair<std::string, float>> seen = {
      {"truck", 0.8f}, {"car", 0.7f}, {"truck", 0.8f}, {"car", 0.7f}, {"car", 0.7f},
      {"truck", 0.8f}, {"car", 0.7f}, {"truck", 0.8f}, {"car", 0.7f}};
  for (const auto& [label, score] : seen) sim.Step(200, {Det(label, score, box)});
  ASSERT_THAT(sim.started(), SizeIs(1));
  EXPECT_EQ(sim.started()[0].label, "truck");  // Leading when confirmed.
  EXPECT_EQ(sim.Only().label, "car");
  EXPECT_EQ(sim.Only().class_id, 2);
}

TEST(Tracker, TracksMatchOnlyWithinTheirClassGroup) {
  Sim sim;
  const BoxF box{400, 300, 80, 160};
  for (int i = 0; i < 4; ++i) sim.Step(200, {Det("person", 0.9f, box)});
  // A bicycle (vehicle group) at the very same place does not continue the person's track.
  for (int i = 0; i < 4; ++i) sim.Step(200, {Det("bicycle", 0.9f, box)});
  ASSERT_THAT(sim.started(), SizeIs(2));
  EXPECT_EQ(sim.started()[0].label, "person");
  EXPECT_EQ(sim.started()[1].label, "bicycle");
  EXPECT_NE(sim.started()[0].id, sim.started()[1].id);
}

TEST(Tracker, OneVehicleDetectedAsCarAndTruckIsOneTrack) {
  Sim sim;
  // Per-class NMS lets both through: the same vehicle as "car" and, a little shifted, "truck".
  for (int i = 0; i < 8; ++i) {
    const float x = 100 + 20.0f * static_cast<float>(i);
    sim.Step(200, {Det("car", 0.8f, BoxF{x, 300, 240, 120}),
                   Det("truck", 0.7f, BoxF{x + 8, 304, 236, 118})});
  }
  ASSERT_THAT(sim.started(), SizeIs(1));
  EXPECT_EQ(sim.started()[0].label, "car");
  // Two vehicles side by side that overlap a little are still two; so are a person and the
  // bicycle it rides (different groups), however much they overlap.
  Sim two;
  for (int i = 0; i < 5; ++i) {
    two.Step(200, {Det("car", 0.8f, BoxF{100, 300, 240, 120}),
                   Det("truck", 0.8f, BoxF{280, 300, 240, 120}),
                   Det("person", 0.8f, BoxF{600, 200, 60, 160}),
                   Det("bicycle", 0.8f, BoxF{600, 240, 60, 130})});
  }
  EXPECT_THAT(two.started(), SizeIs(4));
}

// Paints each frame a different colour so the test can tell which frame a snapshot is from.
cv::Mat Painted(int colour) {
  return cv::Mat(kFrame, CV_8UC3, cv::Scalar(colour, 255 - colour, 100));
}

TEST(Tracker, BestSnapshotIsTheCropOfTheBestFrame) {
  Sim sim;
  struct Seen {
    float score;
    BoxF box;
  };
  const std::vector<Seen> seen = {
      {0.6f, {300, 200, 60, 150}},   // Small.
      {0.7f, {320, 200, 80, 200}},   // Bigger, better.
      {0.95f, {0, 200, 100, 250}},   // Best score and size, but cut by the frame edge.
      {0.9f, {360, 200, 100, 250}},  // The best.
      {0.5f, {380, 200, 100, 250}},  // Worse score.
  };
  int64_t best_time = 0;
  for (size_t i = 0; i < seen.size(); ++i) {
    const cv::Mat frame = Painted(static_cast<int>(40 * i));
    sim.Step(200, {Det("person", seen[i].score, seen[i].box)}, {cv::Rect(0, 0, 1280, 720)}, &frame);
    if (i == 3) best_time = sim.time_ms();
  }
  const Snapshot& best = sim.Only().best;
  EXPECT_EQ(best.time_ms, best_time);
  EXPECT_FLOAT_EQ(best.score, 0.9f);
  EXPECT_FLOAT_EQ(best.box.x, 360);
  // score x min(1, sqrt(area) / 160).
  EXPECT_FLOAT_EQ(best.quality, 0.9f * std::sqrt(100.0f * 250.0f) / 160.0f);
  // The crop has a 15% margin each side: 100 x 250 grows to 130 x 325 (rounded).
  EXPECT_EQ(best.crop, cv::Rect(345, 163, 130, 325));
  ASSERT_EQ(best.image.size(), best.crop.size());
  const cv::Vec3b pixel = best.image.at<cv::Vec3b>(10, 10);
  EXPECT_EQ(pixel, cv::Vec3b(120, 135, 100));  // Painted(40 * 3).
}

TEST(Tracker, SnapshotIsACopyDownscaledToMaxSide) {
  Sim sim(With([](auto& o) { o.snapshot_max_side_px = 200; }));
  cv::Mat frame = Painted(10);
  sim.Step(200, {Det("person", 0.9f, BoxF{300, 100, 200, 400})}, {cv::Rect(0, 0, 1280, 720)},
           &frame);
  for (int i = 0; i < 2; ++i) sim.Step(200, {Det("person", 0.5f, BoxF{300, 100, 200, 400})});
  frame.setTo(cv::Scalar(0, 0, 0));  // The caller reuses its buffer.
  const Snapshot& best = sim.Only().best;
  EXPECT_EQ(best.crop.size(), cv::Size(260, 520));
  EXPECT_EQ(best.image.size(), cv::Size(100, 200));
  EXPECT_EQ(best.image.at<cv::Vec3b>(50, 50), cv::Vec3b(10, 245, 100));
}

TEST(Tracker, TracksOutsideTheSearchedRegionsAreNeitherMissedNorAged) {
  Sim sim(With([](auto& o) { o.max_lost_ms = 2000; }));
  for (int i = 0; i < 4; ++i) sim.Step(200, {Person(1000, 300)});
  // Ten seconds in which the detector only looked at the left of the frame.
  for (int i = 0; i < 50; ++i) {
    sim.Step(200, {Person(100, 300)}, {cv::Rect(0, 0, 416, 416)});
    EXPECT_EQ(sim.tracker().Tracks()[0].state, TrackState::kConfirmed);
  }
  // A region covering only a sliver of the box does not count either.
  sim.Step(200, {}, {cv::Rect(0, 0, 1010, 720)});
  EXPECT_EQ(sim.tracker().Tracks()[0].state, TrackState::kConfirmed);
  // Nor does a frame in which the detector did not run at all.
  sim.Step(200, {}, {});
  EXPECT_EQ(sim.tracker().Tracks()[0].state, TrackState::kConfirmed);
  // Looked for and not found: lost, and ended 2 s of searching later.
  const std::vector<cv::Rect> right = {cv::Rect(864, 100, 416, 416)};
  sim.Step(200, {}, right);
  EXPECT_EQ(sim.tracker().Tracks()[0].state, TrackState::kLost);
  for (int i = 0; i < 9; ++i) EXPECT_THAT(sim.Step(200, {}, right).ended, IsEmpty());
  ASSERT_THAT(sim.Step(200, {}, right).ended, SizeIs(1));
  EXPECT_EQ(sim.ended()[0].id, 1);
}

TEST(Tracker, BoxJumpWithoutOverlapKeepsTheTrack) {
  Sim sim;
  for (int i = 0; i < 5; ++i) sim.Step(200, {Person(500, 300, 0.9f, 60, 160)});
  // The detector now boxes only the upper body, shifted sideways: IoU with the track is 0.
  const Detection jumped = Person(565, 300, 0.8f, 50, 90);
  ASSERT_EQ(IoU(sim.Only().box, jumped.box), 0.0f);
  sim.Step(200, {jumped});
  EXPECT_EQ(sim.Only().state, TrackState::kConfirmed);
  EXPECT_EQ(sim.Only().hits, 6);
  EXPECT_THAT(sim.tracker().Tracks(true), SizeIs(1));
}

TEST(Tracker, FarAwayDetectionStartsANewTrackInsteadOfJumping) {
  Sim sim;
  for (int i = 0; i < 5; ++i) sim.Step(200, {Person(200, 300)});
  for (int i = 0; i < 3; ++i) sim.Step(200, {Person(900, 300)});
  EXPECT_THAT(sim.started(), SizeIs(2));
}

TEST(Tracker, LostTrackLeavingTheFrameEndsAtOnce) {
  Sim sim;
  float x = 1000;
  for (int i = 0; i < 6; ++i, x += 40) sim.Step(200, {Person(x, 300)});  // 200 px/s.
  // Walks out at the right edge; no more detections. Its prediction leaves the frame
  // within a second, well before max_lost_ms.
  int64_t ended_after_ms = 0;
  for (int i = 1; i <= 10 && sim.ended().empty(); ++i) {
    sim.Step(200, {});
    ended_after_ms = 200 * i;
  }
  ASSERT_THAT(sim.ended(), SizeIs(1));
  EXPECT_LT(ended_after_ms, 1500);
}

TEST(Tracker, UpdateBeforeThePreviousTimeIsRejectedAndChangesNothing) {
  absl::StatusOr<std::unique_ptr<Tracker>> tracker = Tracker::Create({});
  ASSERT_TRUE(tracker.ok());
  const std::vector<cv::Rect> all = {cv::Rect(0, 0, 1280, 720)};
  ASSERT_TRUE((*tracker)->Update({Person(100, 100)}, 1000, cv::Mat(), all).ok());
  const absl::StatusOr<TrackerUpdate> back = (*tracker)->Update({}, 999, cv::Mat(), all);
  EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(back.status().message(), HasSubstr("time order"));
  EXPECT_THAT((*tracker)->Tracks(true), SizeIs(1));
  EXPECT_TRUE((*tracker)->Update({}, 1000, cv::Mat(), all).ok());  // Same time is fine.
}

TEST(Tracker, InvalidDetectionBoxesAreIgnored) {
  Sim sim;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int i = 0; i < 4; ++i) {
    sim.Step(200, {Det("person", 0.9f, BoxF{nan, 0, 10, 10}),
                   Det("person", 0.9f, BoxF{0, 0, 0, 10}), Det("person", nan, BoxF{0, 0, 10, 10})});
  }
  EXPECT_THAT(sim.tracker().Tracks(true), IsEmpty());
}

TEST(Tracker, WorksWithoutAFrameButTakesNoSnapshots) {
  absl::StatusOr<std::unique_ptr<Tracker>> tracker = Tracker::Create({});
  ASSERT_TRUE(tracker.ok());
  const std::vector<cv::Rect> all = {cv::Rect(0, 0, 1280, 720)};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*tracker)->Update({Person(100, 100)}, 200 * i, cv::Mat(), all).ok());
  }
  const std::vector<Track> tracks = (*tracker)->Tracks();
  ASSERT_THAT(tracks, SizeIs(1));
  EXPECT_TRUE(tracks[0].best.image.empty());
  EXPECT_FLOAT_EQ(tracks[0].best.score, 0.8f);
}

TEST(Tracker, FlushEndsEveryConfirmedTrackAndDropsTentativeOnes) {
  Sim sim;
  for (int i = 0; i < 4; ++i) sim.Step(200, {Person(100, 300), Person(700, 300)});
  sim.Step(200, {Person(100, 300), Person(700, 300), Det("car", 0.9f, BoxF{300, 500, 200, 100})});
  EXPECT_THAT(sim.tracker().Tracks(true), SizeIs(3));
  const TrackerUpdate update = sim.Flush();
  EXPECT_THAT(update.ended, SizeIs(2));
  EXPECT_THAT(sim.tracker().Tracks(true), IsEmpty());
  // Ids keep counting after a flush.
  for (int i = 0; i < 3; ++i) sim.Step(200, {Person(100, 300)});
  ASSERT_THAT(sim.started(), SizeIs(3));
  EXPECT_EQ(sim.started()[2].id, 3);
}

}  // namespace
}  // namespace custos::track
