#include "server/camera_runner.h"

#include <algorithm>
#include <chrono>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "ingest/camera_url.h"
#include "ingest/video_source.h"
#include "pipeline/camera_pipeline.h"
#include "privacy/snapshot.h"
#include "record/recorder.h"
#include "spdlog/spdlog.h"

namespace custos::server {
namespace {

constexpr int64_t kFpsWindowMs = 5000;
// A camera whose last frame is older than this is shown as disconnected.
constexpr int64_t kConnectedWithinMs = 3000;

}  // namespace

absl::StatusOr<std::unique_ptr<CameraRunner>> CameraRunner::Create(
    const CameraRunnerOptions& options, Detector* detector, record::SegmentIndex* index,
    EventSink sink, Clock* clock, FaceMatchSink face_sink) {
  if (detector == nullptr || clock == nullptr || !sink) {
    return absl::InvalidArgumentError("CameraRunner needs a detector, a clock and an event sink");
  }
  const int face_parts = (options.face_policy != nullptr) + (options.watchlist_matcher != nullptr) +
                         (options.face_source != nullptr);
  if (face_parts != 0 && (face_parts != 3 || !face_sink)) {
    return absl::InvalidArgumentError(
        "face recognition needs the policy engine, the watchlist matcher, the face models and a "
        "match sink together");
  }
  if (face_parts == 3) {
    // Validates the recognizer options before threads start.
    CUSTOS_RETURN_IF_ERROR(
        watchlist::TrackFaceRecognizer::Create(options.recognizer, options.face_policy,
                                               options.watchlist_matcher, options.face_source)
            .status());
  }
  if (options.camera.record.mode != config::RecordMode::kOff && index == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("camera '", options.camera.id, "' records but no segment index was given"));
  }
  // Build a pipeline once to validate zones, masks and tracker keys before starting threads.
  pipeline::PipelineOptions p;
  p.camera = options.camera;
  p.detector = options.detector;
  p.motion = options.motion;
  p.tracker = options.tracker;
  if (auto probe = pipeline::CameraPipeline::Create(p, detector); !probe.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("camera '", options.camera.id, "': ", probe.status().message()));
  }
  return std::unique_ptr<CameraRunner>(
      new CameraRunner(options, detector, index, std::move(sink), clock, std::move(face_sink)));
}

CameraRunner::CameraRunner(const CameraRunnerOptions& options, Detector* detector,
                           record::SegmentIndex* index, EventSink sink, Clock* clock,
                           FaceMatchSink face_sink)
    : options_(options),
      detector_(detector),
      index_(index),
      sink_(std::move(sink)),
      face_sink_(std::move(face_sink)),
      clock_(clock),
      recording_(options.camera.record.mode != config::RecordMode::kOff) {
  if (recording_) packets_ = std::make_shared<ingest::PacketQueue>(options.packet_queue_capacity);
  if (options.face_detector != nullptr) {
    absl::StatusOr<std::unique_ptr<privacy::FaceMasker>> masker =
        privacy::FaceMasker::Create(options.face_detector, options.masker);
    if (masker.ok()) {
      masker_ = *std::move(masker);
    } else {
      spdlog::error("camera {}: live view withheld, no face masking: {}", options.camera.id,
                    std::string(masker.status().message()));
    }
  }
  if (options.mask_plates) {
    // Sampled by time on the detect stream (every frame at its default 5 fps).
    absl::StatusOr<std::unique_ptr<privacy::PlateMasker>> plates = privacy::PlateMasker::Create(
        options.plate_mask_detector, options.plate_masker, options.camera.detect.fps);
    if (plates.ok()) {
      plate_masker_ = *std::move(plates);
    } else {
      spdlog::error("camera {}: live view withheld, no plate masking: {}", options.camera.id,
                    std::string(plates.status().message()));
    }
  }
  health_.camera = options.camera.id;
  health_.recording.mode = config::RecordModeName(options.camera.record.mode);
}

CameraRunner::~CameraRunner() { Stop(); }

void CameraRunner::Start() {
  if (started_.exchange(true)) return;
  analytics_thread_ = std::thread([this] { AnalyticsLoop(); });
  if (recording_) record_thread_ = std::thread([this] { RecordLoop(); });
}

