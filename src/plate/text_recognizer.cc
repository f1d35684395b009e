#include "plate/text_recognizer.h"

#include <algorithm>
#include <cmath>
#include <openvino/core/except.hpp>
#include <openvino/runtime/core.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "opencv2/imgproc.hpp"

namespace custos::plate {

TextRecognizer::TextRecognizer(OcrModel model, TextRecognizerOptions options,
                               ov::CompiledModel compiled, CtcDecoder decoder)
    : model_(std::move(model)),
      options_(options),
      compiled_(std::move(compiled)),
      decoder_(std::move(decoder)),
      request_(compiled_.create_infer_request()) {}

absl::StatusOr<std::unique_ptr<TextRecognizer>> TextRecognizer::Create(
    const OcrModel& model, const TextRecognizerOptions& options) {
  const infer::ModelSpec& spec = model.spec;
  if (spec.decoder != "ctc") {
    return absl::InvalidArgumentError(absl::StrCat("model '", spec.name, "' has decoder '",
                                                   spec.decoder,
                                                   "'; a text recogniser needs 'ctc' "
                                                   "(docs/plates.md)"));
  }
  if (spec.input.layout != "NCHW") {
    return absl::InvalidArgumentError(
        absl::StrCat("text recogniser '", spec.name, "': only NCHW input is supported"));
  }
  if (options.top_k < 1 || options.beam_width < options.top_k) {
    return absl::InvalidArgumentError("recogniser options: need 1 <= top_k <= beam_width");
  }
  if (options.verify_checksums) CUSTOS_RETURN_IF_ERROR(infer::VerifyModel(spec));
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<std::string> dictionary,
                          ReadDictionary(model.dictionary));
  try {
    ov::Core core;
    std::shared_ptr<ov::Model> m = core.read_model(spec.FilePath());
    if (m->inputs().size() != 1 || m->outputs().size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("text recogniser '", spec.name, "' needs one input and one output"));
    }
    m->reshape(ov::PartialShape{ov::Dimension::dynamic(), 3, spec.input.height, spec.input.width});
    const ov::PartialShape out = m->output().get_partial_shape();
    if (out.rank().get_length() != 3 || out[2].is_dynamic()) {
      return absl::InvalidArgumentError(absl::StrCat("text recogniser '", spec.name, "': output ",
                                                     out.to_string(),
                                                     " is not [batch, frames, classes]"));
    }
    const int classes = static_cast<int>(out[2].get_length());
    std::vector<std::string> vocabulary = VocabularyFromDictionary(dictionary, classes);
    if (static_cast<int>(vocabulary.size()) != classes) {
      return absl::InvalidArgumentError(
          absl::StrCat("text recogniser '", spec.name, "' has ", classes,
                       " classes but its dictionary ", model.dictionary, " has ", dictionary.size(),
                       " characters (expected classes = characters + 1 blank [+ 1 space])"));
    }
    ov::AnyMap config = {ov::hint::performance_mode(ov::hint::PerformanceMode::LATENCY)};
    if (options.threads > 0) config.emplace(ov::inference_num_threads(options.threads));
    ov::CompiledModel compiled = core.compile_model(m, "CPU", config);
    return std::unique_ptr<TextRecognizer>(
        new TextRecognizer(model, options, std::move(compiled), CtcDecoder(vocabulary)));
  } catch (const ov::Exception& e) {
    return absl::InternalError(absl::StrCat("OpenVINO failed to load model '", spec.name, "' from ",
                                            spec.FilePath(), ": ", e.what()));
  }
}

absl::StatusOr<std::vector<std::vector<CtcCandidate>>> TextRecognizer::Recognize(
    std::span<const cv::Mat> lines) {
  std::vector<std::vector<CtcCandidate>> results(lines.size());
  if (lines.empty()) return results;
  const infer::ModelInput& in = model_.spec.input;
  const int h = in.height, w = in.width;
  const size_t plane = static_cast<size_t>(h) * static_cast<size_t>(w);
  ov::Tensor tensor(ov::element::f32,
                    ov::Shape{lines.size(), 3, static_cast<size_t>(h), static_cast<size_t>(w)});
  float* data = tensor.data<float>();
  std::fill(data, data + tensor.get_size(), 0.0f);  // Padding: 0 after normalisation.
  for (size_t i = 0; i < lines.size(); ++i) {
    const cv::Mat& line = lines[i];
    if (line.empty() || line.type() != CV_8UC3) {
      return absl::InvalidArgumentError("text recognition needs non-empty 8-bit BGR images");
    }
    const double ratio = static_cast<double>(line.cols) / line.rows;
    const int rw = std::clamp(static_cast<int>(std::ceil(h * ratio)), 1, w);
    cv::Mat resized;
    cv::resize(line, resized, cv::Size(rw, h), 0, 0, cv::INTER_LINEAR);
    if (in.color == "rgb") cv::cvtColor(resized, resized, cv::COLOR_BGR2RGB);
    float* dst = data + i * 3 * plane;
    for (int y = 0; y < h; ++y) {
      const uint8_t* row = resized.ptr<uint8_t>(y);
      for (int x = 0; x < rw; ++x) {
        const size_t o = static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x);
        for (size_t c = 0; c < 3; ++c) {
          dst[c * plane + o] =
              (static_cast<float>(row[3 * x + static_cast<int>(c)]) - in.mean[c]) / in.std[c];
        }
      }
    }
  }
  std::lock_guard lock(mu_);
  try {
    request_.set_input_tensor(tensor);
    request_.infer();
    const ov::Tensor out = request_.get_output_tensor();
    const ov::Shape shape = out.get_shape();
    const size_t frames = shape[1], classes = shape[2];
    const float* probs = out.data<const float>();
    for (size_t i = 0; i < lines.size(); ++i) {
      results[i] =
          decoder_.Decode(std::span<const float>(probs + i * frames * classes, frames * classes),
                          static_cast<int>(frames), options_.top_k, options_.beam_width);
    }
  } catch (const ov::Exception& e) {
    return absl::InternalError(absl::StrCat("text recogniser inference failed: ", e.what()));
  }
  return results;
}

}  // namespace custos::plate
