// Exports of the person video (../shared/data/video/one-by-one-person-detection.mp4, 768x432,
// 10 fps) with the real face detector: the detector must find faces in the input and none
// in the blurred export.
#include "privacy/clip_export.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "core/testing.h"
#include "gtest/gtest.h"
#include "privacy/privacy_test_util.h"
#include "privacy/watermark.h"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>
}

namespace custos::privacy {
namespace {

namespace fs = std::filesystem;

constexpr char kVideo[] = "video/one-by-one-person-detection.mp4";
constexpr char kExportId[] = "01HF3Z9Y5N0000000000000000";

// Copies the video packets of `in` shown in [from_ms, to_ms) into an MP4 (stream copy, from
// the keyframe at or before from_ms, timestamps starting at 0, moov in front): the kind of clip
// record::WriteClip cuts.
void CutClip(const std::string& in, int64_t from_ms, int64_t to_ms, const std::string& out) {
  AVFormatContext* input = nullptr;
  ASSERT_GE(avformat_open_input(&input, in.c_str(), nullptr, nullptr), 0);
  ASSERT_GE(avformat_find_stream_info(input, nullptr), 0);
  const int video = av_find_best_stream(input, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  ASSERT_GE(video, 0);
  const AVStream* ins = input->streams[video];
  const AVRational tb = ins->time_base;
  ASSERT_GE(av_seek_frame(input, video, av_rescale_q(from_ms, {1, 1000}, tb), AVSEEK_FLAG_BACKWARD),
            0);
  AVFormatContext* output = nullptr;
  ASSERT_GE(avformat_alloc_output_context2(&output, nullptr, "mp4", out.c_str()), 0);
  AVStream* outs = avformat_new_stream(output, nullptr);
  ASSERT_GE(avcodec_parameters_copy(outs->codecpar, ins->codecpar), 0);
  outs->codecpar->codec_tag = 0;
  outs->time_base = tb;
  ASSERT_GE(avio_open(&output->pb, out.c_str(), AVIO_FLAG_WRITE), 0);
  AVDictionary* options = nullptr;
  av_dict_set(&options, "movflags", "+faststart", 0);  // As record::WriteClip writes them.
  ASSERT_GE(avformat_write_header(output, &options), 0);
  av_dict_free(&options);
  AVPacket* packet = av_packet_alloc();
  int64_t origin = AV_NOPTS_VALUE;
  while (av_read_frame(input, packet) >= 0) {
    if (packet->stream_index == video) {
      if (origin == AV_NOPTS_VALUE) origin = packet->dts;
      if (av_rescale_q(packet->pts, tb, {1, 1000}) >= to_ms) {
        av_packet_unref(packet);
        break;
      }
      packet->pts -= origin;
      packet->dts -= origin;
      packet->stream_index = 0;
      av_packet_rescale_ts(packet, tb, outs->time_base);
      packet->pos = -1;
      ASSERT_GE(av_interleaved_write_frame(output, packet), 0);
    }
    av_packet_unref(packet);
  }
  av_packet_free(&packet);
  ASSERT_GE(av_write_trailer(output), 0);
  avio_closep(&output->pb);
  avformat_free_context(output);
  avformat_close_input(&input);
}

struct Probe {
  int64_t packets = 0;
  int64_t duration_ms = 0;  // Last pts + duration - first pts.
};

Probe ProbeFile(const std::string& path) {
  Probe p;
  AVFormatContext* input = nullptr;
  if (avformat_open_input(&input, path.c_str(), nullptr, nullptr) < 0) return p;
  avformat_find_stream_info(input, nullptr);
  const int video = av_find_best_stream(input, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const AVRational tb = input->streams[video]->time_base;
  AVPacket* packet = av_packet_alloc();
  int64_t first = INT64_MAX, end = INT64_MIN;
  while (av_read_frame(input, packet) >= 0) {
    if (packet->stream_index == video) {
      ++p.packets;
      first = std::min(first, packet->pts);
      end = std::max(end, packet->pts + packet->duration);
    }
    av_packet_unref(packet);
  }
  av_packet_free(&packet);
  avformat_close_input(&input);
  p.duration_ms = av_rescale_q(end - first, tb, {1, 1000});
  return p;
}

std::string Sha256(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return hex;
}

// Faces `masker` finds in each of `frames`.
std::vector<std::vector<face::FaceBox>> FindFaces(const FaceMasker& masker,
                                                  const std::vector<cv::Mat>& frames) {
  std::vector<std::vector<face::FaceBox>> found;
  for (const cv::Mat& frame : frames) {
    auto faces = masker.Detect(frame);
    EXPECT_TRUE(faces.ok()) << faces.status();
    found.push_back(faces.ok() ? *faces : std::vector<face::FaceBox>{});
  }
  return found;
}

struct Count {
  int frames = 0;
  int faces = 0;
  std::vector<std::string> examples;  // The first few: "frame N: score at [x y w h]".
};

// Counts the boxes of `found` for which `select(frame, box)` holds.
template <typename Select>
Count CountFaces(const std::vector<std::vector<face::FaceBox>>& found, Select select) {
  Count count;
  for (size_t i = 0; i < found.size(); ++i) {
    bool any = false;
    for (const face::FaceBox& f : found[i]) {
      if (!select(i, f)) continue;
      any = true;
      ++count.faces;
      if (count.examples.size() < 8) {
        char text[128];
        std::snprintf(text, sizeof(text), "frame %zu: %.2f at [%.0f %.0f %.0f %.0f]", i, f.score,
                      f.box.x, f.box.y, f.box.width, f.box.height);
        count.examples.emplace_back(text);
      }
    }
    if (any) ++count.frames;
  }
  return count;
}

// 30 s of the video in which people stand at the table, turn and walk (20 s to 50 s).
class ClipExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto video = testing::SharedData(kVideo);
    if (!video) return;
    dir_ = new fs::path(testing::TempDir("privacy-export"));
    CutClip(*video, 20'000, 50'000, (*dir_ / "clip.mp4").string());
    CutClip(*video, 60'000, 65'000, (*dir_ / "short.mp4").string());
  }
  static void TearDownTestSuite() {
    if (dir_ == nullptr) return;
    RemoveTestFiles(dir_->string());  // CUSTOS_KEEP_TEST_FILES=1 keeps the clips and exports.
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (dir_ == nullptr) GTEST_SKIP() << "test data missing: " << kVideo;
  }
  static std::string Path(const std::string& name) { return (*dir_ / name).string(); }
  static ExportOptions Options() {
    ExportOptions o;
    o.export_id = kExportId;
    o.sync = false;
    o.mask_plates = false;  // Faces alone; plates: plate_export_test.cc.
    return o;
  }

  static fs::path* dir_;
};
fs::path* ClipExportTest::dir_ = nullptr;

TEST_F(ClipExportTest, BlurredExportHasNoFaceTheDetectorFindsInTheInput) {
  CUSTOS_REQUIRE_DETECTOR(detector, TestFaceDetector());
  ExportOptions options = Options();
  options.start_utc_ms = 1'700'000'000'000;
  std::vector<std::pair<int64_t, int64_t>> progress;
  options.progress = [&](int64_t done, int64_t total) { progress.emplace_back(done, total); };
  auto result = ExportClip(Path("clip.mp4"), Path("blurred.mp4"), {detector}, options);
  ASSERT_TRUE(result.ok()) << result.status();
  std::printf(
      "export: %lld frames, %lld detections in %lld frames, %lld regions obscured in "
      "%lld frames, %lld bytes\n",
      static_cast<long long>(result->frames_out), static_cast<long long>(result->faces_detected),
      static_cast<long long>(result->frames_with_faces),
      static_cast<long long>(result->regions_obscured),
      static_cast<long long>(result->frames_obscured), static_cast<long long>(result->bytes));

  const std::vector<cv::Mat> in = DecodeAll(Path("clip.mp4"));
  const std::vector<cv::Mat> out = DecodeAll(Path("blurred.mp4"));
  ASSERT_GT(in.size(), 250u);
  ASSERT_EQ(out.size(), in.size());

  // The same detection as the masker's (whole frame and tiles), at its thresholds, on every
  // frame of the input and of the export.
  auto checker = FaceMasker::Create(detector, options.masker);
  ASSERT_TRUE(checker.ok());
  const auto before = FindFaces(**checker, in);
  const auto after = FindFaces(**checker, out);
  const auto all = [](size_t, const face::FaceBox&) { return true; };
  const Count input = CountFaces(before, all);
  std::printf("at the masker's thresholds: input %d detections in %d of %zu frames\n", input.faces,
              input.frames, in.size());
  // The control: the detector does find faces (heads) in the input, so the check can fail.
  EXPECT_GT(input.frames, static_cast<int>(in.size()) / 2);

  // No face found in the input is found again in the export: no detection of the export is
  // the same as one of the same frame of the input (IoU >= 0.3, or its centre inside it).
  const auto same = [](const cv::Rect2f& a, const cv::Rect2f& b) {
    const float inter = (a & b).area();
    const cv::Point2f centre(b.x + b.width / 2, b.y + b.height / 2);
    return inter >= 0.3f * (a.area() + b.area() - inter) || a.contains(centre);
  };
  const Count survivors = CountFaces(after, [&](size_t i, const face::FaceBox& f) {
    for (const face::FaceBox& b : before[i]) {
      if (same(b.box, f.box)) return true;
    }
    return false;
  });
  // The detector does fire there now and then, on the obscured blob itself (a smooth round
  // blob is head-shaped to it): a face survived only where the export still holds detail.
  cv::Mat probe = in[0].clone();
  const cv::Rect band = DrawWatermark(
      probe, WatermarkLines(kExportId, FormatFrameTime(options.start_utc_ms, true), true));
  // Input face boxes measure 34 (median) and at least 3.4 (a 12 px box on a plain floor);
  // in the export the median is 2, the highest 9.4 (a 13 px box where the bilinear ramp
  // between two cell means is steepest).
  constexpr double kDetail = 12;
  int with_detail = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    for (const face::FaceBox& f : after[i]) {
      for (const face::FaceBox& b : before[i]) {
        const cv::Rect box(b.box);
        if (same(b.box, f.box) && (box & band).empty() && Detail(out[i], box) > kDetail) {
          ++with_detail;
          std::printf("  survived with detail %.1f: frame %zu at [%d %d %d %d]\n",
                      Detail(out[i], box), i, box.x, box.y, box.width, box.height);
        }
      }
    }
  }
  std::printf("export: %d detections where the input had a face, in %d frames; %d with detail\n",
              survivors.faces, survivors.frames, with_detail);
  for (const std::string& e : survivors.examples) std::printf("  on a blob: %s\n", e.c_str());
  EXPECT_EQ(with_detail, 0);

