// Node capacity benchmark: how many cameras this machine records and analyses live at once
// with < 1 % of detect frames dropped and no recording packet dropped. It runs the real
// server components: N server::CameraRunner (each its own VideoSource pacing a file camera in
// real time and looping, with read-ahead, recording through a shared record::SegmentIndex
// into a temporary data directory, and the analytics pipeline), all sharing ONE
// infer::InferenceService over infer::OpenVinoDetector (nanodet-coco), as `custos serve` does.
// Against it, in the same process: the decode-only cost of the same input at the same detect
// settings (VideoSource alone), so the CPU numbers are read as ratios on a noisy machine.
// See bench/README.md.
//
// usage: node_bench [--seconds S] [--warmup S] [--repeat R] [--budget S] [--quick] [--mix]
//                   [--only-mix] [--linear] [--cameras 1,2,4] [--max-cameras N]
//                   [--inputs vtest,person] [--json]
//   N is searched over 1, 2, 3, 4, 6, 8, 12, 16, 24, ...: by default doubling (1, 2, 4, 8, ...)
//   until a run fails (>= 1 % dropped detect frames, a dropped packet, or lagging real time),
//   then bisecting between the last pass and that failure; with --linear (or --cameras) every
//   N in turn until a run drops more than 5 %. A series stops when its share of --budget
//   (default 300 s of runs, shared by the series left) is spent: the capacity printed is then
//   a lower bound.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/testing.h"
#include "custos/clock.h"
#include "infer/inference_service.h"
#include "infer/model_manifest.h"
#include "infer/openvino_detector.h"
#include "ingest/video_source.h"
#include "nlohmann/json.hpp"
#include "record/segment_index.h"
#include "server/camera_runner.h"
#include "spdlog/spdlog.h"

