// The live plate reader of a node (docs/plates.md "Live reading"):
//
//   camera analytics threads ──(vehicle crops from the full-resolution frame, sampled per
//   track)──▶ bounded queue ──▶ reader thread: PP-OCR read ─▶ vote per track ─▶ at track end:
//   PlateStore (short retention) ─▶ hotlist match ─▶ hit stored (audited) ─▶ HitSink (alert)
//
// Reading costs ~100–200 ms per crop, far more than a detect frame, so it never runs on a
// camera's analytics thread: Offer() copies the crop and returns; when the reader falls behind,
// new crops are dropped and counted, and a track keeps the reads it already has. Each track is
// sampled at most every sample_interval_ms and max_reads_per_track times.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/clock.h"
#include "custos/geometry.h"
#include "plate/hotlist.h"
#include "plate/plate_reader.h"
#include "plate/plate_store.h"
#include "plate/plate_voter.h"

namespace custos::plate {

struct PlateServiceOptions {
  // Track labels that carry plates.
  std::vector<std::string> vehicle_labels = {"car", "truck", "bus", "motorcycle"};
  int64_t sample_interval_ms = 400;  // Per track: at most one crop this often.
  int max_reads_per_track = 8;
  // Vehicles smaller than this (box height in full-frame pixels) are not read: their plate
  // would be a few pixels high.
  int min_vehicle_height_px = 60;
  // Vehicle boxes are widened by this fraction on each side (a plate at the box's edge).
  float box_margin = 0.08f;
  // A vehicle's plate is not on its roof: text whose centre lies above this fraction of the
  // vehicle crop's height (a camera's timestamp overlay, a windscreen sticker, a bus's
  // destination sign) is not taken for its plate. 0 takes any text.
  float min_plate_center_y = 0.3f;
  size_t queue_capacity = 32;  // Crops waiting for the reader; beyond: dropped, counted.
  // A track with no crop for this long is voted and stored even without its end event.
  int64_t idle_finish_ms = 10'000;
  PlateVoterOptions voter;
  // A voted read below this confidence is not stored (mostly text that is not a plate).
  float min_read_confidence = 0.4f;
  int crop_jpeg_quality = 85;
};

// The best of `reads` (the reader's, best first) of a vehicle crop `crop_height` pixels high
// that can be the vehicle's plate (its centre at or below min_plate_center_y of the height);
// null when none can.
const PlateRead* PlateOfVehicle(const std::vector<PlateRead>& reads, int crop_height,
                                float min_plate_center_y);

struct PlateServiceStats {
  int64_t crops_offered = 0;
  int64_t crops_dropped = 0;  // Queue full.
  int64_t crops_read = 0;
  int64_t reads_stored = 0;
  int64_t hits = 0;
  int64_t errors = 0;  // Reader or store failures (logged; the last in last_error).
  std::string last_error;
};

// One tracked object of a frame, in detect-frame pixels.
struct VehicleTrack {
  int64_t id = 0;
  std::string label;
  BoxF box;
};

using HitSink = std::function<void(const StoredHit& hit)>;

class PlateService {
 public:
  // `reader` and `store` required; `hotlist` may be null (no hits); `sink` receives each hit
  // after it is stored (on the reader thread). All must outlive the service.
  static absl::StatusOr<std::unique_ptr<PlateService>> Create(const PlateServiceOptions& options,
                                                              PlateReader* reader,
                                                              PlateStore* store,
                                                              const HotlistStore* hotlist,
                                                              HitSink sink, const Clock* clock);
  ~PlateService();  // Stop()s.

  // From a camera's analytics thread after each frame: samples the vehicle tracks of `frame`
  // (boxes in the detect frame `detect_size`, crops cut from `full`, the full-resolution
  // picture) and finishes the tracks in `ended`. Never blocks on reading.
  void OnFrame(const std::string& camera, int64_t time_ms, cv::Size detect_size,
               const cv::Mat& full, const std::vector<VehicleTrack>& tracks,
               const std::vector<int64_t>& ended);

  // Finishes every open track and ends the reader thread after the queue is read. Idempotent.
  void Stop();
  // Waits until everything offered so far was read and finished tracks stored (tests).
  void Drain();

  PlateServiceStats stats() const;

 private:
  struct Item {
    std::string camera;
    int64_t track_id = 0;
    std::string label;
    int64_t time_ms = 0;
    cv::Mat crop;     // Empty: the track ended.
    cv::Rect region;  // Of the crop in the full frame.
  };
  struct TrackKey {
    std::string camera;
    int64_t track_id = 0;
    auto operator<=>(const TrackKey&) const = default;
  };
  struct Sampling {  // Analytics side, per track.
    int64_t last_ms = 0;
    int reads = 0;
  };
  struct Voting {  // Reader side, per track.
    PlateVoter voter;
    std::string label;
    int64_t last_ms = 0;
    PlateRead best;  // The most confident read of any text, with its crop.
    std::map<std::string, std::pair<PlateRead, std::string>> best_by_text;  // read, JPEG
  };

  PlateService(const PlateServiceOptions& options, PlateReader* reader, PlateStore* store,
               const HotlistStore* hotlist, HitSink sink, const Clock* clock);
  void Run();
  void ReadCrop(const Item& item);
  void Finish(const TrackKey& key);
  void FinishIdle(int64_t now_ms);
  void Error(const std::string& what, const absl::Status& status);

  const PlateServiceOptions options_;
  PlateReader* const reader_;
  PlateStore* const store_;
  const HotlistStore* const hotlist_;
  const HitSink sink_;
  const Clock* const clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<Item> queue_;                 // Guarded by mu_.
  std::map<TrackKey, Sampling> sampling_;  // Guarded by mu_.
  bool busy_ = false;                      // Guarded by mu_: the reader is on an item.
  bool stop_ = false;                      // Guarded by mu_.
  PlateServiceStats stats_;                // Guarded by mu_.
  std::map<TrackKey, Voting> voting_;      // Reader thread only.
  std::thread thread_;
};

}  // namespace custos::plate
