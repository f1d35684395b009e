#include "plate/text_detector.h"

#include <algorithm>
#include <cmath>
#include <openvino/core/except.hpp>
#include <openvino/runtime/core.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "opencv2/imgproc.hpp"

namespace custos::plate {
namespace {

float Distance(const cv::Point2f& a, const cv::Point2f& b) {
  return static_cast<float>(cv::norm(a - b));
}

}  // namespace

cv::Rect2f TextBox::Bounds() const {
  float x0 = corners[0].x, y0 = corners[0].y, x1 = x0, y1 = y0;
  for (const cv::Point2f& p : corners) {
    x0 = std::min(x0, p.x);
    y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x);
    y1 = std::max(y1, p.y);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}

std::array<cv::Point2f, 4> OrderCorners(const std::array<cv::Point2f, 4>& points) {
  std::array<cv::Point2f, 4> p = points;
  std::sort(p.begin(), p.end(),
            [](const cv::Point2f& a, const cv::Point2f& b) { return a.x < b.x; });
  // Two leftmost: top-left is the upper one; two rightmost: top-right is the upper one.
  const cv::Point2f tl = p[0].y <= p[1].y ? p[0] : p[1];
  const cv::Point2f bl = p[0].y <= p[1].y ? p[1] : p[0];
  const cv::Point2f tr = p[2].y <= p[3].y ? p[2] : p[3];
  const cv::Point2f br = p[2].y <= p[3].y ? p[3] : p[2];
  return {tl, tr, br, bl};
}

cv::Mat RectifyCrop(const cv::Mat& image, const std::array<cv::Point2f, 4>& c) {
  const float w = std::max(Distance(c[0], c[1]), Distance(c[3], c[2]));
  const float h = std::max(Distance(c[0], c[3]), Distance(c[1], c[2]));
  const int wi = std::max(1, static_cast<int>(std::lround(w)));
  const int hi = std::max(1, static_cast<int>(std::lround(h)));
  const cv::Point2f dst[4] = {{0, 0},
                              {static_cast<float>(wi), 0},
                              {static_cast<float>(wi), static_cast<float>(hi)},
                              {0, static_cast<float>(hi)}};
  const cv::Mat m = cv::getPerspectiveTransform(c.data(), dst);
  cv::Mat out;
  cv::warpPerspective(image, out, m, cv::Size(wi, hi), cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  return out;
}

TextDetector::TextDetector(OcrModel model, TextDetectorOptions options, ov::CompiledModel compiled)
    : model_(std::move(model)),
      options_(options),
      compiled_(std::move(compiled)),
      request_(compiled_.create_infer_request()) {}

absl::StatusOr<std::unique_ptr<TextDetector>> TextDetector::Create(
    const OcrModel& model, const TextDetectorOptions& options) {
  const infer::ModelSpec& spec = model.spec;
  if (spec.decoder != "db") {
    return absl::InvalidArgumentError(absl::StrCat("model '", spec.name, "' has decoder '",
                                                   spec.decoder,
                                                   "'; a text detector needs 'db' "
                                                   "(docs/plates.md)"));
  }
  if (spec.input.layout != "NCHW") {
    return absl::InvalidArgumentError(
        absl::StrCat("text detector '", spec.name, "': only NCHW input is supported"));
  }
  if (options.verify_checksums) CUSTOS_RETURN_IF_ERROR(infer::VerifyModel(spec));
  try {
    ov::Core core;
    std::shared_ptr<ov::Model> m = core.read_model(spec.FilePath());
    if (m->inputs().size() != 1 || m->outputs().size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("text detector '", spec.name, "' has ", m->inputs().size(), " inputs and ",
                       m->outputs().size(), " outputs; a DB detector has one of each"));
    }
    m->reshape(ov::PartialShape{1, 3, ov::Dimension::dynamic(), ov::Dimension::dynamic()});
    ov::AnyMap config = {ov::hint::performance_mode(ov::hint::PerformanceMode::LATENCY)};
    if (options.threads > 0) config.emplace(ov::inference_num_threads(options.threads));
    ov::CompiledModel compiled = core.compile_model(m, "CPU", config);
    return std::unique_ptr<TextDetector>(new TextDetector(model, options, std::move(compiled)));
  } catch (const ov::Exception& e) {
    return absl::InternalError(absl::StrCat("OpenVINO failed to load model '", spec.name, "' from ",
                                            spec.FilePath(), ": ", e.what()));
  }
}

absl::StatusOr<std::vector<TextBox>> TextDetector::Detect(const cv::Mat& image) {
  if (image.empty() || image.type() != CV_8UC3) {
    return absl::InvalidArgumentError("text detection needs a non-empty 8-bit BGR image");
  }
  const infer::ModelInput& in = model_.spec.input;
  const int max_side = options_.max_side_px > 0 ? options_.max_side_px : in.width;
  const double scale =
      std::min(1.0, static_cast<double>(max_side) / std::max(image.cols, image.rows));
  auto round32 = [](double v) { return std::max(32, static_cast<int>(std::lround(v / 32)) * 32); };
  const int w = round32(image.cols * scale), h = round32(image.rows * scale);
  const float sx = static_cast<float>(w) / static_cast<float>(image.cols);
  const float sy = static_cast<float>(h) / static_cast<float>(image.rows);
  cv::Mat resized;
  cv::resize(image, resized, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
  if (in.color == "rgb") cv::cvtColor(resized, resized, cv::COLOR_BGR2RGB);
  // HWC 8-bit -> normalised CHW float.
  ov::Tensor tensor(ov::element::f32,
                    ov::Shape{1, 3, static_cast<size_t>(h), static_cast<size_t>(w)});
  float* data = tensor.data<float>();
  const size_t plane = static_cast<size_t>(w) * static_cast<size_t>(h);
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const size_t o = static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x);
      for (size_t c = 0; c < 3; ++c) {
        data[c * plane + o] =
            (static_cast<float>(row[3 * x + static_cast<int>(c)]) - in.mean[c]) / in.std[c];
      }
    }
  }
  cv::Mat prob;
  {
    std::lock_guard lock(mu_);
    try {
      request_.set_input_tensor(tensor);
      request_.infer();
      const ov::Tensor out = request_.get_output_tensor();
      const ov::Shape shape = out.get_shape();
      if (shape.size() != 4 || shape[2] != static_cast<size_t>(h) ||
          shape[3] != static_cast<size_t>(w)) {
        return absl::InvalidArgumentError(
            absl::StrCat("text detector '", model_.spec.name, "': output shape ", shape.to_string(),
                         " is not a probability map of the input's size"));
      }
      prob = cv::Mat(h, w, CV_32F, const_cast<float*>(out.data<const float>())).clone();
    } catch (const ov::Exception& e) {
      return absl::InternalError(absl::StrCat("text detector inference failed: ", e.what()));
    }
  }
  cv::Mat bitmap = prob > options_.binary_threshold;
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(bitmap, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
  std::vector<TextBox> boxes;
  cv::Mat mask;
  for (const std::vector<cv::Point>& contour : contours) {
    if (contour.size() < 4) continue;
    const cv::RotatedRect r = cv::minAreaRect(contour);
    if (std::min(r.size.width, r.size.height) < options_.min_side_px) continue;
    // Mean probability inside the blob.
    const cv::Rect bb = cv::boundingRect(contour) & cv::Rect(0, 0, w, h);
    mask = cv::Mat::zeros(bb.size(), CV_8U);
    std::vector<std::vector<cv::Point>> shifted = {contour};
    for (cv::Point& p : shifted[0]) p -= bb.tl();
    cv::fillPoly(mask, shifted, cv::Scalar(1));
    const float score = static_cast<float>(cv::mean(prob(bb), mask)[0]);
    if (score < options_.box_threshold) continue;
    // Unclip: grow the rectangle by the offset DB shrank its training targets by.
    const float area = r.size.width * r.size.height;
    const float perimeter = 2 * (r.size.width + r.size.height);
    const float d = area * options_.unclip_ratio / perimeter;
    const cv::RotatedRect grown(r.center, cv::Size2f(r.size.width + 2 * d, r.size.height + 2 * d),
                                r.angle);
    if (std::min(grown.size.width, grown.size.height) < options_.min_side_px + 2) continue;
    std::array<cv::Point2f, 4> pts;
    grown.points(pts.data());
    for (cv::Point2f& p : pts) {
      p.x = std::clamp(p.x / sx, 0.0f, static_cast<float>(image.cols - 1));
      p.y = std::clamp(p.y / sy, 0.0f, static_cast<float>(image.rows - 1));
    }
    boxes.push_back({OrderCorners(pts), score});
  }
  std::sort(boxes.begin(), boxes.end(),
            [](const TextBox& a, const TextBox& b) { return a.score > b.score; });
  if (boxes.size() > static_cast<size_t>(options_.max_boxes)) {
    boxes.resize(static_cast<size_t>(options_.max_boxes));
  }
  return boxes;
}

}  // namespace custos::plate
