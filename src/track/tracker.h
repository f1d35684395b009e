// Multi-object tracker in the manner of ByteTrack: a constant-velocity Kalman filter per
// object, detections associated by IoU in two stages (confident detections first, then
// low-score ones to extend existing tracks), plus what a motion-gated NVR pipeline needs:
// timestamps instead of frame counts, regions (only where the detector looked can an object
// be missed), stationary objects, class groups with a label vote, and the best snapshot of
// each object. See docs/tracking.md for the options and why the defaults are what they are.
#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/detection.h"
#include "custos/geometry.h"
#include "track/kalman_filter.h"

namespace custos::track {

enum class TrackState {
  kTentative,  // Seen fewer than confirm_hits times; never reported.
  kConfirmed,  // Matched on the latest frame that looked for it.
  kLost,       // Confirmed, but missed since; predicted until re-found or max_lost_ms passes.
};

const char* TrackStateName(TrackState state);  // "tentative", "confirmed", "lost"

// The best view of a tracked object so far.
struct Snapshot {
  cv::Mat image;  // BGR crop around the box (with margin); empty until the first match.
  cv::Rect crop;  // Where `image` was cut from, in frame pixels (before any downscale).
  BoxF box;       // The detection box in frame pixels.
  int64_t time_ms = 0;
  float score = 0;    // Detector score of that detection.
  float quality = 0;  // score x size factor x edge penalty; see TrackerOptions.
};

struct Track {
  int64_t id = 0;        // 1, 2, ... per tracker in order of confirmation; 0 while tentative.
  std::string label;     // Score-weighted majority of the matched detections' labels.
  int class_id = -1;     // class_id that goes with `label`.
  BoxF box;              // Kalman-filtered box (predicted while lost), frame pixels.
  float score = 0;       // Score of the last matched detection.
  float best_score = 0;  // Best score of any matched detection.
  TrackState state = TrackState::kTentative;
  bool stationary = false;   // Has not moved for stationary_after_ms.
  int64_t first_ms = 0;      // Time of the first detection.
  int64_t last_seen_ms = 0;  // Time of the last matched detection.
  int hits = 0;              // Number of matched detections.
  PointF velocity;           // Of the box centre, pixels per second.
  Snapshot best;
};

struct TrackerOptions {
  // Detections scoring at least this are "high": they are matched first, to every track,
  // and only they can start tracks. Range (0, 1].
  float high_thresh = 0.5f;
  // Detections scoring in [low_thresh, high_thresh) only extend existing confirmed tracks
  // (a partly hidden person scores low); lower scores are ignored. Range [0, high_thresh].
  float low_thresh = 0.1f;
  // An unmatched high detection must score at least this to start a (tentative) track.
  // Range [high_thresh, 1].
  float new_track_thresh = 0.6f;
  // Least IoU between a track's predicted box and a high detection to match them.
  // Range (0, 1].
  float match_iou = 0.2f;
  // Least IoU to match a low-score detection: stricter, as these are less certain.
  float low_match_iou = 0.5f;
  // Least IoU to match a tentative track (ByteTrack's "unconfirmed" stage).
  float tentative_match_iou = 0.3f;
  // Two detections of one class group with different labels (a detector's NMS is per class:
  // one vehicle often comes as "car" and "truck") that overlap at least this much are one
  // object: the lower-scoring one is dropped before association, so it neither starts a
  // second track nor is counted, read or alerted twice. Range (0, 1].
  float duplicate_iou = 0.7f;
  // Last-chance match for confirmed and lost tracks left over after the IoU stages: a high
  // detection whose centre is within max_jump_heights track heights of the predicted centre
  // and whose height is within a factor max_jump_size_ratio of the track's. Recovers a track
  // whose box jumped (a partly hidden person, a detector switching between whole body and
  // torso) or that drifted while lost, where IoU is zero. 0 disables this stage.
  float max_jump_heights = 1.0f;
  float max_jump_size_ratio = 2.0f;

  // A matched box whose height differs from the predicted height by more than this fraction
  // (either way) updates the Kalman filter with its noise scaled by the square of how far
  // beyond it is: partial views (a torso box, a half-hidden car) then keep the track without
  // corrupting its size and velocity. Range (0, 10].
  float size_change_tolerance = 0.25f;

