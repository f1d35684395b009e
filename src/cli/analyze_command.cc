// `custos analyze`: the whole pipeline over one video file or stream, with a progress bar,
// events as JSON lines and/or SQLite, an annotated video, and a summary.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/annotator.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "config/config.h"
#include "infer/inference_service.h"
#include "infer/openvino_detector.h"
#include "ingest/camera_url.h"
#include "ingest/video_source.h"
#include "pipeline/camera_pipeline.h"
#include "store/event_json.h"
#include "store/sqlite_event_store.h"

namespace custos::cli {
namespace {

std::atomic<ingest::VideoSource*> g_source{nullptr};
std::atomic<bool> g_interrupted{false};

void OnSignal(int) {
  g_interrupted = true;
  if (ingest::VideoSource* s = g_source.load()) s->Interrupt();
}

// The config to run: the file's (one camera of it), or a default camera for the input.
absl::StatusOr<config::Config> ResolveConfig(const AnalyzeFlags& flags,
                                             const infer::ModelSpec& model) {
  config::Config cfg;
  if (!flags.config.empty()) {
    config::ParseOptions options;
    options.models[model.name] = model.labels;
    auto loaded = config::LoadConfig(flags.config, options);
    if (!loaded.ok()) return loaded.status();
    cfg = *std::move(loaded);
    if (!flags.camera.empty()) {
      std::erase_if(cfg.cameras,
                    [&](const config::CameraConfig& c) { return c.id != flags.camera; });
      if (cfg.cameras.empty()) {
        return absl::NotFoundError(
            absl::StrCat("no camera '", flags.camera, "' in ", flags.config));
      }
    }
    cfg.cameras.resize(1);
    // The input on the command line wins over the camera's url.
    if (!flags.input.empty())
      cfg.cameras[0].url = flags.input;
    else
      cfg.cameras[0].url = config::ResolvePath(cfg, cfg.cameras[0].url);
  } else {
    if (flags.input.empty()) {
      return absl::InvalidArgumentError(
          "nothing to analyse: give a video file or URL, or a --config whose camera has a url");
    }
    config::CameraConfig camera;
    camera.id = flags.camera.empty() ? "cli" : flags.camera;
    camera.name = camera.id;
    camera.url = flags.input;
    cfg.cameras.push_back(camera);
  }
  if (flags.fps > 0) cfg.cameras[0].detect.fps = flags.fps;
  if (flags.height > 0) {
    cfg.cameras[0].detect.height = flags.height;
    cfg.cameras[0].detect.width = 0;
  }
  return cfg;
}

class ProgressBar {
 public:
  ProgressBar(bool enabled, int64_t duration_ms)
      : enabled_(enabled && isatty(STDERR_FILENO)), duration_ms_(duration_ms) {}

  void Update(int64_t pts_ms, int64_t frames, int64_t tracks) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double speed = elapsed > 0 ? static_cast<double>(pts_ms) / 1000.0 / elapsed : 0;
    if (duration_ms_ > 0) {
      const double f =
          std::min(1.0, static_cast<double>(pts_ms) / static_cast<double>(duration_ms_));
      const int filled = static_cast<int>(f * 30);
      std::fprintf(stderr,
                   "\r[%s%s] %3.0f%%  %6.1f/%.1f s  %5.1fx realtime  %lld frames  %lld tracks ",
                   std::string(static_cast<size_t>(filled), '#').c_str(),
                   std::string(static_cast<size_t>(30 - filled), '.').c_str(), f * 100,
                   static_cast<double>(pts_ms) / 1000, static_cast<double>(duration_ms_) / 1000,
                   speed, static_cast<long long>(frames), static_cast<long long>(tracks));
    } else {
      std::fprintf(stderr, "\r%8.1f s of stream  %lld frames  %lld tracks ",
                   static_cast<double>(pts_ms) / 1000, static_cast<long long>(frames),
                   static_cast<long long>(tracks));
    }
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  const bool enabled_;
  const int64_t duration_ms_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

// Where events go: JSON lines, the SQLite store, and the per-class summary.
class EventSinks {
 public:
  absl::Status Open(const AnalyzeFlags& flags) {
    if (flags.json_events == "-") {
      json_ = &std::cout;
    } else if (!flags.json_events.empty()) {
      file_.open(flags.json_events, std::ios::out | std::ios::trunc);
      if (!file_) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot write ", flags.json_events, " (does the folder exist?)"));
      }
      json_ = &file_;
    }
    if (!flags.db.empty()) {
      auto store = store::SqliteEventStore::Open({.path = flags.db});
      if (!store.ok()) return store.status();
      store_ = *std::move(store);
    }
    return absl::OkStatus();
  }