namespace custos {
namespace {

namespace fs = std::filesystem;

constexpr double kDetectFps = 5;  // config::DetectConfig defaults: 5 fps, 360 px high.
constexpr int kDetectHeight = 360;
// A run passes with fewer dropped detect frames than this, and no dropped packet.
constexpr double kPassDropPct = 1.0;
// The series stops growing N once a run drops more than this.
constexpr double kStopDropPct = 5.0;
// Frames decoded for analytics below this fraction of real time: the cameras lag (a paced
// file re-anchors its clock when more than 1 s behind, which no drop counter shows).
constexpr double kMinRealtime = 0.97;

double CpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_nsec) / 1e6;
}
double WallMs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_nsec) / 1e6;
}
// Resident set size of this process, MB.
double RssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return 0;
}
int ThreadCount() {
  int n = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* e = readdir(dir)) n += e->d_name[0] != '.';
    closedir(dir);
  }
  return n;
}
double LoadAverage() {
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

struct Input {
  std::string name;  // "vtest", "person"
  std::string path;
  double decode_ms_per_cam_s = 0;  // Baseline, filled in by MeasureDecode.
};

// Baseline: VideoSource alone at the detect settings, read as fast as it decodes (no pacing,
// no read-ahead, no recording, no pipeline): CPU-ms per second of video. Best of `repeat`.
absl::StatusOr<double> MeasureDecode(const std::string& path, int repeat) {
  double best = 0;
  for (int r = 0; r < repeat; ++r) {
    ingest::SourceOptions o;
    o.url = path;
    o.detect_fps = kDetectFps;
    o.detect_height = kDetectHeight;
    auto source = ingest::VideoSource::Open(o, Clock::Real());
    if (!source.ok()) return source.status();
    const double start = CpuMs();
    int64_t last_pts_ms = 0;
    for (;;) {
      absl::StatusOr<Frame> frame = (*source)->Next();
      if (!frame.ok()) break;
      last_pts_ms = frame->pts_ms;
    }
    const double ms = (CpuMs() - start) / (static_cast<double>(last_pts_ms) / 1000.0);
    if (r == 0 || ms < best) best = ms;
  }
  return best;
}

// Counters summed over the cameras of a run at one instant.
struct Snapshot {
  double cpu_ms = 0;
  double wall_ms = 0;
  int64_t analysed = 0;         // Detect frames through the pipeline (LiveFrame::seq).
  int64_t frames_dropped = 0;   // CameraHealth::frames_dropped: read-ahead + detector queue.
  int64_t packets_dropped = 0;  // RecordingHealth::packets_dropped.
  int64_t segments = 0;
  int64_t bytes = 0;
  int64_t reconnects = 0;
  infer::InferenceStats inference;
};

Snapshot Take(const std::vector<std::unique_ptr<server::CameraRunner>>& cameras,
              const infer::InferenceService& service) {
  Snapshot s;
  for (const auto& camera : cameras) {
    const api::CameraHealth h = camera->Health();
    if (std::optional<api::LiveFrame> live = camera->Latest()) s.analysed += live->seq;
    s.frames_dropped += h.frames_dropped;
    s.packets_dropped += h.recording.packets_dropped;
    s.segments += h.recording.segments;
    s.bytes += h.recording.bytes;
    s.reconnects += h.reconnects;
  }
  s.inference = service.stats();
  s.cpu_ms = CpuMs();
  s.wall_ms = WallMs();
  return s;
}

struct Run {
  std::string series;
  int cameras = 0;
  double seconds = 0;           // Measured window, wall.
  int64_t analysed = 0;         // Detect frames analysed.
  int64_t decoded = 0;          // Detect frames decoded for analytics: analysed + read-ahead drops.
  int64_t dropped = 0;          // Read-ahead drops + detector-queue drops.
  int64_t queue_dropped = 0;    // Of which refused by the inference queue.
  double drop_pct = 0;          // dropped / decoded.
  double realtime = 0;          // decoded / (cameras × detect fps × seconds).
  int64_t packets_dropped = 0;  // Recording.
  int64_t segments = 0;         // Closed during the window.
  double cpu_ms_per_cam_s = 0;
  double decode_ms_per_cam_s = 0;  // Baseline of the same inputs.
  double cpu_util = 0;             // Process CPU / (wall × cores).
  int64_t images = 0;              // Images inferred during the window.
  int64_t batches = 0;
  double detector_busy = 0;  // Wall time inside the detector / window.
  double detector_wall_ms_per_image = 0;
  double inference_cpu_share = 0;  // images × probe CPU-ms per inference / process CPU.
  int64_t events = 0;
  int64_t tracks = 0;
  int64_t reconnects = 0;
  double min_fps = 0;  // Lowest CameraHealth::fps at the end of the window.
  int not_connected = 0;
  double stop_ms = 0;  // Wall time of stopping every camera.
  double rss_before_mb = 0, rss_after_mb = 0;
  int threads_before = 0, threads_after = 0;
  double load_before = 0, load_after = 0;
  bool pass = false;
};

struct Bench {
  std::vector<Input> inputs;
  infer::InferenceService* service = nullptr;
  double infer_cpu_ms = 0;  // Probe: CPU-ms per inference at batch 1.
  double seconds = 30;
  double warmup_s = 4;
};

absl::StatusOr<Run> RunOnce(const Bench& bench, const std::string& series,
                            const std::vector<const Input*>& per_camera) {
  const int n = static_cast<int>(per_camera.size());
  Run run;
  run.series = series;
  run.cameras = n;
  run.threads_before = ThreadCount();
  run.rss_before_mb = RssMb();
  run.load_before = LoadAverage();
  for (const Input* in : per_camera) run.decode_ms_per_cam_s += in->decode_ms_per_cam_s / n;

  const fs::path data_dir = testing::TempDir("custos_node_bench");
  absl::StatusOr<std::unique_ptr<record::SegmentIndex>> index =
      record::SegmentIndex::Open(data_dir.string());
  if (!index.ok()) return index.status();
  std::atomic<int64_t> events{0};
  std::atomic<int64_t> tracks{0};
  server::EventSink sink = [&](const std::vector<Event>& batch) {
    events += static_cast<int64_t>(batch.size());
    for (const Event& e : batch) tracks += e.type == EventType::kTrackStart;
  };
  std::vector<std::unique_ptr<server::CameraRunner>> cameras;
  for (int i = 0; i < n; ++i) {
    server::CameraRunnerOptions o;
    o.camera.id = absl::StrCat(per_camera[i]->name, "-", i);
    o.camera.url = per_camera[i]->path;
    o.camera.detect.fps = kDetectFps;
    o.camera.detect.height = kDetectHeight;
    o.data_dir = data_dir.string();
    o.snapshot_dir = (data_dir / "snapshots").string();
    o.realtime_files = true;
    auto runner = server::CameraRunner::Create(o, bench.service, index->get(), sink, Clock::Real());
    if (!runner.ok()) return runner.status();
    cameras.push_back(*std::move(runner));
  }
  // Real cameras are not in step: spread the starts over one detect interval so frames do
  // not all reach the detector at the same instant (which would flatter batching).
  const auto stagger = std::chrono::microseconds(static_cast<int64_t>(1e6 / kDetectFps / n));
  for (auto& camera : cameras) {
    camera->Start();
    std::this_thread::sleep_for(stagger);
  }
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(bench.warmup_s * 1000)));
  const Snapshot a = Take(cameras, *bench.service);
  const int64_t events_a = events.load(), tracks_a = tracks.load();
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(bench.seconds * 1000)));
  const Snapshot b = Take(cameras, *bench.service);
  run.events = events.load() - events_a;
  run.tracks = tracks.load() - tracks_a;
  run.min_fps = 1e9;
  for (const auto& camera : cameras) {
    const api::CameraHealth h = camera->Health();
    run.min_fps = std::min(run.min_fps, h.fps);
    run.not_connected += !h.connected;
  }
  const double stop_start = WallMs();
  for (auto& camera : cameras) camera->Stop();
  run.stop_ms = WallMs() - stop_start;
  cameras.clear();
  index->reset();
  std::error_code error;
  fs::remove_all(data_dir, error);

  run.seconds = (b.wall_ms - a.wall_ms) / 1000.0;
  run.analysed = b.analysed - a.analysed;
  run.dropped = b.frames_dropped - a.frames_dropped;
  run.queue_dropped = b.inference.rejected - a.inference.rejected;
  run.decoded = run.analysed + (run.dropped - run.queue_dropped);
  run.drop_pct = run.decoded > 0
                     ? 100.0 * static_cast<double>(run.dropped) / static_cast<double>(run.decoded)
                     : 100.0;
  run.realtime = static_cast<double>(run.decoded) / (n * kDetectFps * run.seconds);
  run.packets_dropped = b.packets_dropped - a.packets_dropped;
  run.segments = b.segments - a.segments;
  run.reconnects = b.reconnects;
  const double cpu_ms = b.cpu_ms - a.cpu_ms;
  run.cpu_ms_per_cam_s = cpu_ms / (n * run.seconds);
  run.cpu_util = cpu_ms / (b.wall_ms - a.wall_ms) / std::thread::hardware_concurrency();
  run.images = b.inference.images - a.inference.images;
  run.batches = b.inference.batches - a.inference.batches;
  const double inference_ms = b.inference.inference_ms - a.inference.inference_ms;
  run.detector_busy = inference_ms / (b.wall_ms - a.wall_ms);
  run.detector_wall_ms_per_image =
      run.images > 0 ? inference_ms / static_cast<double>(run.images) : 0;
  run.inference_cpu_share = static_cast<double>(run.images) * bench.infer_cpu_ms / cpu_ms;
  run.rss_after_mb = RssMb();
  run.threads_after = ThreadCount();
  run.load_after = LoadAverage();
  run.pass =
      run.drop_pct < kPassDropPct && run.packets_dropped == 0 && run.realtime >= kMinRealtime;
  return run;
}

