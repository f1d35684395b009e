// Privacy export benchmark: what blurring faces and masking licence plates cost per second of
// exported video, as a ratio to the same export without blurring (decode + watermark + libx264
// encode + hash), all measured in the same process. See docs/privacy.md.
//
// usage: privacy_bench [--repeat N] [--seconds S] [VIDEO]
//   VIDEO defaults to ../shared/data/video/one-by-one-person-detection.mp4; its first S
//   seconds (default 30) are cut (stream copy, as record::WriteClip does) into a temporary
//   MP4 that every export reads. CPU time is the process's (all threads: x264's and
//   OpenVINO's included); with --repeat N the least of N runs is kept. Also prints the text
//   detector's CPU time per call on a 1280x720 and a 640x360 frame (what one plate sample
//   costs in an export and in live view).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <string>

#include "core/testing.h"
#include "face/face_models.h"
#include "infer/model_manifest.h"
#include "plate/ocr_model.h"
#include "privacy/clip_export.h"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/mathematics.h>
}

namespace custos {
namespace {

namespace fs = std::filesystem;

double CpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_nsec) / 1e6;
}

// Stream copy of the first `seconds` of `in`'s video into a fast-start MP4.
bool Cut(const std::string& in, double seconds, const std::string& out) {
  AVFormatContext* input = nullptr;
  if (avformat_open_input(&input, in.c_str(), nullptr, nullptr) < 0) return false;
  avformat_find_stream_info(input, nullptr);
  const int video = av_find_best_stream(input, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video < 0) return false;
  const AVRational tb = input->streams[video]->time_base;
  AVFormatContext* output = nullptr;
  avformat_alloc_output_context2(&output, nullptr, "mp4", out.c_str());
  AVStream* s = avformat_new_stream(output, nullptr);
  avcodec_parameters_copy(s->codecpar, input->streams[video]->codecpar);
  s->codecpar->codec_tag = 0;
  s->time_base = tb;
  if (avio_open(&output->pb, out.c_str(), AVIO_FLAG_WRITE) < 0) return false;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags", "+faststart", 0);
  if (avformat_write_header(output, &opts) < 0) return false;
  av_dict_free(&opts);
  AVPacket* packet = av_packet_alloc();
  const int64_t end = av_rescale_q(static_cast<int64_t>(seconds * 1000), {1, 1000}, tb);
  while (av_read_frame(input, packet) >= 0) {
    if (packet->stream_index == video && packet->pts < end) {
      packet->stream_index = 0;
      packet->pos = -1;
      av_packet_rescale_ts(packet, tb, s->time_base);
      av_interleaved_write_frame(output, packet);
    }
    av_packet_unref(packet);
  }
  av_packet_free(&packet);
  av_write_trailer(output);
  avio_closep(&output->pb);
  avformat_free_context(output);
  avformat_close_input(&input);
  return true;
}

struct Run {
  double cpu_ms = 1e300;
  privacy::ExportResult result;
};

