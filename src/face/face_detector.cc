#include "face/face_detector.h"

#include <algorithm>
#include <cmath>
#include <openvino/core/except.hpp>
#include <openvino/core/preprocess/pre_post_process.hpp>
#include <openvino/runtime/core.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "infer/letterbox.h"

namespace custos::face {
namespace {

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

}  // namespace

FaceDetector::FaceDetector(FaceModel model, FaceDetectorOptions options, ov::CompiledModel compiled,
                           std::vector<cv::Point2f> anchors, size_t output_index)
    : model_(std::move(model)),
      options_(options),
      compiled_(std::move(compiled)),
      anchors_(std::move(anchors)),
      output_index_(output_index),
      request_(compiled_.create_infer_request()) {}

absl::StatusOr<std::unique_ptr<FaceDetector>> FaceDetector::Create(
    const FaceModel& model, const FaceDetectorOptions& options) {
  const infer::ModelSpec& spec = model.spec;
  if (spec.decoder != "blazeface") {
    return absl::InvalidArgumentError(absl::StrCat("model '", spec.name, "' has decoder '",
                                                   spec.decoder,
                                                   "'; face detectors need 'blazeface' "
                                                   "(docs/face.md)"));
  }
  if (spec.strides.empty() || model.config.anchors_per_cell.size() != spec.strides.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", spec.name, "' needs strides and face.anchors_per_cell (one per stride)"));
  }
  if (options.verify_checksums) CUSTOS_RETURN_IF_ERROR(infer::VerifyModel(spec));
  // Anchor centres, row-major per stride, `per_cell` anchors per cell (MediaPipe's
  // SsdAnchorsCalculator with fixed anchor size, which the offsets are relative to).
  std::vector<cv::Point2f> anchors;
  for (size_t i = 0; i < spec.strides.size(); ++i) {
    const int s = spec.strides[i];
    const int rows = (spec.input.height + s - 1) / s, cols = (spec.input.width + s - 1) / s;
    for (int y = 0; y < rows; ++y) {
      for (int x = 0; x < cols; ++x) {
        for (int a = 0; a < model.config.anchors_per_cell[i]; ++a) {
          anchors.emplace_back((static_cast<float>(x) + 0.5f) * static_cast<float>(s),
                               (static_cast<float>(y) + 0.5f) * static_cast<float>(s));
        }
      }
    }
  }
  try {
    ov::Core core;
    std::shared_ptr<ov::Model> m = core.read_model(spec.FilePath());
    if (m->inputs().size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", spec.name, "' has ", m->inputs().size(), " inputs; expected 1"));
    }
    const int64_t h = spec.input.height, w = spec.input.width;
    m->reshape(spec.input.layout == "NHWC" ? ov::PartialShape{1, h, w, 3}
                                           : ov::PartialShape{1, 3, h, w});
    // 8-bit BGR in, as OpenCV holds it; colour order, float conversion and normalisation run
    // inside the compiled graph.
    ov::preprocess::PrePostProcessor ppp(m);
    ov::preprocess::InputInfo& input = ppp.input();
    input.tensor()
        .set_element_type(ov::element::u8)
        .set_layout("NHWC")
        .set_color_format(ov::preprocess::ColorFormat::BGR);
    input.model().set_layout(ov::Layout(spec.input.layout));
    input.preprocess().convert_element_type(ov::element::f32);
    if (spec.input.color == "rgb")
      input.preprocess().convert_color(ov::preprocess::ColorFormat::RGB);
    const auto& mean = spec.input.mean;
    const auto& sd = spec.input.std;
    input.preprocess().mean({mean[0], mean[1], mean[2]}).scale({sd[0], sd[1], sd[2]});
    m = ppp.build();
    ov::AnyMap config = {ov::hint::performance_mode(ov::hint::PerformanceMode::LATENCY)};
    if (options.threads > 0) config.emplace(ov::inference_num_threads(options.threads));
    ov::CompiledModel compiled = core.compile_model(m, "CPU", config);
    size_t index = 0;
    if (!model.config.output.empty()) {
      bool found = false;
      for (size_t i = 0; i < compiled.outputs().size(); ++i) {
        if (compiled.outputs()[i].get_names().contains(model.config.output)) {
          index = i;
          found = true;
        }
      }
      if (!found) {
        return absl::InvalidArgumentError(
            absl::StrCat("model '", spec.name, "' has no output '", model.config.output, "'"));
      }
    }
    const ov::Shape shape = compiled.outputs()[index].get_shape();
    const size_t cols = 1 + 4 + 2 * static_cast<size_t>(model.config.keypoints);
    if (shape.size() < 2 || shape.back() != cols ||
        ov::shape_size(shape) != anchors.size() * cols) {
      return absl::InvalidArgumentError(absl::StrCat("model '", spec.name, "': output shape ",
                                                     shape.to_string(), " does not hold ",
                                                     anchors.size(), " anchors of ", cols,
                                                     " values (check strides, anchors_per_cell, "
                                                     "keypoints)"));
    }
    return std::unique_ptr<FaceDetector>(
        new FaceDetector(model, options, std::move(compiled), std::move(anchors), index));
  } catch (const ov::Exception& e) {
    return absl::InternalError(absl::StrCat("OpenVINO failed to load model '", spec.name, "' from ",
                                            spec.FilePath(), ": ", e.what()));
  }
}

absl::StatusOr<std::vector<FaceBox>> FaceDetector::Detect(const cv::Mat& image) {
  if (image.empty() || image.type() != CV_8UC3) {
    return absl::InvalidArgumentError("face detection needs a non-empty 8-bit BGR image");
  }
  const int w = model_.spec.input.width, h = model_.spec.input.height;
  const int k = model_.config.keypoints;
  const size_t cols = 1 + 4 + 2 * static_cast<size_t>(k);
  std::vector<FaceBox> candidates;
  float scale = 1;
  {
    std::lock_guard lock(mu_);
    ov::Tensor input = request_.get_input_tensor();
    cv::Mat canvas(h, w, CV_8UC3, input.data<uint8_t>());
    scale = infer::Letterbox(image, cv::Scalar(0, 0, 0), canvas);
    try {
      request_.infer();
    } catch (const ov::Exception& e) {
      return absl::InternalError(absl::StrCat("face detector inference failed: ", e.what()));
    }
    const float* out = request_.get_output_tensor(output_index_).data<const float>();
    // The logit above which sigmoid(logit) exceeds the threshold, to skip most rows cheaply.
    const float t = std::clamp(options_.score_threshold, 1e-6f, 1 - 1e-6f);
    const float logit_floor = std::log(t / (1 - t));
    for (size_t i = 0; i < anchors_.size(); ++i) {
      const float* row = out + i * cols;
      if (row[0] < logit_floor) continue;
      FaceBox f;
      f.score = 1.0f / (1.0f + std::exp(-std::clamp(row[0], -100.0f, 100.0f)));
      const cv::Point2f c(row[1] + anchors_[i].x, row[2] + anchors_[i].y);
      f.box = cv::Rect2f((c.x - row[3] / 2) / scale, (c.y - row[4] / 2) / scale, row[3] / scale,
                         row[4] / scale);
      for (int p = 0; p < std::min(k, kNumKeypoints); ++p) {
        f.keypoints[static_cast<size_t>(p)] = cv::Point2f((row[5 + 2 * p] + anchors_[i].x) / scale,
                                                          (row[6 + 2 * p] + anchors_[i].y) / scale);
      }
      if (f.box.width > 0 && f.box.height > 0) candidates.push_back(f);
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const FaceBox& a, const FaceBox& b) { return a.score > b.score; });
  std::vector<FaceBox> kept;
  const cv::Rect2f bounds(0, 0, static_cast<float>(image.cols), static_cast<float>(image.rows));
  for (const FaceBox& c : candidates) {
    if ((c.box & bounds).area() <= 0) continue;  // Entirely in the letterbox padding.
    if (std::all_of(kept.begin(), kept.end(),
                    [&](const FaceBox& o) { return IoU(o.box, c.box) <= options_.nms_iou; })) {
      kept.push_back(c);
    }
  }
  return kept;
}

}  // namespace custos::face
