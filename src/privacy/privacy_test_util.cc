#include "privacy/privacy_test_util.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "face/face_models.h"
#include "infer/model_manifest.h"
#include "plate/ocr_model.h"

namespace custos::privacy {
namespace {

namespace fs = std::filesystem;

// The label file `txt` of a photo: "file x y w h PLATE"; nullopt if it does not parse.
std::optional<PlatePhoto> ReadLabel(const fs::path& txt) {
  std::ifstream in(txt);
  std::string file, text;
  int x = 0, y = 0, w = 0, h = 0;
  if (!(in >> file >> x >> y >> w >> h >> text)) return std::nullopt;
  return PlatePhoto{(txt.parent_path() / file).string(), cv::Rect(x, y, w, h)};
}

}  // namespace

absl::StatusOr<face::FaceDetector*> TestFaceDetector() {
  static const absl::StatusOr<face::FaceDetector*> detector =
      []() -> absl::StatusOr<face::FaceDetector*> {
    absl::StatusOr<face::FaceModel> model = face::LoadFaceModel(
        infer::DefaultManifestPath(), infer::DefaultModelsDir(), face::kDefaultDetector);
    if (!model.ok()) return model.status();
    face::FaceDetectorOptions options;
    options.score_threshold = 0.2f;
    absl::StatusOr<std::unique_ptr<face::FaceDetector>> d =
        face::FaceDetector::Create(*model, options);
    if (!d.ok()) return d.status();
    return d->release();
  }();
  return detector;
}

absl::StatusOr<plate::TextDetector*> TestTextDetector() {
  static const absl::StatusOr<plate::TextDetector*> detector =
      []() -> absl::StatusOr<plate::TextDetector*> {
    absl::StatusOr<plate::OcrModel> model = plate::LoadOcrModel(
        infer::DefaultManifestPath(), infer::DefaultModelsDir(), plate::kDefaultTextDetector);
    if (!model.ok()) return model.status();
    absl::StatusOr<std::unique_ptr<plate::TextDetector>> d =
        plate::TextDetector::Create(*model, {});
    if (!d.ok()) return d.status();
    return d->release();
  }();
  return detector;
}

void RemoveTestFiles(const std::string& dir) {
  if (std::getenv("CUSTOS_KEEP_TEST_FILES") != nullptr) {
    std::printf("test files kept in %s\n", dir.c_str());
    return;
  }
  std::error_code error;
  fs::remove_all(dir, error);
}

std::vector<PlatePhoto> LoadPlatePhotos(const std::string& dir) {
  std::vector<PlatePhoto> photos;
  std::error_code error;
  for (const auto& e : fs::directory_iterator(dir, error)) {
    if (e.path().extension() != ".txt") continue;
    if (std::optional<PlatePhoto> photo = ReadLabel(e.path())) photos.push_back(*photo);
  }
  std::sort(photos.begin(), photos.end(),
            [](const PlatePhoto& a, const PlatePhoto& b) { return a.image < b.image; });
  return photos;
}

double Detail(const cv::Mat& bgr, const cv::Rect& region) {
  const cv::Rect r = region & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (r.width < 3 || r.height < 3) return 0;
  cv::Mat grey, laplacian;
  cv::cvtColor(bgr(r), grey, cv::COLOR_BGR2GRAY);
  cv::Laplacian(grey, laplacian, CV_32F);
  cv::Scalar mean, sd;
  cv::meanStdDev(laplacian, mean, sd);
  return sd[0];
}

std::vector<cv::Mat> DecodeAll(const std::string& path) {
  std::vector<cv::Mat> frames;
  cv::VideoCapture capture(path, cv::CAP_FFMPEG);
  cv::Mat frame;
  while (capture.read(frame)) frames.push_back(frame.clone());
  return frames;
}

absl::StatusOr<MovingPlateVideo> WriteMovingPlateVideo(const std::string& photo,
                                                       const std::string& video_path) {
  const cv::Mat image = cv::imread(photo);
  if (image.empty()) return absl::NotFoundError(absl::StrCat("cannot read photo ", photo));
  const std::optional<PlatePhoto> label = ReadLabel(fs::path(photo).replace_extension(".txt"));
  if (!label) return absl::InvalidArgumentError(absl::StrCat("no plate label beside ", photo));
  constexpr int kFrames = MovingPlateVideo::kFrames;
  constexpr int kWidth = MovingPlateVideo::kWidth, kHeight = MovingPlateVideo::kHeight;
  if (image.cols > kWidth || image.rows + kFrames + 40 > kHeight) {
    return absl::InvalidArgumentError(absl::StrCat("photo ", photo, " is too large"));
  }
  cv::VideoWriter writer(video_path, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'),
                         MovingPlateVideo::kFps, cv::Size(kWidth, kHeight));
  if (!writer.isOpened()) return absl::InternalError(absl::StrCat("cannot write ", video_path));
  writer.set(cv::VIDEOWRITER_PROP_QUALITY, 95);
  MovingPlateVideo video;
  for (int f = 0; f < kFrames; ++f) {
    cv::Mat canvas(kHeight, kWidth, CV_8UC3, cv::Scalar(96, 100, 104));
    const cv::Point at(f * (kWidth - image.cols) / (kFrames - 1), 40 + f);
    image.copyTo(canvas(cv::Rect(at, image.size())));
    video.plates.push_back(label->plate + at);
    writer.write(canvas);
  }
  return video;
}

}  // namespace custos::privacy