int Main(int argc, char** argv) {
  int repeat = 1;
  double seconds = 30;
  std::string video;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "usage: privacy_bench [--repeat N] [--seconds S] [VIDEO]\n");
      return 2;
    } else {
      video = argv[i];
    }
  }
  if (video.empty()) {
    auto shared = testing::SharedData("video/one-by-one-person-detection.mp4");
    if (!shared) {
      std::fprintf(stderr, "no VIDEO given and ../shared/data/video is missing\n");
      return 2;
    }
    video = *shared;
  }
  av_log_set_level(AV_LOG_ERROR);
  const fs::path dir = testing::TempDir("custos_privacy_bench");
  const std::string clip = (dir / "clip.mp4").string();
  if (!Cut(video, seconds, clip)) {
    std::fprintf(stderr, "cannot cut %s\n", video.c_str());
    return 1;
  }
  auto model = face::LoadFaceModel(infer::DefaultManifestPath(), infer::DefaultModelsDir(),
                                   face::kDefaultDetector);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  face::FaceDetectorOptions detector_options;
  detector_options.score_threshold = 0.3f;
  auto detector = face::FaceDetector::Create(*model, detector_options);
  if (!detector.ok()) {
    std::fprintf(stderr, "%s\n", detector.status().ToString().c_str());
    return 1;
  }

  auto text_model = plate::LoadOcrModel(infer::DefaultManifestPath(), infer::DefaultModelsDir(),
                                        plate::kDefaultTextDetector);
  if (!text_model.ok()) {
    std::fprintf(stderr, "%s\n", text_model.status().ToString().c_str());
    return 1;
  }
  auto text_detector = plate::TextDetector::Create(*text_model, {});
  if (!text_detector.ok()) {
    std::fprintf(stderr, "%s\n", text_detector.status().ToString().c_str());
    return 1;
  }

  // One plate sample: the text detector on the clip's first frame scaled to an export's
  // 1280x720 and to the live view's 640x360.
  cv::Mat first;
  {
    cv::VideoCapture capture(clip, cv::CAP_FFMPEG);
    if (!capture.read(first)) {
      std::fprintf(stderr, "cannot decode %s\n", clip.c_str());
      return 1;
    }
  }
  double sample_ms[2] = {1e300, 1e300};
  const cv::Size sample_sizes[2] = {{1280, 720}, {640, 360}};
  for (int s = 0; s < 2; ++s) {
    cv::Mat frame;
    cv::resize(first, frame, sample_sizes[s]);
    if (!(*text_detector)->Detect(frame).ok()) return 1;  // Warm-up.
    for (int r = 0; r < 5 * repeat; ++r) {
      const double t0 = CpuMs();
      if (!(*text_detector)->Detect(frame).ok()) return 1;
      sample_ms[s] = std::min(sample_ms[s], CpuMs() - t0);
    }
  }

  struct Variant {
    const char* name;
    bool blur;
    int tile_size_px;
    bool plates;
    int plate_sample_ms;
  };
  const Variant variants[] = {
      {"decode + encode, unblurred (baseline)", false, 0, false, 0},
      {"faces, whole frame only", true, 0, false, 0},
      {"faces, whole frame + 256 px tiles (default)", true, 256, false, 0},
      {"faces + plates, a sample per 200 ms (default)", true, 256, true, 200},
      {"faces + plates, every frame", true, 256, true, 0},
  };
  constexpr int kVariants = static_cast<int>(std::size(variants));
  Run runs[kVariants];
  int n = 0;
  for (int r = 0; r < repeat; ++r) {
    for (int v = 0; v < kVariants; ++v) {
      privacy::ExportOptions options;
      options.export_id = "BENCH";
      options.blur_faces = variants[v].blur;
      options.masker.tile_size_px = variants[v].tile_size_px;
      options.mask_plates = variants[v].plates;
      options.plates.sample_interval_ms = variants[v].plate_sample_ms;
      options.sync = false;
      const std::string out = (dir / ("out" + std::to_string(n++) + ".mp4")).string();
      const double t0 = CpuMs();
      auto result =
          privacy::ExportClip(clip, out, {detector->get(), text_detector->get()}, options);
      const double cpu = CpuMs() - t0;
      if (!result.ok()) {
        std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
        return 1;
      }
      fs::remove(out);
      if (cpu < runs[v].cpu_ms) runs[v] = Run{cpu, *result};
    }
  }
  std::error_code error;
  fs::remove_all(dir, error);

  const double video_s = static_cast<double>(runs[0].result.duration_ms) / 1000;
  std::printf("input: %s, first %.1f s (%lld frames, %dx%d); least of %d runs\n", video.c_str(),
              video_s, static_cast<long long>(runs[0].result.frames_in), runs[0].result.width,
              runs[0].result.height, repeat);
  std::printf("text detector, CPU-ms per call: 1280x720 %.0f, 640x360 %.0f\n", sample_ms[0],
              sample_ms[1]);
  std::printf("%-48s %12s %8s %10s %8s %8s %10s\n", "", "CPU-ms/vid-s", "ratio", "faces", "sampled",
              "plates", "obscured");
  for (int v = 0; v < kVariants; ++v) {
    const privacy::ExportResult& r = runs[v].result;
    std::printf(
        "%-48s %12.0f %7.2fx %10lld %8lld %8lld %10lld\n", variants[v].name,
        runs[v].cpu_ms / video_s, runs[v].cpu_ms / runs[0].cpu_ms,
        static_cast<long long>(r.faces_detected), static_cast<long long>(r.plate_frames_sampled),
        static_cast<long long>(r.plates_detected), static_cast<long long>(r.frames_obscured));
  }
  return 0;
}

}  // namespace
}  // namespace custos

int main(int argc, char** argv) { return custos::Main(argc, argv); }
