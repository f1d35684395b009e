// Recording benchmark: CPU cost of recording one 1080p H.264 camera (demux + remux into
// fragmented MP4 segments through the real SegmentWriter, fsync and index included) against
// demuxing alone and against decoding every frame (the least a re-encoding recorder pays),
// all measured in the same process so the ratios hold on a noisy shared machine; and clip
// export throughput (record::WriteClip). See bench/README.md.
//
// usage: record_bench [--repeat N] [--seconds S] [--json] [--keep] [--input FILE_1080P] [VIDEO]
//   VIDEO defaults to ../shared/data/video/one-by-one-person-detection.mp4. Without --input,
//   a 1080p input is made from VIDEO once by running the `ffmpeg` program (posix_spawnp, no
//   shell; a benchmark input generator, not product code) and kept in
//   $TMPDIR/custos_record_bench/ for the next run. --keep leaves the last run's segments and
//   clip in place (path printed) for inspection.
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ingest/packet_queue.h"
#include "nlohmann/json.hpp"
#include "record/clip_writer.h"
#include "record/segment_index.h"
#include "record/segment_writer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
}

extern char** environ;

namespace custos {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kWallOriginMs = 1'700'000'000'000;

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

// Runs `argv` (no shell) and waits for it.
absl::Status Spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (rc != 0) return absl::UnavailableError(absl::StrCat("cannot run ", argv[0], ": ", rc));
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(argv[0], " failed (status ", status, ")"));
  }
  return absl::OkStatus();
}

// A 1080p25 H.264 camera-like stream from `video`: upscaled, with temporal noise like a
// sensor's so every frame carries bits, High profile, no B-frames, a keyframe every 2 s,
// about 4 Mbit/s.
absl::StatusOr<std::string> Make1080p(const std::string& video, int seconds) {
  const char* tmp = std::getenv("TMPDIR");
  const fs::path dir = fs::path(tmp != nullptr ? tmp : "/tmp") / "custos_record_bench";
  std::error_code error;
  fs::create_directories(dir, error);
  const fs::path out =
      dir / absl::StrCat(fs::path(video).stem().string(), "_1080p25_", seconds, "s.mp4");
  if (fs::exists(out, error)) return out.string();
  const fs::path part = out.string() + ".part.mp4";
  std::fprintf(stderr, "making the 1080p input %s with ffmpeg (once)...\n", out.c_str());
  absl::Status status = Spawn({"ffmpeg",
                               "-nostdin",
                               "-loglevel",
                               "error",
                               "-y",
                               "-t",
                               std::to_string(seconds),
                               "-i",
                               video,
                               "-an",
                               "-vf",
                               "fps=25,scale=1920:1080:flags=bicubic,noise=alls=6:allf=t",
                               "-c:v",
                               "libx264",
                               "-preset",
                               "superfast",
                               "-profile:v",
                               "high",
                               "-bf",
                               "0",
                               "-g",
                               "50",
                               "-keyint_min",
                               "50",
                               "-sc_threshold",
                               "0",
                               "-b:v",
                               "4M",
                               "-maxrate",
                               "4M",
                               "-bufsize",
                               "8M",
                               "-pix_fmt",
                               "yuv420p",
                               part.string()});
  if (!status.ok()) return status;
  fs::rename(part, out, error);
  if (error) return absl::InternalError(error.message());
  return out.string();
}

struct InputCloser {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};

// Demuxes every video packet of `path` and gives it to `on_packet` (with its stream).
absl::Status Demux(const std::string& path,
                   const std::function<absl::Status(AVPacket*, AVStream*)>& on_packet) {
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, path.c_str(), nullptr, nullptr) < 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open ", path));
  }
  std::unique_ptr<AVFormatContext, InputCloser> format(raw);
  const int video = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video < 0) return absl::InvalidArgumentError(absl::StrCat("no video in ", path));
  AVPacket* packet = av_packet_alloc();
  absl::Status status;
  while (status.ok() && av_read_frame(format.get(), packet) >= 0) {
    if (packet->stream_index == video) status = on_packet(packet, format->streams[video]);
    av_packet_unref(packet);
  }
  av_packet_free(&packet);
  return status;
}

