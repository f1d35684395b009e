// One live camera of the server: its stream read once, recorded by remux and analysed, each on
// its own thread, so that recording never waits on analytics (docs/server.md):
//
//   VideoSource (reader thread) ──packets──▶ PacketQueue ──▶ Recorder thread ──▶ segments
//               └──decoded detect frames (read-ahead, oldest dropped when behind)
//                     ──▶ analytics thread: CameraPipeline ──▶ events ──▶ EventSink
//                                           ├▶ face recognition on person tracks, only where
//                                           │  an authorisation is in force ──▶ FaceMatchSink
//                                           ├▶ vehicle crops of the full-resolution frame
//                                           │  ──▶ PlateService (plate reads, hotlist hits)
//                                           └▶ latest frame, faces and plates obscured, as
//                                              JPEG (live view; only while someone watches)
//
// The camera is supervised: an unreachable or lost stream is retried with backoff for as long
// as the server runs, a failing disk pauses recording (and is retried) without stopping
// analytics, and every problem is visible in Health().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "api/api_server.h"
#include "config/config.h"
#include "custos/clock.h"
#include "custos/detector.h"
#include "custos/event.h"
#include "custos/frame.h"
#include "face/face_detector.h"
#include "ingest/packet_queue.h"
#include "plate/plate_service.h"
#include "privacy/face_masker.h"
#include "privacy/plate_masker.h"
#include "record/segment_index.h"
#include "watchlist/track_face_recognizer.h"

namespace custos::ingest {
class VideoSource;
}
namespace custos::record {
class Recorder;
}
namespace custos::pipeline {
struct TrackView;
struct FrameResult;
}  // namespace custos::pipeline

namespace custos::server {

struct CameraRunnerOptions {
  // The camera, its url already resolved (absolute file path or URL) and validated.
  config::CameraConfig camera;
  config::DetectorConfig detector;
  config::MotionConfig motion;
  config::TrackerConfig tracker;
  std::string data_dir;      // Recordings go to DATA_DIR/recordings (record::SegmentWriter).
  std::string snapshot_dir;  // Best snapshots of tracks; "" = none.
  // File cameras play at their native speed and start over at their end, as a live camera.
  // false: a file is read once, as fast as analytics takes it (tests).
  bool realtime_files = true;
  // Decoded detect frames kept ahead of analytics; when analytics falls behind, the oldest is
  // dropped and counted (SourceStats::frames_dropped).
  int read_ahead_frames = 4;
  // Packets between the reader and the recorder (~30 s of 25 fps video); a full queue drops
  // packets and counts them (the recorder is stuck, e.g. the disk is full).
  size_t packet_queue_capacity = 750;
  int stall_timeout_ms = 5000;
  int reconnect_max_ms = 30000;
  // After the recorder fails (e.g. disk full) it waits this long before trying again.
  int64_t record_retry_ms = 5000;
  int jpeg_quality = 80;
  // Live view shows faces obscured to every role (DESIGN.md §1.5, docs/auth.md). Without a
  // face detector the live picture is withheld: a dark frame saying so (fail-closed).
  face::FaceDetector* face_detector = nullptr;  // Shared, thread-safe; not owned.
  privacy::FaceMaskerOptions masker;
  // Licence plates are obscured in live view too (config privacy.mask_plates): found by this
  // text detector (shared, thread-safe; not owned) on sampled detect frames. Without it while
  // mask_plates, the live picture is withheld as without a face detector (fail-closed).
  bool mask_plates = true;
  plate::TextDetector* plate_mask_detector = nullptr;
  privacy::PlateMaskerOptions plate_masker = {};
  // Live frames are masked and encoded only while someone asked for one within this time.
  int64_t live_idle_ms = 30'000;
  // Face recognition on person tracks (docs/face.md "Watchlists"): all three set, or none
  // (then nothing of it runs). Shared and thread-safe; not owned. The recognizer asks the
  // policy engine per frame and person, and runs nothing where no authorisation is in force.
  const policy::PolicyEngine* face_policy = nullptr;
  watchlist::WatchlistMatcher* watchlist_matcher = nullptr;
  watchlist::FaceSource* face_source = nullptr;
  watchlist::RecognizerOptions recognizer = {};
  // Plate reading (docs/plates.md "Live reading"): when set, the source also decodes frames
  // at full_frame_max_width and vehicle tracks are offered to the (shared) service.
  plate::PlateService* plates = nullptr;
  int full_frame_max_width = 1920;
};

// Receives the events of a camera, on its analytics thread. Must be thread-safe (every camera
// calls it) and should not block for long.
using EventSink = std::function<void(const std::vector<Event>&)>;

// Receives a face match (a lead) decided on the analytics thread, with the person's box on
// that frame (detect-frame pixels; empty if the track is gone). Must be thread-safe. Nothing
// of faces that matched no entry ever reaches it.
using FaceMatchSink = std::function<void(watchlist::FaceMatch match, BoxF box)>;

class CameraRunner {
 public:
  // `detector` (shared, thread-safe) is required; `index` may be null when record.mode is off.
  // Errors: kInvalidArgument (the pipeline refuses the camera's zones, masks...).
  // `face_sink` is required when face recognition is configured (options.face_source...).
  static absl::StatusOr<std::unique_ptr<CameraRunner>> Create(const CameraRunnerOptions& options,
                                                              Detector* detector,
                                                              record::SegmentIndex* index,
                                                              EventSink sink, Clock* clock,
                                                              FaceMatchSink face_sink = {});
  ~CameraRunner();  // Stop()s.
  CameraRunner(const CameraRunner&) = delete;
  CameraRunner& operator=(const CameraRunner&) = delete;