  // Matches needed to confirm a track. Range [1, 100].
  int confirm_hits = 3;
  // A tentative track is dropped, unreported, if not confirmed within this many ms of its
  // first detection, or after tentative_max_misses searched frames without a match.
  int64_t confirm_window_ms = 2000;
  int tentative_max_misses = 2;
  // A confirmed track missed for this long, counting only frames whose searched regions
  // covered it, ends. Range [0, 600000].
  int64_t max_lost_ms = 3000;
  // A track counts as searched on a frame when at least this fraction of its predicted box
  // (the part inside the frame) lies inside one searched region. Range (0, 1].
  float searched_coverage = 0.6f;
  // A lost track whose predicted box is less than this fraction inside the frame has left
  // the scene and ends at once. Range [0, 1].
  float min_in_frame_fraction = 0.25f;

  // A confirmed track whose filtered box centre stays within stationary_move_fraction of its
  // size (the larger of width and height) of where it was, and whose height changes by less
  // than that fraction, for stationary_after_ms, becomes stationary; moving beyond that
  // ends it. Range (0, 1] and [0, 86400000].
  float stationary_move_fraction = 0.1f;
  int64_t stationary_after_ms = 5000;

  // Snapshots. quality = score x min(1, sqrt(box area) / snapshot_full_size_px) x
  // (snapshot_edge_penalty if the box touches the frame edge); the crop of the best quality
  // is kept, with snapshot_margin of the box size added on each side and downscaled so its
  // longer side is at most snapshot_max_side_px.
  float snapshot_full_size_px = 160.0f;
  float snapshot_edge_penalty = 0.5f;
  float snapshot_margin = 0.15f;
  int snapshot_max_side_px = 400;

  KalmanOptions kalman;
};

// What changed in one update.
struct TrackerUpdate {
  std::vector<Track> started;  // Confirmed on this update.
  std::vector<Track> ended;    // Confirmed tracks removed on this update (lost too long).
};

// Tracks the objects of one camera through its detection results, frames in time order.
// Thread-compatible: one thread (the camera's pipeline) calls Update.
class Tracker {
 public:
  // Returns kInvalidArgument naming the offending option when `options` is out of range.
  static absl::StatusOr<std::unique_ptr<Tracker>> Create(const TrackerOptions& options);
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  // Advances every track to `time_ms`, matches `detections` (frame pixels, as merged from
  // all regions) and reports tracks confirmed and ended. `frame` is the BGR image the
  // detections came from, for snapshots and the frame bounds; it may be empty (no snapshots).
  // `searched_regions` are where the detector looked: a track outside all of them is neither
  // missed nor aged. Pass the whole frame for a full-frame detector; pass nothing when the
  // detector did not run. Detections with a non-finite or empty box are ignored.
  // Returns kInvalidArgument, changing nothing, when time_ms is before the previous update.
  absl::StatusOr<TrackerUpdate> Update(const Detections& detections, int64_t time_ms,
                                       const cv::Mat& frame,
                                       std::span<const cv::Rect> searched_regions);

  // Ends every confirmed and lost track (end of stream) and drops tentative ones.
  TrackerUpdate Flush();

  // Confirmed and lost tracks (and tentative ones if asked), oldest first.
  std::vector<Track> Tracks(bool include_tentative = false) const;

  const TrackerOptions& Options() const { return options_; }

 private:
  struct Entry;

  explicit Tracker(const TrackerOptions& options);
  void Match(Entry& entry, const Detection& detection, int64_t time_ms, const cv::Mat& frame,
             TrackerUpdate& update);
  void UpdateSnapshot(Entry& entry, const Detection& detection, int64_t time_ms,
                      const cv::Mat& frame) const;
  void UpdateStationary(Entry& entry, int64_t time_ms);

  TrackerOptions options_;
  std::vector<std::unique_ptr<Entry>> entries_;
  int64_t next_id_ = 1;
  int64_t last_time_ms_ = 0;
  bool started_ = false;
};

}  // namespace custos::track