  // And directly: inside every box where the input had a face, the export keeps no detail.
  std::vector<double> detail_in, detail_out;
  for (size_t i = 0; i < before.size(); ++i) {
    for (const face::FaceBox& b : before[i]) {
      const cv::Rect box(b.box);
      if (!(box & band).empty()) continue;  // The watermark's text is detail.
      detail_in.push_back(Detail(in[i], box));
      detail_out.push_back(Detail(out[i], box));
      if (detail_out.back() > kDetail) {
        std::printf("  detail %.1f (input %.1f) left at frame %zu [%d %d %d %d], score %.2f\n",
                    detail_out.back(), detail_in.back(), i, box.x, box.y, box.width, box.height,
                    b.score);
      }
    }
  }
  ASSERT_FALSE(detail_in.empty());
  std::sort(detail_in.begin(), detail_in.end());
  std::sort(detail_out.begin(), detail_out.end());
  std::printf(
      "detail in the %zu input face boxes: input median %.1f (min %.1f), export median "
      "%.1f (max %.1f)\n",
      detail_in.size(), detail_in[detail_in.size() / 2], detail_in.front(),
      detail_out[detail_out.size() / 2], detail_out.back());
  EXPECT_LE(detail_out.back(), kDetail);
  // Elsewhere the detector, run this low, also fires on things that are no face: the
  // obscured blobs themselves (a smooth round blob is head-shaped to it), dark clothing and
  // floor texture that scored lower in the input. Reported (docs/privacy.md).
  const Count elsewhere = CountFaces(after, [&](size_t i, const face::FaceBox& f) {
    for (const face::FaceBox& b : before[i]) {
      if (same(b.box, f.box)) return false;
    }
    return true;
  });
  std::printf("export: %d detections elsewhere (not faces: see docs/privacy.md), in %d frames\n",
              elsewhere.faces, elsewhere.frames);
  for (const std::string& e : elsewhere.examples) std::printf("  elsewhere: %s\n", e.c_str());
  EXPECT_LT(elsewhere.frames, static_cast<int>(in.size()));