  void Start();
  // Ends open tracks (their events go to the sink), closes the open segment, joins every
  // thread. Returns within stall/open timeouts at worst. Idempotent.
  void Stop();

  const std::string& id() const { return options_.camera.id; }
  api::CameraHealth Health() const;

  // The newest detect frame, faces and plates obscured, as JPEG; nullopt before the first
  // one. Frames are made only while someone watches: a call marks the camera as watched, so a
  // camera idle for live_idle_ms delivers its next frame within one frame interval.
  std::optional<api::LiveFrame> Latest() const;
  // Waits up to `timeout_ms` for a frame newer than `after_seq`; nullopt on timeout or stop.
  std::optional<api::LiveFrame> WaitNewer(int64_t after_seq, int64_t timeout_ms) const;

  // The face recognizer's counters (no biometric data); all zero when it is not configured.
  watchlist::RecognizerStats FaceStats() const;

 private:
  CameraRunner(const CameraRunnerOptions& options, Detector* detector, record::SegmentIndex* index,
               EventSink sink, Clock* clock, FaceMatchSink face_sink);

  void AnalyticsLoop();
  // The live picture of `bgr` (obscured in place), JPEG-encoded; a dark notice frame when
  // masking is unavailable or failed.
  std::string LiveJpeg(cv::Mat& bgr, bool resumed);
  // Face recognition on the frame's person tracks; matches go to face_sink_.
  void RecognizeFaces(watchlist::TrackFaceRecognizer& recognizer, const Frame& frame,
                      const std::vector<pipeline::TrackView>& tracks);
  // Offers the frame's vehicle tracks (and the tracks it ended) to the plate service.
  void OfferPlates(const Frame& frame, const pipeline::FrameResult& result);
  void RecordLoop();
  // Opens the source, retrying with backoff until it opens or Stop(). nullptr on stop.
  std::unique_ptr<ingest::VideoSource> OpenSource();
  void SetError(const std::string& error);
  bool SleepUnlessStopped(int64_t ms);

  const CameraRunnerOptions options_;
  Detector* const detector_;
  record::SegmentIndex* const index_;
  const EventSink sink_;
  const FaceMatchSink face_sink_;
  Clock* const clock_;
  const bool recording_;                         // record.mode is not off.
  std::unique_ptr<privacy::FaceMasker> masker_;  // Analytics thread only; null: no detector.
  // Analytics thread only; null: plates not masked, or no text detector (then, while
  // options_.mask_plates, live frames are withheld).
  std::unique_ptr<privacy::PlateMasker> plate_masker_;
  mutable std::atomic<int64_t> last_watched_ms_{0};  // Monotonic ms of the last Latest/Wait.

  std::atomic<bool> stop_{false};
  std::thread analytics_thread_;
  std::thread record_thread_;
  std::atomic<bool> started_{false};

  mutable std::mutex mu_;
  mutable std::condition_variable frame_cv_;
  std::condition_variable stop_cv_;
  ingest::VideoSource* source_ = nullptr;  // Guarded by mu_; owned by AnalyticsLoop.
  // Guarded by mu_: the packet queue of the current (or next) source; null when not
  // recording. A source closes its queue when it ends or fails to open, so the next source
  // gets a new one; the recorder moves on to it once it has written what the closed one held.
  std::shared_ptr<ingest::PacketQueue> packets_;
  record::Recorder* recorder_ = nullptr;   // Guarded by mu_; owned by RecordLoop.
  std::optional<api::LiveFrame> latest_;   // Guarded by mu_.
  api::CameraHealth health_;               // Guarded by mu_; counters of closed sources.
  std::vector<int64_t> recent_frames_ms_;  // Guarded by mu_: wall times, for fps.
  // Guarded by mu_: drop counters of sources already closed, of the pipeline (detector queue
  // full) and of the recorder (packets discarded while paused after a write error).
  int64_t closed_frames_dropped_ = 0;
  int64_t closed_packets_dropped_ = 0;
  int64_t analytics_frames_dropped_ = 0;
  int64_t frames_analysed_ = 0;
  int64_t last_frame_ms_ = 0;  // UTC ms of the newest analysed frame.
  int64_t packets_discarded_ = 0;
  watchlist::RecognizerStats face_stats_;  // Guarded by mu_: a copy, after each frame.
};

}  // namespace custos::server