nlohmann::json ToJson(const Run& r) {
  return {{"series", r.series},
          {"cameras", r.cameras},
          {"seconds", r.seconds},
          {"detect_frames_analysed", r.analysed},
          {"detect_frames_decoded", r.decoded},
          {"detect_frames_dropped", r.dropped},
          {"detect_frames_dropped_by_inference_queue", r.queue_dropped},
          {"dropped_pct", r.drop_pct},
          {"realtime", r.realtime},
          {"packets_dropped", r.packets_dropped},
          {"segments_closed", r.segments},
          {"cpu_ms_per_camera_s", r.cpu_ms_per_cam_s},
          {"decode_cpu_ms_per_camera_s", r.decode_ms_per_cam_s},
          {"cpu_to_decode_ratio", r.cpu_ms_per_cam_s / r.decode_ms_per_cam_s},
          {"cpu_utilisation", r.cpu_util},
          {"images_inferred", r.images},
          {"batches", r.batches},
          {"detector_busy", r.detector_busy},
          {"detector_wall_ms_per_image", r.detector_wall_ms_per_image},
          {"inference_cpu_share", r.inference_cpu_share},
          {"events", r.events},
          {"tracks", r.tracks},
          {"reconnects", r.reconnects},
          {"min_fps", r.min_fps},
          {"not_connected", r.not_connected},
          {"stop_ms", r.stop_ms},
          {"rss_before_mb", r.rss_before_mb},
          {"rss_after_mb", r.rss_after_mb},
          {"threads_before", r.threads_before},
          {"threads_after", r.threads_after},
          {"load_before", r.load_before},
          {"load_after", r.load_after},
          {"pass", r.pass}};
}