  // Progress: every frame, against the input's frame count.
  ASSERT_EQ(progress.size(), static_cast<size_t>(result->frames_out));
  EXPECT_EQ(progress.back().first, result->frames_out);
  EXPECT_EQ(progress.back().second, static_cast<int64_t>(in.size()));
}

TEST_F(ClipExportTest, KeepsFrameCountDurationAndHashesTheFile) {
  CUSTOS_REQUIRE_DETECTOR(detector, TestFaceDetector());
  auto result = ExportClip(Path("short.mp4"), Path("hashed.mp4"), {detector}, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  const Probe in = ProbeFile(Path("short.mp4"));
  const Probe out = ProbeFile(Path("hashed.mp4"));
  EXPECT_EQ(out.packets, in.packets);
  EXPECT_EQ(result->frames_out, in.packets);
  EXPECT_NEAR(static_cast<double>(out.duration_ms), static_cast<double>(in.duration_ms), 100);
  EXPECT_NEAR(static_cast<double>(result->duration_ms), static_cast<double>(in.duration_ms), 100);
  EXPECT_EQ(result->sha256_hex, Sha256(Path("hashed.mp4")));
  EXPECT_EQ(result->bytes, static_cast<int64_t>(fs::file_size(Path("hashed.mp4"))));
  EXPECT_FALSE(fs::exists(Path("hashed.mp4.part")));
  // Fast start: the moov box comes before the mdat.
  std::ifstream file(Path("hashed.mp4"), std::ios::binary);
  std::string head(4096, '\0');
  file.read(head.data(), static_cast<std::streamsize>(head.size()));
  EXPECT_LT(head.find("moov"), head.find("mdat"));
}

TEST_F(ClipExportTest, UnblurredExportIsWatermarkedAndOtherwiseTheInput) {
  // No detector: the unblurred mode must not need one.
  auto result = ExportClip(Path("short.mp4"), Path("unblurred.mp4"), {}, [] {
    ExportOptions o = Options();
    o.blur_faces = false;
    return o;
  }());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->faces_detected, 0);
  EXPECT_EQ(result->frames_obscured, 0);
  const std::vector<cv::Mat> in = DecodeAll(Path("short.mp4"));
  const std::vector<cv::Mat> out = DecodeAll(Path("unblurred.mp4"));
  ASSERT_EQ(out.size(), in.size());
  // The watermark band (top left) differs strongly from the source; the rest is the source
  // re-encoded (PSNR > 30 dB).
  cv::Mat probe = in[0].clone();
  const cv::Rect band =
      DrawWatermark(probe, WatermarkLines(kExportId, FormatFrameTime(0, false), /*blurred=*/false));
  for (size_t i = 0; i < in.size(); i += 10) {
    cv::Mat diff;
    cv::absdiff(in[i](band), out[i](band), diff);
    EXPECT_GT(cv::mean(diff)[0], 40) << "frame " << i;
    cv::Mat a = in[i].clone(), b = out[i].clone();
    a(band).setTo(0);
    b(band).setTo(0);
    EXPECT_GT(cv::PSNR(a, b), 30) << "frame " << i;
  }
}

TEST_F(ClipExportTest, BlurredExportCarriesTheWatermarkToo) {
  CUSTOS_REQUIRE_DETECTOR(detector, TestFaceDetector());
  auto result = ExportClip(Path("short.mp4"), Path("marked.mp4"), {detector}, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  const std::vector<cv::Mat> in = DecodeAll(Path("short.mp4"));
  const std::vector<cv::Mat> out = DecodeAll(Path("marked.mp4"));
  ASSERT_EQ(out.size(), in.size());
  cv::Mat probe = in[0].clone();
  const cv::Rect band =
      DrawWatermark(probe, WatermarkLines(kExportId, FormatFrameTime(0, false), true));
  cv::Mat diff;
  cv::absdiff(in[0](band), out[0](band), diff);
  EXPECT_GT(cv::mean(diff)[0], 40);
}

TEST_F(ClipExportTest, MissingInputIsNotFoundAndLeavesNoFile) {
  auto result = ExportClip(Path("absent.mp4"), Path("out-missing.mp4"), {}, [] {
    ExportOptions o = Options();
    o.blur_faces = false;
    return o;
  }());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound) << result.status();
  EXPECT_FALSE(fs::exists(Path("out-missing.mp4")));
  EXPECT_FALSE(fs::exists(Path("out-missing.mp4.part")));
}

TEST_F(ClipExportTest, CorruptInputsGiveAClearErrorAndLeaveNoFile) {
  CUSTOS_REQUIRE_DETECTOR(detector, TestFaceDetector());
  // Not a video at all.
  {
    std::ofstream(Path("text.mp4")) << "this is not a video\n";
    auto result = ExportClip(Path("text.mp4"), Path("out-text.mp4"), {detector}, Options());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
    EXPECT_FALSE(fs::exists(Path("out-text.mp4")));
    EXPECT_FALSE(fs::exists(Path("out-text.mp4.part")));
  }
  // Cut off after 60 % of its bytes (a copy interrupted).
  {
    const auto size = fs::file_size(Path("short.mp4"));
    fs::copy_file(Path("short.mp4"), Path("truncated.mp4"));
    fs::resize_file(Path("truncated.mp4"), size * 6 / 10);
    auto result =
        ExportClip(Path("truncated.mp4"), Path("out-truncated.mp4"), {detector}, Options());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss) << result.status();
    std::printf("truncated: %s\n", result.status().ToString().c_str());
    EXPECT_FALSE(fs::exists(Path("out-truncated.mp4")));
    EXPECT_FALSE(fs::exists(Path("out-truncated.mp4.part")));
  }
}