struct Stage {
  double cpu_ms = 0;
  double wall_ms = 0;
  int64_t packets = 0;
  int64_t bytes = 0;
  double video_s = 0;
};

absl::StatusOr<Stage> DemuxOnly(const std::string& path) {
  Stage stage;
  const double cpu = CpuMs();
  const double wall = WallMs();
  int64_t end_pts_ms = 0;
  absl::Status status = Demux(path, [&](AVPacket* p, AVStream* s) {
    ++stage.packets;
    stage.bytes += p->size;
    end_pts_ms = std::max(end_pts_ms, av_rescale_q(p->pts + p->duration, s->time_base, {1, 1000}));
    return absl::OkStatus();
  });
  stage.cpu_ms = CpuMs() - cpu;
  stage.wall_ms = WallMs() - wall;
  stage.video_s = static_cast<double>(end_pts_ms) / 1000.0;
  if (!status.ok()) return status;
  return stage;
}

// Demux + SegmentWriter::Write of every packet, as the recording thread does (a reference to
// the demuxer's packet, its stream parameters; segments of 10 s, fragments of 1 s, the
// index in SQLite, every closed segment fsynced).
absl::StatusOr<Stage> DemuxAndRecord(const std::string& path, const std::string& data_dir,
                                     record::SegmentIndex* index) {
  record::SegmentWriterOptions options;
  options.data_dir = data_dir;
  options.camera = "bench-1080p";
  auto writer = record::SegmentWriter::Create(options, index);
  if (!writer.ok()) return writer.status();
  std::shared_ptr<ingest::StreamParameters> params;
  Stage stage;
  const double cpu = CpuMs();
  const double wall = WallMs();
  absl::Status status = Demux(path, [&](AVPacket* p, AVStream* s) -> absl::Status {
    if (params == nullptr) {
      params = std::make_shared<ingest::StreamParameters>();
      avcodec_parameters_copy(params->codecpar, s->codecpar);
      params->time_base = s->time_base;
      params->codec = avcodec_get_name(s->codecpar->codec_id);
    }
    ingest::EncodedPacket packet;
    packet.packet.reset(av_packet_alloc());
    av_packet_ref(packet.packet.get(), p);
    packet.stream = params;
    packet.wall_ms = kWallOriginMs + av_rescale_q(p->pts, s->time_base, {1, 1000});
    ++stage.packets;
    stage.bytes += p->size;
    return (*writer)->Write(packet);
  });
  if (status.ok()) status = (*writer)->CloseSegment();
  stage.cpu_ms = CpuMs() - cpu;
  stage.wall_ms = WallMs() - wall;
  if (!status.ok()) return status;
  return stage;
}

// Demux + decode of every frame at full resolution, one decoder thread (per-core cost).
absl::StatusOr<Stage> DemuxAndDecode(const std::string& path) {
  std::unique_ptr<AVCodecContext, void (*)(AVCodecContext*)> decoder(
      nullptr, [](AVCodecContext* p) { avcodec_free_context(&p); });
  AVFrame* frame = av_frame_alloc();
  Stage stage;
  const double cpu = CpuMs();
  const double wall = WallMs();
  auto drain = [&] {
    while (avcodec_receive_frame(decoder.get(), frame) == 0) {
      ++stage.packets;
      av_frame_unref(frame);
    }
  };
  absl::Status status = Demux(path, [&](AVPacket* p, AVStream* s) -> absl::Status {
    if (decoder == nullptr) {
      const AVCodec* codec = avcodec_find_decoder(s->codecpar->codec_id);
      decoder.reset(avcodec_alloc_context3(codec));
      avcodec_parameters_to_context(decoder.get(), s->codecpar);
      decoder->thread_count = 1;
      if (avcodec_open2(decoder.get(), codec, nullptr) < 0) {
        return absl::InternalError("cannot open the decoder");
      }
    }
    stage.bytes += p->size;
    if (avcodec_send_packet(decoder.get(), p) < 0) return absl::DataLossError("decode error");
    drain();
    return absl::OkStatus();
  });
  if (decoder != nullptr) {
    avcodec_send_packet(decoder.get(), nullptr);
    drain();
  }
  stage.cpu_ms = CpuMs() - cpu;
  stage.wall_ms = WallMs() - wall;
  av_frame_free(&frame);
  if (!status.ok()) return status;
  return stage;
}