void CameraRunner::Stop() {
  if (stop_.exchange(true)) {
    if (analytics_thread_.joinable()) analytics_thread_.join();
    if (record_thread_.joinable()) record_thread_.join();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (source_ != nullptr) source_->Interrupt();
  }
  stop_cv_.notify_all();
  frame_cv_.notify_all();
  if (analytics_thread_.joinable()) analytics_thread_.join();
  // The reader has stopped: nothing more will be queued. The recorder writes what is left.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (packets_ != nullptr) packets_->Close();
  }
  if (record_thread_.joinable()) record_thread_.join();
}

bool CameraRunner::SleepUnlessStopped(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  stop_cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_.load(); });
  return !stop_;
}

void CameraRunner::SetError(const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  health_.last_error = error;
}

std::unique_ptr<ingest::VideoSource> CameraRunner::OpenSource() {
  const config::CameraConfig& cam = options_.camera;
  ingest::SourceOptions so;
  so.url = cam.url;
  so.rtsp_transport = config::RtspTransportName(cam.rtsp_transport);
  so.detect_fps = cam.detect.fps;
  so.detect_width = cam.detect.width;
  so.detect_height = cam.detect.height;
  so.stall_timeout_ms = options_.stall_timeout_ms;
  so.reconnect_max_ms = options_.reconnect_max_ms;
  so.max_reconnects = -1;
  so.realtime = options_.realtime_files;
  so.loop = options_.realtime_files;
  so.read_ahead_frames = options_.read_ahead_frames;
  int64_t backoff_ms = 500;
  while (!stop_) {
    if (recording_) {
      // A source closes its queue when it fails to open or ends: the next one needs a new one.
      std::lock_guard<std::mutex> lock(mu_);
      if (packets_->closed()) {
        packets_ = std::make_shared<ingest::PacketQueue>(options_.packet_queue_capacity);
      }
      so.packet_queue = packets_;
    }
    if (options_.plates != nullptr) so.full_frame_max_width = options_.full_frame_max_width;
    absl::StatusOr<std::unique_ptr<ingest::VideoSource>> source =
        ingest::VideoSource::Open(so, clock_);
    if (source.ok()) {
      SetError("");
      return *std::move(source);
    }
    const std::string error =
        absl::StrCat("cannot open ", ingest::RedactUrl(cam.url), ": ", source.status().message());
    spdlog::warn("camera {}: {}; retrying in {} ms", cam.id, error, backoff_ms);
    SetError(error);
    if (!SleepUnlessStopped(backoff_ms)) break;
    backoff_ms = std::min<int64_t>(backoff_ms * 2, options_.reconnect_max_ms);
  }
  return nullptr;
}