TEST_F(ClipExportTest, RefusesAnExistingOutputBadOptionsAndStopsWhenCancelled) {
  std::ofstream(Path("exists.mp4")) << "x";
  ExportOptions o = Options();
  o.blur_faces = false;
  EXPECT_EQ(ExportClip(Path("short.mp4"), Path("exists.mp4"), {}, o).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ExportClip(Path("short.mp4"), Path("nofolder/x.mp4"), {}, o).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ExportOptions bad = o;
  bad.export_id = "has space";
  EXPECT_EQ(ExportClip(Path("short.mp4"), Path("bad.mp4"), {}, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = o;
  bad.crf = 60;
  EXPECT_EQ(ExportClip(Path("short.mp4"), Path("bad.mp4"), {}, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = o;
  bad.blur_faces = true;  // Blurring without a detector.
  EXPECT_EQ(ExportClip(Path("short.mp4"), Path("bad.mp4"), {}, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(Path("bad.mp4")));

  std::atomic<bool> cancel{false};
  ExportOptions cancelling = o;
  cancelling.cancel = &cancel;
  cancelling.progress = [&](int64_t done, int64_t) {
    if (done == 10) cancel = true;
  };
  auto result = ExportClip(Path("short.mp4"), Path("cancelled.mp4"), {}, cancelling);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled) << result.status();
  EXPECT_FALSE(fs::exists(Path("cancelled.mp4")));
  EXPECT_FALSE(fs::exists(Path("cancelled.mp4.part")));
}

}  // namespace
}  // namespace custos::privacy
