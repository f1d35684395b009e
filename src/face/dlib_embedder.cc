// dlib's network types are heavy templates: they are confined to this file.
#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/opencv.h>

#include <cmath>
#include <mutex>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "face/face_embedder.h"

namespace custos::face {
namespace {

// The network definition of dlib's dnn_face_recognition_ex.cpp, which the published model
// file was trained and serialised with.
template <template <int, template <typename> class, int, typename> class B, int N,
          template <typename> class BN, typename S>
using residual = dlib::add_prev1<B<N, BN, 1, dlib::tag1<S>>>;
template <template <int, template <typename> class, int, typename> class B, int N,
          template <typename> class BN, typename S>
using residual_down = dlib::add_prev2<
    dlib::avg_pool<2, 2, 2, 2, dlib::skip1<dlib::tag2<B<N, BN, 2, dlib::tag1<S>>>>>>;
template <int N, template <typename> class BN, int stride, typename S>
using block = BN<dlib::con<N, 3, 3, 1, 1, dlib::relu<BN<dlib::con<N, 3, 3, stride, stride, S>>>>>;
template <int N, typename S>
using ares = dlib::relu<residual<block, N, dlib::affine, S>>;
template <int N, typename S>
using ares_down = dlib::relu<residual_down<block, N, dlib::affine, S>>;
template <typename S>
using alevel0 = ares_down<256, S>;
template <typename S>
using alevel1 = ares<256, ares<256, ares_down<256, S>>>;
template <typename S>
using alevel2 = ares<128, ares<128, ares_down<128, S>>>;
template <typename S>
using alevel3 = ares<64, ares<64, ares<64, ares_down<64, S>>>>;
template <typename S>
using alevel4 = ares<32, ares<32, ares<32, S>>>;
using ResNet = dlib::loss_metric<dlib::fc_no_bias<
    128, dlib::avg_pool_everything<alevel0<alevel1<alevel2<alevel3<alevel4<dlib::max_pool<
             3, 3, 2, 2,
             dlib::relu<dlib::affine<
                 dlib::con<32, 7, 7, 2, 2, dlib::input_rgb_image_sized<150>>>>>>>>>>>>>;

constexpr long kChipSize = 150;
// The MediaPipe face box spans forehead to chin and is about 15 % wider than the boxes dlib's
// detectors (which the shape predictor was trained on) draw around the same face: measured on
// ../shared/data/faces, dlib MMOD box width / MediaPipe box width = 0.79-0.96, median 0.87.
constexpr float kBoxToDlib = 0.87f;

class DlibEmbedder final : public FaceEmbedder {
 public:
  DlibEmbedder(float threshold, float padding) : threshold_(threshold), padding_(padding) {}

  absl::Status Load(const std::string& net_path, const std::string& sp_path) {
    try {
      dlib::deserialize(net_path) >> net_;
      dlib::deserialize(sp_path) >> shape_predictor_;
    } catch (const std::exception& e) {
      return absl::DataLossError(
          absl::StrCat("dlib cannot read ", net_path, " / ", sp_path, ": ", e.what()));
    }
    if (shape_predictor_.num_parts() != 5) {
      return absl::InvalidArgumentError(
          absl::StrCat(sp_path, ": the shape predictor has ", shape_predictor_.num_parts(),
                       " landmarks; dlib's face chip alignment here expects the 5-point model"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<AlignedFace> Align(const cv::Mat& image, const FaceBox& face) override {
    if (image.empty() || image.type() != CV_8UC3) {
      return absl::InvalidArgumentError("face alignment needs a non-empty 8-bit BGR image");
    }
    const cv::Point2f c(face.box.x + face.box.width / 2, face.box.y + face.box.height / 2);
    const float half = std::max(face.box.width, face.box.height) * kBoxToDlib / 2;
    const dlib::rectangle rect(std::lround(c.x - half), std::lround(c.y - half),
                               std::lround(c.x + half), std::lround(c.y + half));
    // cv_image wraps the Mat without copying; dlib reads it as const.
    const dlib::cv_image<dlib::bgr_pixel> img(image);
    const dlib::full_object_detection shape = shape_predictor_(img, rect);
    AlignedFace out;
    for (unsigned long i = 0; i < shape.num_parts(); ++i) {
      out.landmarks.emplace_back(static_cast<float>(shape.part(i).x()),
                                 static_cast<float>(shape.part(i).y()));
    }
    dlib::matrix<dlib::bgr_pixel> chip;
    dlib::extract_image_chip(img, dlib::get_face_chip_details(shape, kChipSize, padding_), chip);
    out.chip = dlib::toMat(chip).clone();
    return out;
  }

  absl::StatusOr<Embedding> Embed(const AlignedFace& face) override {
    if (face.chip.rows != kChipSize || face.chip.cols != kChipSize || face.chip.type() != CV_8UC3) {
      return absl::InvalidArgumentError(
          absl::StrCat("the dlib embedder takes ", kChipSize, "x", kChipSize, " BGR chips"));
    }
    dlib::matrix<dlib::rgb_pixel> rgb;
    dlib::assign_image(rgb, dlib::cv_image<dlib::bgr_pixel>(face.chip));
    dlib::matrix<float, 0, 1> v;
    {
      // dlib networks keep per-call buffers: one forward pass at a time.
      std::lock_guard lock(mu_);
      v = net_(rgb);
    }
    Embedding e(v.begin(), v.end());
    double norm = 0;
    for (float x : e) norm += static_cast<double>(x) * x;
    const float inv = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
    for (float& x : e) x *= inv;
    return e;
  }

  float match_threshold() const override { return threshold_; }

 private:
  const float threshold_;
  const double padding_;
  std::mutex mu_;
  ResNet net_;                             // Guarded by mu_.
  dlib::shape_predictor shape_predictor_;  // Read-only after Load.
};

}  // namespace

absl::StatusOr<std::unique_ptr<FaceEmbedder>> CreateDlibEmbedder(const FaceModel& embedder,
                                                                 const FaceModel& landmarks,
                                                                 bool verify_checksums) {
  for (const FaceModel* m : {&embedder, &landmarks}) {
    if (m->spec.format != "dlib") {
      return absl::InvalidArgumentError(absl::StrCat("model '", m->spec.name, "' has format '",
                                                     m->spec.format, "'; expected 'dlib'"));
    }
    if (verify_checksums) CUSTOS_RETURN_IF_ERROR(infer::VerifyModel(m->spec));
  }
  if (embedder.config.match_threshold <= 0 || embedder.config.match_threshold >= 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", embedder.spec.name, "' needs face.match_threshold in (0, 1)"));
  }
  auto e =
      std::make_unique<DlibEmbedder>(embedder.config.match_threshold, embedder.config.chip_padding);
  CUSTOS_RETURN_IF_ERROR(e->Load(embedder.spec.FilePath(), landmarks.spec.FilePath()));
  return std::unique_ptr<FaceEmbedder>(std::move(e));
}

}  // namespace custos::face
