#include "infer/openvino_detector.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <openvino/core/except.hpp>
#include <openvino/core/preprocess/pre_post_process.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "infer/decoders.h"
#include "infer/letterbox.h"

namespace custos::infer {
namespace {

absl::Status CheckDecoder(const ModelSpec& spec, const ov::CompiledModel& compiled) {
  const size_t outputs = compiled.outputs().size();
  if (spec.decoder == "nanodet") {
    if (outputs != 2 * spec.strides.size()) {
      return absl::InvalidArgumentError(absl::StrCat("model '", spec.name, "' has ", outputs,
                                                     " outputs; the nanodet decoder "
                                                     "expects 2 per stride (",
                                                     spec.strides.size(), " strides)"));
    }
  } else if (spec.decoder == "yolov8" || spec.decoder == "ssd") {
    if (outputs != 1) {
      return absl::InvalidArgumentError(absl::StrCat("model '", spec.name, "' has ", outputs,
                                                     " outputs; the ", spec.decoder,
                                                     " decoder expects 1"));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", spec.name, "': unknown decoder '", spec.decoder,
                     "' (supported: nanodet, yolov8, ssd; see docs/models.md)"));
  }
  if (spec.input.layout != "NCHW" && spec.input.layout != "NHWC") {
    return absl::InvalidArgumentError(absl::StrCat("model '", spec.name, "': input layout '",
                                                   spec.input.layout, "' must be NCHW or NHWC"));
  }
  return absl::OkStatus();
}

// Orders outputs for the nanodet decoder: score tensors by decreasing row count (= increasing
// stride), then box tensors (4 * (reg_max + 1) columns) likewise. Front ends do not keep the
// order of a model's outputs, so it is derived from their shapes.
std::vector<ov::Tensor> NanoDetOutputOrder(const ModelSpec& spec, std::vector<ov::Tensor> outputs) {
  const size_t box_cols = static_cast<size_t>(4 * (spec.reg_max + 1));
  auto rank = [&](const ov::Tensor& t) {
    // Box tensors after score tensors; within each, larger (finer-stride) tensors first.
    return std::pair<bool, size_t>(t.get_shape().back() == box_cols, SIZE_MAX - t.get_size());
  };
  std::stable_sort(outputs.begin(), outputs.end(),
                   [&](const ov::Tensor& a, const ov::Tensor& b) { return rank(a) < rank(b); });
  return outputs;
}

// Runs two random inputs as one batch and one by one; true when the outputs agree.
bool BatchMatchesSingle(ov::CompiledModel& compiled, const ov::Shape& single) {
  ov::Shape pair = single;
  pair[0] = 2;
  ov::Tensor batch(ov::element::u8, pair);
  cv::Mat values(1, static_cast<int>(batch.get_size()), CV_8U, batch.data<uint8_t>());
  cv::randu(values, 0, 256);
  ov::InferRequest request = compiled.create_infer_request();
  request.set_input_tensor(batch);
  request.infer();
  std::vector<std::vector<float>> batched;
  for (size_t o = 0; o < compiled.outputs().size(); ++o) {
    const ov::Tensor t = request.get_output_tensor(o);
    batched.emplace_back(t.data<const float>(), t.data<const float>() + t.get_size());
  }
  const size_t per_image = batch.get_size() / 2;
  for (size_t b = 0; b < 2; ++b) {
    ov::Tensor one(ov::element::u8, single, batch.data<uint8_t>() + b * per_image);
    request.set_input_tensor(one);
    request.infer();
    for (size_t o = 0; o < compiled.outputs().size(); ++o) {
      const ov::Tensor t = request.get_output_tensor(o);
      const float* got = t.data<const float>();
      if (batched[o].size() != 2 * t.get_size()) return false;
      for (size_t i = 0; i < t.get_size(); ++i) {
        if (std::abs(batched[o][b * t.get_size() + i] - got[i]) > 1e-3f * (1 + std::abs(got[i]))) {
          return false;
        }
      }
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OpenVinoDetector>> OpenVinoDetector::Create(
    const ModelSpec& spec, const DetectorOptions& options) {
  if (options.verify_checksums) CUSTOS_RETURN_IF_ERROR(VerifyModel(spec));
  if (options.max_batch < 1) {
    return absl::InvalidArgumentError("detector max_batch must be at least 1");
  }
  try {
    ov::Core core;
    std::shared_ptr<ov::Model> model = core.read_model(spec.FilePath());
    if (model->inputs().size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model '", spec.name, "' has ", model->inputs().size(), " inputs; detectors take one"));
    }
    const int64_t h = spec.input.height, w = spec.input.width;
    // The model takes 8-bit BGR pixels as OpenCV holds them (NHWC); colour order, layout,
    // conversion to float and normalisation run inside the compiled graph, where OpenVINO
    // fuses them, instead of as separate passes over every region.
    {
      ov::preprocess::PrePostProcessor ppp(model);
      ov::preprocess::InputInfo& input = ppp.input();
      input.tensor()
          .set_element_type(ov::element::u8)
          .set_layout("NHWC")
          .set_color_format(ov::preprocess::ColorFormat::BGR);
      input.model().set_layout(ov::Layout(spec.input.layout));
      input.preprocess().convert_element_type(ov::element::f32);
      if (spec.input.color == "rgb") {
        input.preprocess().convert_color(ov::preprocess::ColorFormat::RGB);
      }
      const auto& m = spec.input.mean;
      const auto& sd = spec.input.std;
      input.preprocess().mean({m[0], m[1], m[2]}).scale({sd[0], sd[1], sd[2]});
      model = ppp.build();
    }
    ov::AnyMap config = {ov::hint::performance_mode(ov::hint::PerformanceMode::LATENCY)};
    if (options.threads > 0) config.emplace(ov::inference_num_threads(options.threads));
    const ov::PartialShape single{1, h, w, 3};
    int max_batch = 1;
    ov::CompiledModel compiled;
    if (options.max_batch > 1) {
      // A dynamic batch lets one inference serve several regions and cameras, but graphs whose
      // reshapes pin the batch size compute garbage for batch > 1 without failing; such models
      // keep batch 1 (the service then runs merged requests one image at a time).
      try {
        model->reshape(ov::PartialShape{-1, h, w, 3});
        compiled = core.compile_model(model, "CPU", config);
        if (BatchMatchesSingle(compiled, single.to_shape())) max_batch = options.max_batch;
      } catch (const ov::Exception&) {
      }
    }
    if (max_batch == 1) {
      model->reshape(single);
      compiled = core.compile_model(model, "CPU", config);
    }
    CUSTOS_RETURN_IF_ERROR(CheckDecoder(spec, compiled));
    return std::unique_ptr<OpenVinoDetector>(
        new OpenVinoDetector(spec, options, std::move(compiled), max_batch));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("OpenVINO could not load model '", spec.name, "' from ",
                                            spec.FilePath(), ": ", e.what()));
  }
}

OpenVinoDetector::OpenVinoDetector(ModelSpec spec, DetectorOptions options,
                                   ov::CompiledModel compiled, int max_batch)
    : spec_(std::move(spec)),
      options_(options),
      compiled_(std::move(compiled)),
      max_batch_(max_batch) {}

float OpenVinoDetector::Preprocess(const cv::Mat& image, uint8_t* slot) const {
  const auto& mean = spec_.input.mean;
  // The tensor is BGR whatever the model's colour order; pad in the mean colour so padding is
  // zero after normalising.
  const cv::Scalar pad = spec_.input.color == "rgb" ? cv::Scalar(mean[2], mean[1], mean[0])
                                                    : cv::Scalar(mean[0], mean[1], mean[2]);
  cv::Mat canvas(spec_.input.height, spec_.input.width, CV_8UC3, slot);
  return Letterbox(image, pad, canvas);
}

absl::StatusOr<std::vector<Detections>> OpenVinoDetector::DetectBatch(
    const std::vector<cv::Mat>& images) {
  for (const cv::Mat& image : images) {
    if (image.empty() || image.type() != CV_8UC3) {
      return absl::InvalidArgumentError("detector input must be a non-empty 8-bit BGR image");
    }
  }
  std::vector<Detections> results;
  results.reserve(images.size());
  for (size_t begin = 0; begin < images.size(); begin += static_cast<size_t>(max_batch_)) {
    const size_t end = std::min(images.size(), begin + static_cast<size_t>(max_batch_));
    CUSTOS_ASSIGN_OR_RETURN(std::vector<Detections> chunk, RunChunk(images, begin, end));
    for (Detections& d : chunk) results.push_back(std::move(d));
  }
  return results;
}

absl::StatusOr<std::vector<Detections>> OpenVinoDetector::RunChunk(
    const std::vector<cv::Mat>& images, size_t begin, size_t end) {
  const size_t n = end - begin;
  const size_t h = static_cast<size_t>(spec_.input.height);
  const size_t w = static_cast<size_t>(spec_.input.width);
  const ov::Shape shape{n, h, w, 3};
  ov::InferRequest request;
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!idle_requests_.empty()) {
      request = std::move(idle_requests_.back());
      idle_requests_.pop_back();
    }
  }
  std::vector<Detections> results(n);
  try {
    if (!request) request = compiled_.create_infer_request();
    ov::Tensor input(ov::element::u8, shape);
    uint8_t* data = input.data<uint8_t>();
    std::vector<float> scales(n);
    for (size_t i = 0; i < n; ++i) scales[i] = Preprocess(images[begin + i], data + i * 3 * h * w);
    request.set_input_tensor(input);
    request.infer();

    std::vector<ov::Tensor> outputs;
    for (size_t i = 0; i < compiled_.outputs().size(); ++i) {
      outputs.push_back(request.get_output_tensor(i));
    }
    if (spec_.decoder == "nanodet") outputs = NanoDetOutputOrder(spec_, std::move(outputs));

    for (size_t b = 0; b < n; ++b) {
      // Views of image b's slice of every output. Outputs are [batch, rows, cols] or, when the
      // model flattens the batch into its rows, [1, batch * rows, cols].
      std::vector<OutputView> views;
      for (const ov::Tensor& t : outputs) {
        const ov::Shape& s = t.get_shape();
        const size_t cols = s.back();
        const size_t rows = t.get_size() / cols / n;
        views.push_back({t.data<const float>() + b * rows * cols, static_cast<int>(rows),
                         static_cast<int>(cols)});
      }
      absl::StatusOr<Detections> decoded =
          spec_.decoder == "nanodet"  ? DecodeNanoDet(spec_, views, options_.score_floor)
          : spec_.decoder == "yolov8" ? DecodeYoloV8(spec_, views[0], options_.score_floor)
                                      : DecodeSsd(spec_, views[0], options_.score_floor);
      if (!decoded.ok()) return decoded.status();
      Detections kept = NonMaxSuppression(*std::move(decoded), options_.nms_iou);
      const cv::Mat& image = images[begin + b];
      const float inv = 1.0f / scales[b];
      for (Detection& d : kept) {
        // Undo the letterbox and clip to the image.
        float x0 = std::clamp(d.box.x * inv, 0.0f, static_cast<float>(image.cols));
        float y0 = std::clamp(d.box.y * inv, 0.0f, static_cast<float>(image.rows));
        float x1 = std::clamp(d.box.Right() * inv, 0.0f, static_cast<float>(image.cols));
        float y1 = std::clamp(d.box.Bottom() * inv, 0.0f, static_cast<float>(image.rows));
        if (x1 - x0 < 1 || y1 - y0 < 1) continue;
        d.box = {x0, y0, x1 - x0, y1 - y0};
        results[b].push_back(std::move(d));
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("inference failed for model '", spec_.name, "': ", e.what()));
  }
  std::lock_guard<std::mutex> lock(pool_mu_);
  idle_requests_.push_back(std::move(request));
  return results;
}

}  // namespace custos::infer