void CameraRunner::AnalyticsLoop() {
  pipeline::PipelineOptions p;
  p.camera = options_.camera;
  p.detector = options_.detector;
  p.motion = options_.motion;
  p.tracker = options_.tracker;
  p.snapshot_dir = options_.snapshot_dir;
  // Snapshots go to operators with alerts and search results: masked as live view is, and not
  // stored when that cannot be done (docs/privacy.md "Event snapshots").
  p.redact_snapshot = [this](const track::Track& track, cv::Mat& image) {
    const absl::Status status =
        privacy::RedactSnapshot(masker_.get(), plate_masker_.get(), options_.mask_plates,
                                track.label, track.best.crop, track.best.box, image);
    if (!status.ok()) {
      spdlog::warn("camera {}: snapshot of track {} withheld: {}", options_.camera.id, track.id,
                   std::string(status.message()));
    }
    return status;
  };
  absl::StatusOr<std::unique_ptr<pipeline::CameraPipeline>> pipeline =
      pipeline::CameraPipeline::Create(p, detector_);
  if (!pipeline.ok()) {  // Create() validated the same options: not expected.
    SetError(std::string(pipeline.status().message()));
    return;
  }
  // Face recognition: one recognizer per camera thread; null when not configured.
  std::unique_ptr<watchlist::TrackFaceRecognizer> recognizer;
  if (options_.face_source != nullptr) {
    absl::StatusOr<std::unique_ptr<watchlist::TrackFaceRecognizer>> made =
        watchlist::TrackFaceRecognizer::Create(options_.recognizer, options_.face_policy,
                                               options_.watchlist_matcher, options_.face_source);
    if (made.ok()) {
      recognizer = *std::move(made);
    } else {  // Create() validated the same options: not expected.
      SetError(absl::StrCat("face recognition: ", made.status().message()));
    }
  }
  const bool event_recording = options_.camera.record.mode == config::RecordMode::kEvents;
  int64_t last_wall_ms = 0;
  int64_t seq = 0;
  bool was_watched = false;
  while (!stop_) {
    std::unique_ptr<ingest::VideoSource> source = OpenSource();
    if (source == nullptr) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      source_ = source.get();
      if (stop_) source->Interrupt();
    }
    absl::Status end;
    for (;;) {
      absl::StatusOr<Frame> frame = source->Next();
      if (!frame.ok()) {
        end = frame.status();
        break;
      }
      absl::StatusOr<pipeline::FrameResult> result = (*pipeline)->Process(*frame);
      if (!result.ok()) {
        // The detector failed: keep the camera live (and recording); say so in health.
        SetError(absl::StrCat("analytics: ", result.status().message()));
        continue;
      }
      if (event_recording) {
        std::lock_guard<std::mutex> lock(mu_);
        if (recorder_ != nullptr) recorder_->SetEventActive(!result->tracks.empty());
      }
      if (!result->events.empty()) sink_(result->events);
      if (recognizer != nullptr) RecognizeFaces(*recognizer, *frame, result->tracks);
      if (options_.plates != nullptr) OfferPlates(*frame, *result);
      last_wall_ms = frame->wall_ms;
      {
        std::lock_guard<std::mutex> lock(mu_);
        recent_frames_ms_.push_back(frame->wall_ms);
        std::erase_if(recent_frames_ms_,
                      [&](int64_t t) { return t < frame->wall_ms - kFpsWindowMs; });
        analytics_frames_dropped_ = (*pipeline)->stats().dropped_frames;
        ++frames_analysed_;
        last_frame_ms_ = frame->wall_ms;
      }
      // Masking and encoding cost a few ms a frame: only while someone watches (or before the
      // first frame, so a new viewer finds one).
      const bool watched =
          clock_->MonotonicMs() - last_watched_ms_.load() < options_.live_idle_ms || seq == 0;
      if (!watched) {
        was_watched = false;
        continue;
      }
      api::LiveFrame live;
      // A copy: the pipeline may still hold the frame (a track's best snapshot).
      cv::Mat picture = frame->bgr.clone();
      live.jpeg = std::make_shared<const std::string>(LiveJpeg(picture, !was_watched));
      was_watched = true;
      live.wall_ms = frame->wall_ms;
      live.seq = ++seq;
      live.width = frame->bgr.cols;
      live.height = frame->bgr.rows;
      {
        std::lock_guard<std::mutex> lock(mu_);
        latest_ = std::move(live);
      }
      frame_cv_.notify_all();
    }
    const ingest::SourceStats stats = source->stats();
    {
      std::lock_guard<std::mutex> lock(mu_);
      source_ = nullptr;
      health_.reconnects += stats.reconnects;
      closed_frames_dropped_ += stats.frames_dropped;
      closed_packets_dropped_ += stats.packets_dropped_for_recording;
    }
    if (end.code() == absl::StatusCode::kCancelled) break;
    // A lost stream (after its own reconnects), a damaged file, or a file's end: start over.
    const std::string error = absl::StrCat("stream ended: ", end.message());
    spdlog::warn("camera {}: {}", options_.camera.id, error);
    SetError(error);
    // Except at the end of a file read once: reading it again would stamp its frames with
    // wall times before those already analysed and recorded.
    if (end.code() == absl::StatusCode::kOutOfRange && !options_.realtime_files) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++health_.reconnects;
    }
    if (!SleepUnlessStopped(1000)) break;
  }
  // Close the tracks still open so each has its track_end.
  std::vector<Event> last = (*pipeline)->Finish(last_wall_ms > 0 ? last_wall_ms : clock_->WallMs());
  if (!last.empty()) sink_(last);
}