  absl::Status Write(const std::vector<Event>& events, int64_t pts_ms) {
    if (events.empty()) return absl::OkStatus();
    for (const Event& e : events) {
      if (e.type == EventType::kTrackStart) ++tracks_[e.label];
      if (json_ != nullptr) {
        nlohmann::json j = store::EventToJson(e);
        j["pts_ms"] = pts_ms;  // Position in the analysed video, for finding the moment.
        *json_ << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      }
    }
    if (json_ != nullptr) json_->flush();
    if (store_) return store_->Append(events);
    return absl::OkStatus();
  }

  const std::map<std::string, int64_t>& tracks() const { return tracks_; }
  int64_t total_tracks() const {
    int64_t n = 0;
    for (const auto& [label, count] : tracks_) n += count;
    return n;
  }

 private:
  std::ostream* json_ = nullptr;
  std::ofstream file_;
  std::unique_ptr<store::SqliteEventStore> store_;
  std::map<std::string, int64_t> tracks_;
};

void PrintSummary(const std::string& input, const EventSinks& sinks,
                  const pipeline::CameraPipeline& pipeline, const ingest::SourceStats& source,
                  int64_t pts_ms, double wall_s) {
  std::printf("\n%s: %.1f s of video analysed in %.1f s (%.1fx realtime)\n", input.c_str(),
              static_cast<double>(pts_ms) / 1000, wall_s,
              wall_s > 0 ? static_cast<double>(pts_ms) / 1000 / wall_s : 0.0);
  std::printf("tracks per class:\n");
  if (sinks.tracks().empty()) std::printf("  (none)\n");
  for (const auto& [label, n] : sinks.tracks()) {
    std::printf("  %-12s %lld\n", label.c_str(), static_cast<long long>(n));
  }
  const zones::ZoneCounts counts = pipeline.counts();
  if (!counts.line_crossings.empty()) {
    std::printf("line crossings:\n");
    for (const auto& [key, n] : counts.line_crossings) {
      std::printf("  %-12s %-10s %-8s %lld\n", key.line.c_str(), key.label.c_str(),
                  key.direction.c_str(), static_cast<long long>(n));
    }
  }
  if (!counts.zone_entries.empty()) {
    std::printf("zone entries:\n");
    for (const auto& [key, n] : counts.zone_entries) {
      std::printf("  %-12s %-10s %lld\n", key.zone.c_str(), key.label.c_str(),
                  static_cast<long long>(n));
    }
  }
  const pipeline::PipelineStats& st = pipeline.stats();
  std::printf(
      "frames: %lld analysed, %lld with motion, detector on %lld (%.2f regions each, %.1f ms "
      "per frame), %lld dropped\n",
      static_cast<long long>(st.frames), static_cast<long long>(st.frames_with_motion),
      static_cast<long long>(st.detector_calls),
      st.detector_calls ? static_cast<double>(st.regions) / static_cast<double>(st.detector_calls)
                        : 0.0,
      st.detector_calls ? st.detect_ms / static_cast<double>(st.detector_calls) : 0.0,
      static_cast<long long>(st.dropped_frames));
  std::printf("source: %lld packets, %lld corrupt frames skipped, %lld reconnects, %zu gaps\n",
              static_cast<long long>(source.packets), static_cast<long long>(source.frames_corrupt),
              static_cast<long long>(source.reconnects), source.gaps.size());
  for (const ingest::Gap& g : source.gaps) {
    std::printf("  gap of %.1f s: %s\n",
                static_cast<double>(g.end_wall_ms - g.start_wall_ms) / 1000, g.reason.c_str());
  }
}

}  // namespace

int RunAnalyze(const AnalyzeFlags& flags) {
  auto model = LoadModelSpec(flags.model);
  if (!model.ok()) return Fail("analyze", model.status());
  auto cfg = ResolveConfig(flags, *model);
  if (!cfg.ok()) return Fail("analyze", cfg.status());
  const config::CameraConfig& camera = cfg->cameras[0];
  if (absl::Status valid = ingest::ValidateUrl(camera.url); !valid.ok()) {
    return Fail("analyze", valid);
  }

  ingest::SourceOptions source_options;
  source_options.url = camera.url;
  source_options.rtsp_transport = config::RtspTransportName(camera.rtsp_transport);
  source_options.detect_fps = camera.detect.fps;
  source_options.detect_width = camera.detect.width;
  source_options.detect_height = camera.detect.height;
  source_options.max_reconnects = 5;
  auto source = ingest::VideoSource::Open(source_options, Clock::Real());
  if (!source.ok()) return Fail("analyze", source.status());

  infer::DetectorOptions detector_options;
  auto detector = infer::OpenVinoDetector::Create(*model, detector_options);
  if (!detector.ok()) return Fail("analyze", detector.status());
  auto service = infer::InferenceService::Create(std::move(*detector), {});
  if (!service.ok()) return Fail("analyze", service.status());

  pipeline::PipelineOptions options;
  options.camera = camera;
  options.detector = cfg->detector;
  options.motion = cfg->motion;
  options.tracker = cfg->tracker;
  options.full_frame = flags.full_frame;
  options.snapshot_dir = flags.snapshots;
  auto pipeline = pipeline::CameraPipeline::Create(options, service->get());
  if (!pipeline.ok()) return Fail("analyze", pipeline.status());

  EventSinks sinks;
  if (absl::Status s = sinks.Open(flags); !s.ok()) return Fail("analyze", s);

  g_source = source->get();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  const ingest::StreamInfo& info = (*source)->info();
  ProgressBar progress(flags.progress, info.duration_ms);
  std::unique_ptr<Annotator> annotator;
  const auto start = std::chrono::steady_clock::now();
  int64_t last_pts = 0, last_wall = 0;
  int exit_code = 0;
  for (;;) {
    absl::StatusOr<Frame> frame = (*source)->Next();
    if (!frame.ok()) {
      if (frame.status().code() == absl::StatusCode::kOutOfRange ||
          frame.status().code() == absl::StatusCode::kCancelled) {
        break;  // End of the file, or interrupted by the user.
      }
      exit_code = Fail("analyze", frame.status());
      break;
    }
    if (!flags.annotate.empty() && !annotator) {
      auto created =
          Annotator::Create(flags.annotate, frame->bgr.size(), camera.detect.fps, camera);
      if (!created.ok()) return Fail("analyze", created.status());
      annotator = *std::move(created);
    }
    absl::StatusOr<pipeline::FrameResult> result = (*pipeline)->Process(*frame);
    if (!result.ok()) {
      exit_code = Fail("analyze", result.status());
      break;
    }
    if (absl::Status s = sinks.Write(result->events, frame->pts_ms); !s.ok()) {
      exit_code = Fail("analyze", s);
      break;
    }
    if (annotator) annotator->Write(*frame, *result, (*pipeline)->counts());
    last_pts = frame->pts_ms;
    last_wall = frame->wall_ms;
    progress.Update(last_pts, (*pipeline)->stats().frames, sinks.total_tracks());
  }
  g_source = nullptr;
  progress.Done();
  // Close every open track so each one has its track_end, even after an error or Ctrl-C.
  if (absl::Status s = sinks.Write((*pipeline)->Finish(last_wall), last_pts); !s.ok()) {
    exit_code = Fail("analyze", s);
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintSummary(camera.url.empty() ? flags.input : ingest::RedactUrl(camera.url), sinks, **pipeline,
               (*source)->stats(), last_pts, wall_s);
  if (g_interrupted)
    std::printf("interrupted: results cover the video up to %.1f s\n",
                static_cast<double>(last_pts) / 1000);
  return exit_code;
}

}  // namespace custos::cli