void PrintHeader() {
  std::printf("%-7s %4s %7s %7s %6s %5s %5s %5s %8s %5s %5s %5s %5s %6s %6s %5s %4s %5s %5s %4s\n",
              "input", "cams", "analysd", "dropped", "drop%", "queue", "rt", "pkts", "ms/cam-s",
              "xdec", "util", "batch", "busy", "ms/img", "infer%", "RSS", "thr+", "stop", "load",
              "ok");
}

void PrintRow(const Run& r) {
  std::printf(
      "%-7s %4d %7lld %7lld %6.2f %5lld %5.2f %5lld %8.1f %5.1f %5.2f %5.2f %5.2f %6.1f %6.0f "
      "%5.0f %4d %5.2f %5.1f %4s\n",
      r.series.c_str(), r.cameras, static_cast<long long>(r.analysed),
      static_cast<long long>(r.dropped), r.drop_pct, static_cast<long long>(r.queue_dropped),
      r.realtime, static_cast<long long>(r.packets_dropped), r.cpu_ms_per_cam_s,
      r.cpu_ms_per_cam_s / r.decode_ms_per_cam_s, r.cpu_util,
      r.batches > 0 ? static_cast<double>(r.images) / static_cast<double>(r.batches) : 0.0,
      r.detector_busy, r.detector_wall_ms_per_image, 100.0 * r.inference_cpu_share, r.rss_after_mb,
      r.threads_after - r.threads_before, r.stop_ms / 1000.0, r.load_after, r.pass ? "yes" : "NO");
  std::fflush(stdout);
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    out.push_back(std::max(1, std::atoi(std::string(part).c_str())));
  }
  return out;
}

// 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, ...
std::vector<int> DefaultCounts(int max_cameras) {
  std::vector<int> out;
  for (int n = 1; n <= max_cameras;) {
    out.push_back(n);
    n = n < 4 ? n + 1 : (n & (n - 1)) == 0 ? n + n / 2 : n / 3 * 4;
  }
  return out;
}