void CameraRunner::RecordLoop() {
  const config::RecordConfig& rc = options_.camera.record;
  record::RecorderOptions ro;
  ro.data_dir = options_.data_dir;
  ro.camera = options_.camera.id;
  ro.mode = rc.mode == config::RecordMode::kEvents ? record::RecordMode::kEventOnly
                                                   : record::RecordMode::kContinuous;
  ro.segment_ms = static_cast<int64_t>(rc.segment_s * 1000);
  ro.pre_roll_ms = static_cast<int64_t>(rc.pre_roll_s * 1000);
  ro.post_roll_ms = static_cast<int64_t>(rc.post_roll_s * 1000);
  absl::StatusOr<std::unique_ptr<record::Recorder>> recorder = record::Recorder::Create(ro, index_);
  if (!recorder.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    health_.recording.error = std::string(recorder.status().message());
    spdlog::error("camera {}: cannot record: {}", options_.camera.id, health_.recording.error);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    recorder_ = recorder->get();
  }
  int64_t paused_until_ms = 0;
  int64_t discarded = 0;
  // Packets written when the last write failed; -1 while recording works. Recording has
  // resumed only once a packet reaches a file again: after an error the writer drops packets
  // until the next keyframe, and those Write() calls succeed without writing anything.
  int64_t written_at_error = -1;
  auto publish = [&](const std::string* error) {
    const record::RecorderStats st = (*recorder)->stats();
    std::lock_guard<std::mutex> lock(mu_);
    health_.recording.segments = st.writer.segments_closed;
    health_.recording.bytes = st.writer.bytes_closed;
    packets_discarded_ = discarded;
    health_.recording.active = written_at_error < 0;
    if (error != nullptr) health_.recording.error = *error;
  };
  int64_t last_publish_ms = 0;
  std::shared_ptr<ingest::PacketQueue> queue;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue = packets_;
  }
  for (;;) {
    std::optional<ingest::EncodedPacket> packet = queue->Pop(200);
    if (!packet) {
      if (queue->closed()) {
        // That source is done. Stop() closes the last queue; otherwise the next source (a
        // reconnection) gets a new one (OpenSource).
        std::shared_ptr<ingest::PacketQueue> current;
        {
          std::lock_guard<std::mutex> lock(mu_);
          current = packets_;
        }
        if (current != queue) {
          queue = std::move(current);
          continue;
        }
        if (stop_) break;
        SleepUnlessStopped(100);
        continue;
      }
      if (stop_ && queue->size() == 0) break;
      continue;
    }
    const int64_t now = clock_->MonotonicMs();
    if (paused_until_ms != 0) {
      if (now < paused_until_ms) {
        ++discarded;  // The disk failed a moment ago: do not hammer it.
        continue;
      }
      paused_until_ms = 0;
    }
    absl::Status written = (*recorder)->Write(*std::move(packet));
    if (!written.ok()) {
      ++discarded;
      paused_until_ms = now + options_.record_retry_ms;
      written_at_error = (*recorder)->stats().writer.packets_written;
      const std::string error = absl::StrCat("recording paused: ", written.message());
      spdlog::error("camera {}: {}; retrying in {} ms", options_.camera.id, error,
                    options_.record_retry_ms);
      publish(&error);
      continue;
    }
    const bool resumed =
        written_at_error >= 0 && (*recorder)->stats().writer.packets_written > written_at_error;
    if (resumed) written_at_error = -1;
    if (resumed || now - last_publish_ms >= 500) {
      last_publish_ms = now;
      const std::string cleared;
      publish(resumed ? &cleared : nullptr);
    }
  }
  if (absl::Status closed = (*recorder)->Close(); !closed.ok()) {
    spdlog::error("camera {}: closing the last segment: {}", options_.camera.id,
                  std::string(closed.message()));
  }
  publish(nullptr);
  std::lock_guard<std::mutex> lock(mu_);
  recorder_ = nullptr;
}

api::CameraHealth CameraRunner::Health() const {
  std::lock_guard<std::mutex> lock(mu_);
  api::CameraHealth h = health_;
  int64_t frames_dropped = closed_frames_dropped_;
  int64_t packets_dropped = closed_packets_dropped_;
  if (source_ != nullptr) {
    const ingest::SourceStats st = source_->stats();
    h.reconnects += st.reconnects;
    frames_dropped += st.frames_dropped;
    packets_dropped += st.packets_dropped_for_recording;
  }
  h.frames_dropped = frames_dropped + analytics_frames_dropped_;
  h.frames_analysed = frames_analysed_;
  h.recording.packets_dropped = packets_dropped + packets_discarded_;
  h.last_frame_ms = last_frame_ms_;
  const int64_t now = clock_->WallMs();
  h.connected = last_frame_ms_ > 0 && now - last_frame_ms_ <= kConnectedWithinMs;
  if (!recent_frames_ms_.empty() && h.connected) {
    const int64_t span = recent_frames_ms_.back() - recent_frames_ms_.front();
    h.fps = span > 0 ? static_cast<double>(recent_frames_ms_.size() - 1) * 1000.0 /
                           static_cast<double>(span)
                     : 0;
  }
  return h;
}

