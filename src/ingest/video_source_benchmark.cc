// CPU per camera-second of ingest, decode only: the baseline cost of one camera before any
// analytics. Reports cpu_ms_per_camera_s (process CPU time, all threads) and, when the
// FFmpeg baseline ran first in the same process, vs_decode_all: the ratio to decoding every
// frame with plain libavcodec and no conversion.
//
//   build/src/ingest/ingest_benchmark [--benchmark_filter=...]
//   CUSTOS_TEST_DATA=/path/to/data overrides where the person video is found.
#include <time.h>

#include <string>

#include "benchmark/benchmark.h"
#include "core/testing.h"
#include "custos/clock.h"
#include "ingest/video_source.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace custos::ingest {
namespace {

constexpr int64_t kCameraSeconds = 30;  // Of stream time per iteration.
double baseline_cpu_ms_per_camera_s = 0;

double ProcessCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

std::string PersonVideoOrSkip(benchmark::State& state) {
  const std::optional<std::string> video =
      testing::SharedData("video/one-by-one-person-detection.mp4");
  if (!video) state.SkipWithError("test data missing: video/one-by-one-person-detection.mp4");
  return video.value_or("");
}

void Report(benchmark::State& state, double cpu_ms, bool is_baseline) {
  const double per_camera_s =
      cpu_ms / (static_cast<double>(kCameraSeconds) * static_cast<double>(state.iterations()));
  state.counters["cpu_ms_per_camera_s"] = per_camera_s;
  if (is_baseline) {
    baseline_cpu_ms_per_camera_s = per_camera_s;
  } else if (baseline_cpu_ms_per_camera_s > 0) {
    state.counters["vs_decode_all"] = per_camera_s / baseline_cpu_ms_per_camera_s;
  }
}

// Baseline: demux and decode every frame with libavcodec, one thread, no scaling.
void BM_FfmpegDecodeEveryFrame(benchmark::State& state) {
  const std::string video = PersonVideoOrSkip(state);
  if (video.empty()) return;
  const double cpu_start = ProcessCpuMs();
  for (auto _ : state) {
    AVFormatContext* format = nullptr;
    if (avformat_open_input(&format, video.c_str(), nullptr, nullptr) < 0 ||
        avformat_find_stream_info(format, nullptr) < 0) {
      state.SkipWithError("cannot open the video");
      return;
    }
    const AVCodec* codec = nullptr;
    const int index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    AVCodecContext* decoder = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(decoder, format->streams[index]->codecpar);
    decoder->thread_count = 1;
    avcodec_open2(decoder, codec, nullptr);
    AVPacket* packet = av_packet_alloc();
    AVFrame* frame = av_frame_alloc();
    const AVRational time_base = format->streams[index]->time_base;
    int64_t frames = 0;
    bool done = false;
    while (!done && av_read_frame(format, packet) >= 0) {
      if (packet->stream_index == index) {
        avcodec_send_packet(decoder, packet);
        while (avcodec_receive_frame(decoder, frame) == 0) {
          ++frames;
          done = av_rescale_q(frame->best_effort_timestamp, time_base, {1, 1000}) >=
                 kCameraSeconds * 1000;
          av_frame_unref(frame);
        }
      }
      av_packet_unref(packet);
    }
    benchmark::DoNotOptimize(frames);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&decoder);
    avformat_close_input(&format);
  }
  Report(state, ProcessCpuMs() - cpu_start, /*is_baseline=*/true);
}
BENCHMARK(BM_FfmpegDecodeEveryFrame)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// VideoSource at (detect_fps, detect_height) = (range(0), range(1)); fps 0 = every frame.
void BM_VideoSource(benchmark::State& state) {
  const std::string video = PersonVideoOrSkip(state);
  if (video.empty()) return;
  SourceOptions options;
  options.url = video;
  options.detect_fps = static_cast<double>(state.range(0));
  options.detect_height = static_cast<int>(state.range(1));
  FakeClock clock;
  const double cpu_start = ProcessCpuMs();
  for (auto _ : state) {
    auto source = VideoSource::Open(options, &clock);
    if (!source.ok()) {
      state.SkipWithError(std::string(source.status().message()).c_str());
      return;
    }
    for (;;) {
      absl::StatusOr<Frame> frame = (*source)->Next();
      if (!frame.ok() || frame->pts_ms >= kCameraSeconds * 1000) break;
      benchmark::DoNotOptimize(frame->bgr.data);
    }
  }
  Report(state, ProcessCpuMs() - cpu_start, /*is_baseline=*/false);
}
BENCHMARK(BM_VideoSource)
    ->ArgNames({"fps", "height"})
    ->Args({5, 360})  // The default detect stream.
    ->Args({0, 360})  // Every frame converted.
    ->Args({5, 0})    // Source size.
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime();

