// One camera's analytics, wired explicitly: motion -> region planner -> shared detector ->
// tracker -> zones/lines -> traffic (speed, wrong way, stopped vehicles) -> events. Frames come in
// from the caller (the CLI's analyze loop or, later, the server's camera supervisor); events go
// back out. See docs/architecture.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "custos/clock.h"
#include "custos/detector.h"
#include "custos/event.h"
#include "custos/frame.h"
#include "detect/region_planner.h"
#include "motion/motion_detector.h"
#include "track/tracker.h"
#include "traffic/traffic_engine.h"
#include "zones/zone_engine.h"

namespace custos::pipeline {

struct PipelineOptions {
  config::CameraConfig camera;
  config::DetectorConfig detector;
  config::MotionConfig motion;
  config::TrackerConfig tracker;
  // Run the detector on the whole frame every frame, not only where motion or tracks are.
  bool full_frame = false;
  // Stationary objects are re-detected every this many frames (instead of every frame), so a
  // parked car costs little but its track is kept alive and ends when it leaves.
  int stationary_recheck_frames = 10;
  // Frames skipped between detections while every motion is explained by a confirmed track
  // (DeepStream's `interval`): the tracker predicts those frames. Motion outside the tracks,
  // or a tentative track waiting for confirmation, makes the next frame detect at once.
  // 0 detects on every frame.
  int detect_interval = 1;
  // Folder for each track's best snapshot (JPEG); empty: none written.
  std::string snapshot_dir;
  // Obscures in `image`, a copy of `track`'s best crop, what a stored snapshot must not show
  // (faces, plates: docs/privacy.md "Event snapshots") before it is written. An error
  // withholds the snapshot: the event is stored without one. Unset: written as cut.
  std::function<absl::Status(const track::Track& track, cv::Mat& image)> redact_snapshot;
};

// A tracked object as drawn on the annotated video.
struct TrackView {
  int64_t id = 0;
  std::string label;
  BoxF box;
  float score = 0;
  bool stationary = false;
  bool lost = false;
};

struct FrameResult {
  std::vector<Event> events;
  std::vector<TrackView> tracks;  // Confirmed tracks after this frame.
  std::vector<cv::Rect> regions;  // Where the detector ran.
  std::vector<BoxF> motion;       // Motion boxes.
  bool light_change = false;
};

struct PipelineStats {
  int64_t frames = 0;
  int64_t frames_with_motion = 0;
  int64_t detector_calls = 0;       // Frames on which the detector ran.
  int64_t skipped_by_interval = 0;  // Frames with motion left to the tracker (detect_interval).
  int64_t regions = 0;              // Images sent to the detector.
  int64_t detections = 0;
  int64_t dropped_frames = 0;  // Detector refused (queue full): frame skipped and counted.
  int64_t tracks_started = 0;
  double detect_ms = 0;  // Wall time waiting for the detector.
};

// Not thread-safe: one thread per camera calls Process in increasing time order. The detector
// is shared and thread-safe.
class CameraPipeline {
 public:
  // kInvalidArgument for options the stages refuse (bad motion masks, zones...).
  static absl::StatusOr<std::unique_ptr<CameraPipeline>> Create(const PipelineOptions& options,
                                                                Detector* detector);

  // Analyses one decoded frame. Returns kInternal if the detector fails (the caller decides
  // whether to stop this camera); a full detector queue drops the frame's detection instead.
  absl::StatusOr<FrameResult> Process(const Frame& frame);

  // Ends every open track (end of a file or shutdown): track_end and zone_leave events.
  std::vector<Event> Finish(int64_t time_ms);

  const PipelineStats& stats() const { return stats_; }
  zones::ZoneCounts counts() const { return zones_->Counts(); }
  const PipelineOptions& options() const { return options_; }

 private:
  CameraPipeline(PipelineOptions options, Detector* detector,
                 std::unique_ptr<motion::MotionDetector> motion,
                 std::unique_ptr<detect::RegionPlanner> planner,
                 std::unique_ptr<track::Tracker> tracker, std::unique_ptr<zones::ZoneEngine> zones,
                 std::unique_ptr<traffic::TrafficEngine> traffic);

  // Keeps the labels the config asks for and applies per-label thresholds: a detection under
  // its label's threshold stays in as a low-score box for the tracker's second stage.
  Detections Filter(Detections detections) const;
  Event TrackEvent(EventType type, const track::Track& track, int64_t time_ms);
  std::string SaveSnapshot(const track::Track& track);
  void Stamp(std::vector<Event>& events) const;
  // True when this frame may skip detection under detect_interval.
  bool CanSkipDetection(const std::vector<BoxF>& motion) const;

  const PipelineOptions options_;
  Detector* const detector_;
  std::unique_ptr<motion::MotionDetector> motion_;
  std::unique_ptr<detect::RegionPlanner> planner_;
  std::unique_ptr<track::Tracker> tracker_;
  std::unique_ptr<zones::ZoneEngine> zones_;
  std::unique_ptr<traffic::TrafficEngine> traffic_;  // Null without a `traffic` section.
  PipelineStats stats_;
  int frames_since_detection_ = 0;
};

// Stage options derived from the config. kInvalidArgument names an unknown `extra` key.
absl::StatusOr<motion::MotionOptions> MotionOptionsFrom(const config::CameraConfig& camera,
                                                        const config::MotionConfig& motion);
absl::StatusOr<track::TrackerOptions> TrackerOptionsFrom(const config::DetectorConfig& detector,
                                                         const config::TrackerConfig& tracker);
// The traffic engine's options from a camera's `traffic` section. kInvalidArgument for a
// calibration that does not give a mapping (ParseConfig has checked it already).
absl::StatusOr<traffic::TrafficEngineOptions> TrafficOptionsFrom(
    const std::string& camera, const config::TrafficConfig& traffic);

}  // namespace custos::pipeline