std::string CameraRunner::LiveJpeg(cv::Mat& bgr, bool resumed) {
  const char* withheld = nullptr;
  if (masker_ == nullptr) {
    withheld = "live view withheld: no face masking";
  } else if (options_.mask_plates && plate_masker_ == nullptr) {
    withheld = "live view withheld: no plate masking";
  } else {
    if (resumed) {  // Regions held from before the gap are stale.
      masker_->Reset();
      if (plate_masker_ != nullptr) plate_masker_->Reset();
    }
    // Plates first, on the frame as captured: the face detector, run low, also fires on car
    // fronts, and its blobs would hide part of a plate from the text detector.
    absl::Status status = absl::OkStatus();
    if (plate_masker_ != nullptr) status = plate_masker_->MaskInPlace(bgr).status();
    if (status.ok()) status = masker_->MaskInPlace(bgr).status();
    if (!status.ok()) {
      spdlog::warn("camera {}: live frame withheld, masking failed: {}", options_.camera.id,
                   std::string(status.message()));
      withheld = "live view withheld: masking failed";
    }
  }
  if (withheld != nullptr) {
    // Never an unmasked picture: a dark frame that says why.
    bgr.setTo(cv::Scalar(32, 32, 32));
    cv::putText(bgr, withheld, cv::Point(12, bgr.rows / 2), cv::FONT_HERSHEY_SIMPLEX,
                std::max(0.4, bgr.cols / 900.0), cv::Scalar(200, 200, 200), 1, cv::LINE_AA);
  }
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, options_.jpeg_quality});
  return std::string(jpeg.begin(), jpeg.end());
}

void CameraRunner::RecognizeFaces(watchlist::TrackFaceRecognizer& recognizer, const Frame& frame,
                                  const std::vector<pipeline::TrackView>& tracks) {
  // Cheap when nothing is authorised: no person, no active entry or no authorisation in force
  // returns before any face is looked for (measured in camera_runner_test).
  const std::vector<watchlist::PersonTrack> persons = watchlist::PersonTracksFrom(tracks);
  absl::StatusOr<std::vector<watchlist::FaceMatch>> found =
      recognizer.ProcessFrame(options_.camera.id, frame.wall_ms, frame.bgr, persons);
  if (!found.ok()) {
    // Never biometric data in the message: the recognizer's errors name no face.
    SetError(absl::StrCat("face recognition: ", found.status().message()));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    face_stats_ = recognizer.stats();
  }
  if (!found.ok()) return;
  for (watchlist::FaceMatch& match : *found) {
    BoxF box;
    for (const pipeline::TrackView& t : tracks) {
      if (t.id == match.track_id) box = t.box;
    }
    face_sink_(std::move(match), box);
  }
}

void CameraRunner::OfferPlates(const Frame& frame, const pipeline::FrameResult& result) {
  std::vector<plate::VehicleTrack> vehicles;
  for (const pipeline::TrackView& t : result.tracks) {
    if (!t.lost) vehicles.push_back({t.id, t.label, t.box});
  }
  std::vector<int64_t> ended;
  for (const Event& e : result.events) {
    if (e.type == EventType::kTrackEnd) ended.push_back(e.track_id);
  }
  options_.plates->OnFrame(options_.camera.id, frame.wall_ms, frame.bgr.size(), frame.full,
                           vehicles, ended);
}

watchlist::RecognizerStats CameraRunner::FaceStats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return face_stats_;
}

std::optional<api::LiveFrame> CameraRunner::Latest() const {
  last_watched_ms_ = clock_->MonotonicMs();
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

std::optional<api::LiveFrame> CameraRunner::WaitNewer(int64_t after_seq, int64_t timeout_ms) const {
  last_watched_ms_ = clock_->MonotonicMs();
  std::unique_lock<std::mutex> lock(mu_);
  const bool ok = frame_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return stop_.load() || (latest_.has_value() && latest_->seq > after_seq);
  });
  if (!ok || stop_) return std::nullopt;
  return latest_;
}

}  // namespace custos::server