// The conversion alone, 768x432 yuv420p -> 640x360 BGR24 (what VideoSource does per emitted
// frame) against scaling in YUV first and converting unscaled (swscale's SIMD path).
struct SwsFixture {
  static constexpr int kSrcWidth = 768, kSrcHeight = 432, kWidth = 640, kHeight = 360;
  SwsFixture() {
    av_image_alloc(src, src_stride, kSrcWidth, kSrcHeight, AV_PIX_FMT_YUV420P, 64);
    av_image_alloc(mid, mid_stride, kWidth, kHeight, AV_PIX_FMT_YUV420P, 64);
    for (int i = 0; i < src_stride[0] * kSrcHeight; ++i) src[0][i] = static_cast<uint8_t>(i);
    for (int i = 0; i < src_stride[1] * kSrcHeight / 2; ++i) {
      src[1][i] = static_cast<uint8_t>(i * 3);
      src[2][i] = static_cast<uint8_t>(i * 5);
    }
  }
  ~SwsFixture() {
    av_freep(&src[0]);
    av_freep(&mid[0]);
  }
  uint8_t* src[4] = {};
  int src_stride[4] = {};
  uint8_t* mid[4] = {};
  int mid_stride[4] = {};
  cv::Mat bgr = cv::Mat(kHeight, kWidth, CV_8UC3);  // Not {}: that is a 3x1 Mat<int>.
  uint8_t* dst[4] = {bgr.data, nullptr, nullptr, nullptr};
  int dst_stride[4] = {static_cast<int>(bgr.step[0]), 0, 0, 0};
};

void BM_SwsOneStep(benchmark::State& state) {
  SwsFixture f;
  SwsContext* sws =
      sws_getContext(f.kSrcWidth, f.kSrcHeight, AV_PIX_FMT_YUV420P, f.kWidth, f.kHeight,
                     AV_PIX_FMT_BGR24, SWS_BILINEAR, nullptr, nullptr, nullptr);
  for (auto _ : state) {
    sws_scale(sws, f.src, f.src_stride, 0, f.kSrcHeight, f.dst, f.dst_stride);
    benchmark::DoNotOptimize(f.bgr.data);
  }
  sws_freeContext(sws);
}
BENCHMARK(BM_SwsOneStep)->Unit(benchmark::kMicrosecond);

void BM_SwsScaleThenConvert(benchmark::State& state) {
  SwsFixture f;
  SwsContext* scale =
      sws_getContext(f.kSrcWidth, f.kSrcHeight, AV_PIX_FMT_YUV420P, f.kWidth, f.kHeight,
                     AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr);
  SwsContext* convert = sws_getContext(f.kWidth, f.kHeight, AV_PIX_FMT_YUV420P, f.kWidth, f.kHeight,
                                       AV_PIX_FMT_BGR24, SWS_BILINEAR, nullptr, nullptr, nullptr);
  for (auto _ : state) {
    sws_scale(scale, f.src, f.src_stride, 0, f.kSrcHeight, f.mid, f.mid_stride);
    sws_scale(convert, f.mid, f.mid_stride, 0, f.kHeight, f.dst, f.dst_stride);
    benchmark::DoNotOptimize(f.bgr.data);
  }
  sws_freeContext(scale);
  sws_freeContext(convert);
}
BENCHMARK(BM_SwsScaleThenConvert)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace custos::ingest