int Main(int argc, char** argv) {
  Bench bench;
  int repeat = 1;
  int max_cameras = 64;
  double budget_s = 300;
  bool quick = false, mix = false, only_mix = false, json = false, linear = false;
  std::vector<int> counts;
  std::vector<std::string> wanted = {"vtest", "person"};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--seconds" && has_value) {
      bench.seconds = std::clamp(std::atof(argv[++i]), 2.0, 3600.0);
    } else if (arg == "--warmup" && has_value) {
      bench.warmup_s = std::clamp(std::atof(argv[++i]), 0.0, 600.0);
    } else if (arg == "--repeat" && has_value) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--budget" && has_value) {
      budget_s = std::max(1.0, std::atof(argv[++i]));
    } else if (arg == "--cameras" && has_value) {
      counts = ParseList(argv[++i]);
      linear = true;
    } else if (arg == "--max-cameras" && has_value) {
      max_cameras = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--inputs" && has_value) {
      wanted = absl::StrSplit(argv[++i], ',', absl::SkipEmpty());
    } else if (arg == "--linear") {
      linear = true;
    } else if (arg == "--quick") {
      quick = true;
    } else if (arg == "--mix") {
      mix = true;
    } else if (arg == "--only-mix") {
      mix = only_mix = true;
    } else if (arg == "--json") {
      json = true;
    } else {
      std::fprintf(stderr,
                   "usage: node_bench [--seconds S] [--warmup S] [--repeat R] [--budget S] "
                   "[--quick] [--mix] [--only-mix] [--linear] [--cameras 1,2,4] [--max-cameras N] "
                   "[--inputs vtest,person] [--json]\n");
      return 2;
    }
  }
  if (quick) {
    bench.seconds = 10;
    bench.warmup_s = 2;
    if (counts.empty()) counts = {1, 2};
  }
  if (counts.empty()) counts = DefaultCounts(max_cameras);
  // The product logs each camera's start and stop; keep the table readable.
  spdlog::set_level(spdlog::level::warn);

  for (const std::string& name : wanted) {
    std::optional<std::string> path;
    if (name == "vtest") {
      path = testing::VarData("data/vtest.mp4");
      if (!path)
        std::fprintf(stderr, "skipping vtest: var/data/vtest.mp4 absent (tools/setup.sh)\n");
    } else if (name == "person") {
      path = testing::SharedData("video/one-by-one-person-detection.mp4");
      if (!path) {
        std::fprintf(stderr,
                     "skipping person: ../shared/data/video/one-by-one-person-detection.mp4 "
                     "absent (see ../shared/data/PROVENANCE.md)\n");
      }
    } else {
      std::fprintf(stderr, "unknown input '%s' (vtest, person)\n", name.c_str());
      return 2;
    }
    if (path) bench.inputs.push_back({name, fs::weakly_canonical(*path).string()});
  }
  if (bench.inputs.empty()) return std::fprintf(stderr, "no input present\n"), 1;
  if (mix && bench.inputs.size() < 2) {
    std::fprintf(stderr, "--mix needs both inputs; mixed series skipped\n");
    mix = only_mix = false;
  }

  const unsigned cores = std::thread::hardware_concurrency();
  auto specs = infer::LoadManifest(infer::DefaultManifestPath(), infer::DefaultModelsDir());
  if (!specs.ok()) return std::fprintf(stderr, "%s\n", specs.status().ToString().c_str()), 1;
  auto spec = infer::FindModel(*specs, "nanodet-coco");
  if (!spec.ok()) return std::fprintf(stderr, "%s\n", spec.status().ToString().c_str()), 1;
  // As the server: default detector options (OpenVINO picks its threads), one service.
  auto detector = infer::OpenVinoDetector::Create(*spec, infer::DetectorOptions{});
  if (!detector.ok()) return std::fprintf(stderr, "%s\n", detector.status().ToString().c_str()), 1;
  std::shared_ptr<Detector> shared = *std::move(detector);
  auto service = infer::InferenceService::Create(shared, {});
  if (!service.ok()) return std::fprintf(stderr, "%s\n", service.status().ToString().c_str()), 1;
  bench.service = service->get();

  // Detector cost per inference (a 360p frame letterboxed to the model input), same run, the
  // process otherwise idle: batch 1 and batch 4 (what the service merges under load).
  cv::Mat probe(kDetectHeight, 640, CV_8UC3, cv::Scalar(90, 120, 150));
  auto infer_cost = [&](int batch, int runs) {
    std::vector<cv::Mat> images(static_cast<size_t>(batch), probe);
    for (int i = 0; i < 3; ++i) (void)shared->DetectBatch(images);
    const double cpu = CpuMs(), wall = WallMs();
    for (int i = 0; i < runs; ++i) (void)shared->DetectBatch(images);
    return std::pair{(CpuMs() - cpu) / (runs * batch), (WallMs() - wall) / (runs * batch)};
  };
  const auto [cpu1, wall1] = infer_cost(1, 40);
  const auto [cpu4, wall4] = infer_cost(4, 10);
  bench.infer_cpu_ms = cpu1;

  for (Input& in : bench.inputs) {
    auto decode = MeasureDecode(in.path, 2);
    if (!decode.ok()) return std::fprintf(stderr, "%s\n", decode.status().ToString().c_str()), 1;
    in.decode_ms_per_cam_s = *decode;
  }

  nlohmann::json report = {
      {"machine",
       {{"cores", cores}, {"load_average_at_start", LoadAverage()}, {"rss_mb_at_start", RssMb()}}},
      {"seconds", bench.seconds},
      {"warmup_s", bench.warmup_s},
      {"repeat", repeat},
      {"detector",
       {{"model", "nanodet-coco"},
        {"cpu_ms_per_inference_batch1", cpu1},
        {"wall_ms_per_inference_batch1", wall1},
        {"cpu_ms_per_image_batch4", cpu4},
        {"wall_ms_per_image_batch4", wall4}}},
      {"inputs", nlohmann::json::array()},
      {"runs", nlohmann::json::array()},
      {"capacity", nlohmann::json::object()}};
  if (!json) {
    std::printf("node_bench: %u cores, load average %.2f; %.0f s per run after %.0f s warm-up\n",
                cores, LoadAverage(), bench.seconds, bench.warmup_s);
    std::printf(
        "detector nanodet-coco (OpenVINO threads auto): %.1f CPU-ms / %.1f wall-ms per "
        "inference at batch 1, %.1f / %.1f per image at batch 4\n",
        cpu1, wall1, cpu4, wall4);
  }
  for (const Input& in : bench.inputs) {
    report["inputs"].push_back({{"name", in.name},
                                {"path", fs::path(in.path).filename().string()},
                                {"decode_cpu_ms_per_camera_s", in.decode_ms_per_cam_s}});
    if (!json) {
      std::printf("baseline %s (%s): decode only at %.0f fps, %d px high: %.1f CPU-ms/cam-s\n",
                  in.name.c_str(), fs::path(in.path).filename().c_str(), kDetectFps, kDetectHeight,
                  in.decode_ms_per_cam_s);
    }
  }
  if (!json) {
    std::printf(
        "\ncolumns: detect frames analysed and dropped (read-ahead + inference queue) in the "
        "window, drop%% of frames decoded for analytics, of which refused by the inference "
        "queue; rt = decoded / real time; recording packets dropped; process CPU-ms per "
        "camera-second and its ratio to decode only; CPU utilisation of all cores; mean batch; "
        "detector busy fraction; detector wall-ms per image; inference share of CPU (probe "
        "cost x images); RSS MB after stop; load average\n\n");
    PrintHeader();
  }

  struct Series {
    std::string name;
    std::vector<const Input*> pattern;  // Camera i uses pattern[i % size].
  };
  std::vector<Series> series;
  if (!only_mix) {
    for (const Input& in : bench.inputs) series.push_back({in.name, {&in}});
  }
  if (mix) series.push_back({"mix", {&bench.inputs[0], &bench.inputs[1]}});

  const double total_start = WallMs();
  for (size_t si = 0; si < series.size(); ++si) {
    const Series& s = series[si];
    // What is left of the budget, shared by the series still to run.
    const double series_budget_ms =
        (budget_s * 1000.0 - (WallMs() - total_start)) / static_cast<double>(series.size() - si);
    int capacity = 0;
    bool limit_reached = false;  // A run failed: capacity is exact, not a lower bound.
    double cpu_at_capacity = 0;
    const double series_start = WallMs();
    // Search over `counts`: linear (every entry until one drops > 5 %), or by doubling N
    // until a run fails and then bisecting between the last pass and the first failure.
    int pass_i = -1, fail_i = static_cast<int>(counts.size());
    int i = 0;
    while (i >= 0 && i < static_cast<int>(counts.size())) {
      const int n = counts[static_cast<size_t>(i)];
      // Each run costs about warm-up + seconds + a second of start and stop, per repetition.
      const double run_ms = repeat * (bench.warmup_s + bench.seconds + 1.0) * 1000.0;
      if (WallMs() - series_start + run_ms > series_budget_ms && i != 0) break;
      std::vector<const Input*> per_camera;
      for (int c = 0; c < n; ++c) {
        per_camera.push_back(s.pattern[static_cast<size_t>(c) % s.pattern.size()]);
      }
      std::optional<Run> best;
      for (int r = 0; r < repeat; ++r) {
        absl::StatusOr<Run> run = RunOnce(bench, s.name, per_camera);
        if (!run.ok()) {
          std::fprintf(stderr, "%s x%d: %s\n", s.name.c_str(), n, run.status().ToString().c_str());
          return 1;
        }
        // Keep the least disturbed run: fewest drops, then least CPU.
        if (!best || run->drop_pct < best->drop_pct ||
            (run->drop_pct == best->drop_pct && run->cpu_ms_per_cam_s < best->cpu_ms_per_cam_s)) {
          best = *run;
        }
      }
      report["runs"].push_back(ToJson(*best));
      if (!json) PrintRow(*best);
      if (best->pass && n > capacity) {
        capacity = n;
        cpu_at_capacity = best->cpu_ms_per_cam_s;
      }
      if (!best->pass) limit_reached = true;
      if (linear) {
        if (best->drop_pct > kStopDropPct || best->packets_dropped > 0 || best->realtime < 0.9) {
          break;
        }
        ++i;
        continue;
      }
      if (best->pass) {
        pass_i = std::max(pass_i, i);
      } else {
        fail_i = std::min(fail_i, i);
      }
      if (fail_i - pass_i <= 1) break;
      if (fail_i == static_cast<int>(counts.size())) {
        // Still passing: the first count at least twice this one.
        int next = i + 1;
        while (next < fail_i && counts[static_cast<size_t>(next)] < 2 * n) ++next;
        i = std::min(next, fail_i - 1);
      } else {
        i = (pass_i + fail_i) / 2;
      }
    }
    // What the same per-camera CPU would allow if this process had every core to itself.
    const double projected =
        cpu_at_capacity > 0 ? 1000.0 * static_cast<double>(cores) / cpu_at_capacity : 0;
    report["capacity"][s.name] = {{"cameras", capacity},
                                  {"lower_bound", !limit_reached},
                                  {"cpu_ms_per_camera_s", cpu_at_capacity},
                                  {"projected_cameras_all_cores", projected}};
    if (!json) {
      std::printf(
          "  -> %s: largest N with < %.0f %% dropped detect frames, 0 dropped packets, "
          "real time: %s%d%s; at its %.0f CPU-ms/cam-s all %u cores would carry %.0f\n",
          s.name.c_str(), kPassDropPct, limit_reached ? "" : ">= ", capacity,
          limit_reached ? "" : " (no failing N within the budget)", cpu_at_capacity, cores,
          projected);
    }
  }
  report["total_wall_s"] = (WallMs() - total_start) / 1000.0;
  report["machine"]["load_average_at_end"] = LoadAverage();
  if (json) {
    std::printf("%s\n", report.dump(2).c_str());
  } else {
    std::printf("\ntotal %.0f s; load average at the end %.2f\n",
                report["total_wall_s"].get<double>(), LoadAverage());
  }
  return 0;
}

}  // namespace
}  // namespace custos

int main(int argc, char** argv) { return custos::Main(argc, argv); }
