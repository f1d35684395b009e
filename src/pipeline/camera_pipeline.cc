#include "pipeline/camera_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/ulid.h"
#include "custos/status.h"

namespace custos::pipeline {
namespace {

namespace fs = std::filesystem;

// Applies `extra` config keys to option fields by name; unknown keys are errors.
absl::Status ApplyExtra(const char* section, const std::map<std::string, double>& extra,
                        const std::map<std::string, std::function<void(double)>>& setters) {
  for (const auto& [key, value] : extra) {
    auto it = setters.find(key);
    if (it == setters.end()) {
      std::vector<std::string> known;
      for (const auto& [k, unused] : setters) known.push_back(k);
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown ", section, " option '", key, "' (known: ", absl::StrJoin(known, ", "), ")"));
    }
    it->second(value);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<motion::MotionOptions> MotionOptionsFrom(const config::CameraConfig& camera,
                                                        const config::MotionConfig& motion) {
  motion::MotionOptions o;
  o.diff_threshold = static_cast<int>(motion.threshold);
  o.masks = camera.motion_masks;
  // min_area is a fraction of the frame; the motion stage counts pixels of its small image.
  const double small_h = o.frame_height_px;
  const double small_w = small_h * 16.0 / 9.0;
  o.min_contour_area_px = std::max(1.0, motion.min_area * small_w * small_h);
  CUSTOS_RETURN_IF_ERROR(ApplyExtra(
      "motion", motion.extra,
      {{"frame_height_px", [&](double v) { o.frame_height_px = static_cast<int>(v); }},
       {"blur_kernel_px", [&](double v) { o.blur_kernel_px = static_cast<int>(v); }},
       {"learning_rate", [&](double v) { o.learning_rate = v; }},
       {"dilate_iterations", [&](double v) { o.dilate_iterations = static_cast<int>(v); }},
       {"light_change_fraction", [&](double v) { o.light_change_fraction = v; }},
       {"settled_fraction", [&](double v) { o.settled_fraction = v; }}}));
  return o;
}

absl::StatusOr<track::TrackerOptions> TrackerOptionsFrom(const config::DetectorConfig& detector,
                                                         const config::TrackerConfig& tracker) {
  track::TrackerOptions o;
  // ByteTrack's stages keyed to the configured threshold: boxes at or above it associate first
  // and may start tracks; weaker boxes down to low_thresh only extend existing tracks.
  o.high_thresh = static_cast<float>(detector.score_threshold);
  o.new_track_thresh = static_cast<float>(detector.score_threshold) + 0.05f;
  o.low_thresh = std::min(0.15f, o.high_thresh);
  o.max_lost_ms = tracker.max_lost_ms;
  o.confirm_hits = tracker.confirm_hits;
  CUSTOS_RETURN_IF_ERROR(ApplyExtra(
      "tracker", tracker.extra,
      {{"high_thresh", [&](double v) { o.high_thresh = static_cast<float>(v); }},
       {"low_thresh", [&](double v) { o.low_thresh = static_cast<float>(v); }},
       {"new_track_thresh", [&](double v) { o.new_track_thresh = static_cast<float>(v); }},
       {"match_iou", [&](double v) { o.match_iou = static_cast<float>(v); }},
       {"low_match_iou", [&](double v) { o.low_match_iou = static_cast<float>(v); }},
       {"duplicate_iou", [&](double v) { o.duplicate_iou = static_cast<float>(v); }},
       {"confirm_window_ms", [&](double v) { o.confirm_window_ms = static_cast<int64_t>(v); }},
       {"stationary_after_ms", [&](double v) { o.stationary_after_ms = static_cast<int64_t>(v); }},
       {"stationary_move_fraction",
        [&](double v) { o.stationary_move_fraction = static_cast<float>(v); }}}));
  return o;
}

absl::StatusOr<std::unique_ptr<CameraPipeline>> CameraPipeline::Create(
    const PipelineOptions& options, Detector* detector) {
  if (detector == nullptr) return absl::InvalidArgumentError("pipeline needs a detector");
  CUSTOS_ASSIGN_OR_RETURN(const motion::MotionOptions motion_options,
                          MotionOptionsFrom(options.camera, options.motion));
  CUSTOS_ASSIGN_OR_RETURN(auto motion, motion::MotionDetector::Create(motion_options));
  detect::RegionPlannerOptions planner_options;
  planner_options.model_size_px = detector->input_size().width;
  CUSTOS_ASSIGN_OR_RETURN(auto planner, detect::RegionPlanner::Create(planner_options));
  CUSTOS_ASSIGN_OR_RETURN(const track::TrackerOptions tracker_options,
                          TrackerOptionsFrom(options.detector, options.tracker));
  CUSTOS_ASSIGN_OR_RETURN(auto tracker, track::Tracker::Create(tracker_options));

  zones::ZoneEngineOptions zone_options;
  zone_options.camera = options.camera.id;
  for (const config::ZoneConfig& z : options.camera.zones) {
    zone_options.zones.push_back(
        {z.name, z.polygon, z.labels, static_cast<int64_t>(z.loiter_s * 1000), z.min_frames});
  }
  for (const config::LineConfig& l : options.camera.lines) {
    zone_options.lines.push_back(
        {l.name, l.from, l.to, l.labels, l.left_to_right, l.right_to_left});
  }
  CUSTOS_ASSIGN_OR_RETURN(auto zones, zones::ZoneEngine::Create(std::move(zone_options)));
  std::unique_ptr<traffic::TrafficEngine> traffic;
  if (options.camera.traffic) {
    CUSTOS_ASSIGN_OR_RETURN(traffic::TrafficEngineOptions traffic_options,
                            TrafficOptionsFrom(options.camera.id, *options.camera.traffic));
    CUSTOS_ASSIGN_OR_RETURN(traffic, traffic::TrafficEngine::Create(std::move(traffic_options)));
  }
  if (options.stationary_recheck_frames < 1) {
    return absl::InvalidArgumentError("stationary_recheck_frames must be at least 1");
  }
  return std::unique_ptr<CameraPipeline>(new CameraPipeline(options, detector, std::move(motion),
                                                            std::move(planner), std::move(tracker),
                                                            std::move(zones), std::move(traffic)));
}

absl::StatusOr<traffic::TrafficEngineOptions> TrafficOptionsFrom(
    const std::string& camera, const config::TrafficConfig& traffic) {
  traffic::TrafficEngineOptions o;
  o.camera = camera;
  if (traffic.calibration) {
    CUSTOS_ASSIGN_OR_RETURN(o.calibration,
                            traffic::GroundCalibration::Create(traffic.calibration->image,
                                                               traffic.calibration->ground));
  }
  for (const config::LaneConfig& l : traffic.lanes) {
    o.lanes.push_back({l.name, l.polygon, l.from, l.to, l.labels});
  }
  for (const config::StoppedZoneConfig& z : traffic.stopped) {
    o.stopped.push_back({z.name, z.polygon, std::llround(z.after_s * 1000), z.labels});
  }
  o.vehicle_labels = traffic.vehicle_labels;
  o.wrong_way_min_m = traffic.wrong_way_min_m;
  o.wrong_way_min_frame = traffic.wrong_way_min_frame;
  o.stop_radius_m = traffic.stop_radius_m;
  o.stop_radius_frame = traffic.stop_radius_frame;
  return o;
}

CameraPipeline::CameraPipeline(PipelineOptions options, Detector* detector,
                               std::unique_ptr<motion::MotionDetector> motion,
                               std::unique_ptr<detect::RegionPlanner> planner,
                               std::unique_ptr<track::Tracker> tracker,
                               std::unique_ptr<zones::ZoneEngine> zones,
                               std::unique_ptr<traffic::TrafficEngine> traffic)
    : options_(std::move(options)),
      detector_(detector),
      motion_(std::move(motion)),
      planner_(std::move(planner)),
      tracker_(std::move(tracker)),
      zones_(std::move(zones)),
      traffic_(std::move(traffic)) {}

Detections CameraPipeline::Filter(Detections detections) const {
  const auto& labels = options_.detector.labels;
  const float high = static_cast<float>(options_.detector.score_threshold);
  Detections kept;
  for (Detection& d : detections) {
    if (!labels.empty() && std::find(labels.begin(), labels.end(), d.label) == labels.end()) {
      continue;
    }
    auto it = options_.detector.min_score.find(d.label);
    if (it != options_.detector.min_score.end() && d.score < static_cast<float>(it->second)) {
      // Under its label's own threshold: only good enough to extend a track.
      d.score = std::min(d.score, high * 0.99f);
    }
    kept.push_back(std::move(d));
  }
  return kept;
}

absl::StatusOr<FrameResult> CameraPipeline::Process(const Frame& frame) {
  FrameResult result;
  ++stats_.frames;

  const motion::MotionResult motion = motion_->Process(frame.bgr);
  result.motion = motion.boxes;
  result.light_change = motion.light_change;
  if (!motion.boxes.empty()) ++stats_.frames_with_motion;

  // Tracked objects are searched every frame; stationary ones every Nth frame only.
  std::vector<detect::TrackedBox> tracked;
  for (const track::Track& t : tracker_->Tracks()) {
    const bool due =
        !t.stationary || (t.id + stats_.frames) % options_.stationary_recheck_frames == 0;
    tracked.push_back({t.box, due});
  }
  if (options_.full_frame) {
    result.regions = {cv::Rect(0, 0, frame.bgr.cols, frame.bgr.rows)};
  } else if (CanSkipDetection(motion.boxes)) {
    ++stats_.skipped_by_interval;
  } else {
    result.regions = planner_->Plan(frame.bgr.size(), motion.boxes, tracked);
  }

  Detections detections;
  if (!result.regions.empty()) {
    std::vector<cv::Mat> crops;
    for (const cv::Rect& r : result.regions) crops.push_back(frame.bgr(r));
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<Detections>> per_region = detector_->DetectBatch(crops);
    stats_.detect_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (per_region.status().code() == absl::StatusCode::kResourceExhausted) {
      // The shared detector is overloaded: skip this frame's detection, keep the tracks as
      // they are (nothing was searched, so nothing ages), and count the drop.
      ++stats_.dropped_frames;
      result.regions.clear();
    } else if (!per_region.ok()) {
      return per_region.status();
    } else {
      ++stats_.detector_calls;
      frames_since_detection_ = 0;
      stats_.regions += static_cast<int64_t>(crops.size());
      std::vector<detect::RegionDetections> parts;
      for (size_t i = 0; i < crops.size(); ++i) {
        parts.push_back({result.regions[i], std::move((*per_region)[i])});
      }
      detections = Filter(planner_->MergeRegionDetections(frame.bgr.size(), parts));
      stats_.detections += static_cast<int64_t>(detections.size());
    }
  }

  if (result.regions.empty()) ++frames_since_detection_;
  CUSTOS_ASSIGN_OR_RETURN(track::TrackerUpdate update,
                          tracker_->Update(detections, frame.wall_ms, frame.bgr, result.regions));
  for (const track::Track& t : update.started) {
    ++stats_.tracks_started;
    result.events.push_back(TrackEvent(EventType::kTrackStart, t, frame.wall_ms));
  }

  zones::FrameTracks frame_tracks;
  frame_tracks.time_ms = frame.wall_ms;
  frame_tracks.width = frame.bgr.cols;
  frame_tracks.height = frame.bgr.rows;
  for (const track::Track& t : tracker_->Tracks()) {
    result.tracks.push_back(
        {t.id, t.label, t.box, t.score, t.stationary, t.state == track::TrackState::kLost});
    if (t.state == track::TrackState::kConfirmed && t.last_seen_ms == frame.wall_ms) {
      frame_tracks.tracks.push_back({t.id, t.label, t.score, t.box});
    }
  }
  for (const track::Track& t : update.ended) frame_tracks.ended.push_back(t.id);
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Event> zone_events, zones_->Process(frame_tracks));
  for (const track::Track& t : update.ended) {
    zone_events.push_back(TrackEvent(EventType::kTrackEnd, t, frame.wall_ms));
  }
  // Speeds onto the crossings and ends of vehicles; wrong-way and stopped-vehicle events after.
  if (traffic_) CUSTOS_RETURN_IF_ERROR(traffic_->Process(frame_tracks, zone_events));
  for (Event& e : zone_events) result.events.push_back(std::move(e));
  Stamp(result.events);
  return result;
}

std::vector<Event> CameraPipeline::Finish(int64_t time_ms) {
  const track::TrackerUpdate update = tracker_->Flush();
  std::vector<Event> events = zones_->EndAll(time_ms);
  for (const track::Track& t : update.ended) {
    events.push_back(TrackEvent(EventType::kTrackEnd, t, time_ms));
  }
  if (traffic_) traffic_->EndAll(events);
  Stamp(events);
  return events;
}

bool CameraPipeline::CanSkipDetection(const std::vector<BoxF>& motion) const {
  if (options_.detect_interval <= 0 || frames_since_detection_ >= options_.detect_interval) {
    return false;
  }
  const std::vector<track::Track> tracks = tracker_->Tracks(/*include_tentative=*/true);
  if (tracks.empty()) return false;
  for (const track::Track& t : tracks) {
    if (t.state != track::TrackState::kConfirmed) return false;  // Confirm or re-find it now.
  }
  // Every motion box must lie mostly inside a track's (slightly grown) box.
  for (const BoxF& m : motion) {
    const bool explained = std::any_of(tracks.begin(), tracks.end(), [&](const track::Track& t) {
      const BoxF grown{t.box.x - t.box.w * 0.2f, t.box.y - t.box.h * 0.2f, t.box.w * 1.4f,
                       t.box.h * 1.4f};
      return Intersection(m, grown) >= 0.5f * m.Area();
    });
    if (!explained) return false;
  }
  return true;
}

Event CameraPipeline::TrackEvent(EventType type, const track::Track& track, int64_t time_ms) {
  Event e;
  e.type = type;
  e.time_ms = time_ms;
  e.label = track.label;
  e.track_id = track.id;
  e.score = track.best_score;
  e.box = track.box;
  if (type == EventType::kTrackEnd) {
    // The track's span: first detection to last sighting (not the time it was given up).
    e.dwell_ms = track.last_seen_ms - track.first_ms;
    e.box = track.best.box;
    e.snapshot = SaveSnapshot(track);
  }
  return e;
}

std::string CameraPipeline::SaveSnapshot(const track::Track& track) {
  if (options_.snapshot_dir.empty() || track.best.image.empty()) return "";
  const std::string relative = absl::StrCat(
      options_.camera.id, "/",
      absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(track.best.time_ms), absl::UTCTimeZone()),
      "/", track.id, "-", track.label, "-", track.best.time_ms, ".jpg");
  const fs::path path = fs::path(options_.snapshot_dir) / relative;
  cv::Mat image = track.best.image;
  if (options_.redact_snapshot) {
    image = image.clone();  // The track keeps its crop as cut.
    if (!options_.redact_snapshot(track, image).ok()) return "";
  }
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  // A failed snapshot write (disk full, permissions) loses the picture, not the event.
  if (ec || !cv::imwrite(path.string(), image, {cv::IMWRITE_JPEG_QUALITY, 85})) {
    return "";
  }
  return relative;
}

void CameraPipeline::Stamp(std::vector<Event>& events) const {
  for (Event& e : events) {
    if (e.id.empty()) e.id = NewUlid(e.time_ms);
    e.camera = options_.camera.id;
  }
}

}  // namespace custos::pipeline