// Exports everything recorded as one clip.
absl::StatusOr<Stage> ExportClip(record::SegmentIndex& index, const std::string& out) {
  std::error_code error;
  fs::remove(out, error);
  Stage stage;
  const double cpu = CpuMs();
  const double wall = WallMs();
  absl::StatusOr<record::ClipInfo> info =
      record::WriteClip(index, "bench-1080p", kWallOriginMs, kWallOriginMs + 3'600'000, out);
  stage.cpu_ms = CpuMs() - cpu;
  stage.wall_ms = WallMs() - wall;
  if (!info.ok()) return info.status();
  stage.packets = info->packets;
  stage.bytes = info->bytes;
  stage.video_s = static_cast<double>(info->end_ms - info->start_ms) / 1000.0;
  return stage;
}

void KeepBest(const Stage& run, int r, Stage& best) {
  if (r == 0 || run.cpu_ms < best.cpu_ms) best = run;
}

int Main(int argc, char** argv) {
  int repeat = 1;
  int seconds = 60;
  bool json = false;
  bool keep = false;
  std::string input;
  std::string video;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::clamp(std::atoi(argv[++i]), 5, 3600);
    } else if (std::strcmp(argv[i], "--input") == 0 && i + 1 < argc) {
      input = argv[++i];
    } else if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (std::strcmp(argv[i], "--keep") == 0) {
      keep = true;
    } else {
      video = argv[i];
    }
  }
  av_log_set_level(AV_LOG_ERROR);
  if (input.empty()) {
    if (video.empty()) {
      video = (fs::path(CUSTOS_SOURCE_DIR) / "../shared/data/video/one-by-one-person-detection.mp4")
                  .string();
    }
    if (!fs::exists(video)) {
      std::fprintf(stderr, "%s not present (see ../shared/data/PROVENANCE.md)\n", video.c_str());
      return 1;
    }
    auto made = Make1080p(fs::weakly_canonical(video).string(), seconds);
    if (!made.ok()) return std::fprintf(stderr, "%s\n", made.status().ToString().c_str()), 1;
    input = *made;
  }

  Stage demux, record, decode, clip;
  int64_t segments = 0;
  for (int r = 0; r < repeat; ++r) {
    const char* tmp = std::getenv("TMPDIR");
    const fs::path data_dir = fs::path(tmp != nullptr ? tmp : "/tmp") /
                              absl::StrCat("custos_record_bench_run_", getpid());
    std::error_code error;
    fs::remove_all(data_dir, error);
    fs::create_directories(data_dir, error);
    auto index = record::SegmentIndex::Open(data_dir.string());
    if (!index.ok()) return std::fprintf(stderr, "%s\n", index.status().ToString().c_str()), 1;

    // Warm the page cache so every stage reads the input from memory.
    (void)DemuxOnly(input);
    auto d = DemuxOnly(input);
    auto rec = DemuxAndRecord(input, data_dir.string(), index->get());
    auto dec = DemuxAndDecode(input);
    if (!d.ok() || !rec.ok() || !dec.ok()) {
      const absl::Status s = !d.ok() ? d.status() : !rec.ok() ? rec.status() : dec.status();
      return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
    }
    auto c = ExportClip(**index, (data_dir / "clip.mp4").string());
    if (!c.ok()) return std::fprintf(stderr, "%s\n", c.status().ToString().c_str()), 1;
    rec->video_s = dec->video_s = d->video_s;
    KeepBest(*d, r, demux);
    KeepBest(*rec, r, record);
    KeepBest(*dec, r, decode);
    KeepBest(*c, r, clip);
    auto rows = (*index)->All();
    segments = rows.ok() ? static_cast<int64_t>(rows->size()) : 0;
    index->reset();
    if (keep && r + 1 == repeat) {
      std::fprintf(stderr, "kept %s\n", data_dir.c_str());
    } else {
      fs::remove_all(data_dir, error);
    }
  }

  const double video_s = demux.video_s;
  auto per_cam_s = [&](const Stage& s) { return s.cpu_ms / video_s; };
  const double demux_ms = per_cam_s(demux);
  const double record_ms = per_cam_s(record);
  const double decode_ms = per_cam_s(decode);
  const double clip_speed = clip.video_s / (clip.cpu_ms / 1000.0);
  const double mbit_s = static_cast<double>(demux.bytes) * 8 / 1e6 / video_s;
  nlohmann::json report = {{"input", fs::path(input).filename().string()},
                           {"video_s", video_s},
                           {"packets", demux.packets},
                           {"mbit_per_s", mbit_s},
                           {"segments", segments},
                           {"demux_cpu_ms_per_camera_s", demux_ms},
                           {"record_cpu_ms_per_camera_s", record_ms},
                           {"decode_cpu_ms_per_camera_s", decode_ms},
                           {"record_wall_ms_per_camera_s", record.wall_ms / video_s},
                           {"record_to_decode_ratio", record_ms / decode_ms},
                           {"record_to_demux_ratio", record_ms / demux_ms},
                           {"cameras_per_core_recording", 1000.0 / record_ms},
                           {"cameras_per_core_decoding", 1000.0 / decode_ms},
                           {"clip_export_video_s_per_cpu_s", clip_speed},
                           {"clip_export_cpu_ms", clip.cpu_ms},
                           {"clip_export_wall_ms", clip.wall_ms},
                           {"clip_bytes", clip.bytes},
                           {"repeat", repeat}};
  if (json) {
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }
  std::printf("input: %s, %.1f s, %lld packets, %.2f Mbit/s, 1 decoder thread; best of %d\n\n",
              fs::path(input).filename().c_str(), video_s, static_cast<long long>(demux.packets),
              mbit_s, repeat);
  std::printf("%-44s %12s %12s %10s\n", "stage (1080p25 H.264)", "CPU-ms/cam-s", "wall-ms/cam-s",
              "cams/core");
  auto row = [&](const char* name, const Stage& s) {
    std::printf("%-44s %12.2f %12.2f %10.0f\n", name, per_cam_s(s), s.wall_ms / video_s,
                1000.0 / per_cam_s(s));
  };
  row("(1) demux only", demux);
  row("(2) demux + remux into segments (recording)", record);
  row("(3) demux + decode every frame (baseline)", decode);
  std::printf("\nrecord / decode  %.3f   (recording costs %.1f%% of decoding)\n",
              record_ms / decode_ms, 100.0 * record_ms / decode_ms);
  std::printf("record / demux   %.2f\n", record_ms / demux_ms);
  std::printf("cameras per core for recording: %.0f (decoding: %.1f)\n", 1000.0 / record_ms,
              1000.0 / decode_ms);
  std::printf(
      "(4) clip export: %.1f s of video in %.1f CPU-ms (%.1f wall-ms): %.0f s of video "
      "per CPU-second\n",
      clip.video_s, clip.cpu_ms, clip.wall_ms, clip_speed);
  return 0;
}

}  // namespace
}  // namespace custos

int main(int argc, char** argv) { return custos::Main(argc, argv); }
