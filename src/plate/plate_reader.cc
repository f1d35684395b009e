#include "plate/plate_reader.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "custos/status.h"
#include "infer/model_manifest.h"
#include "opencv2/imgproc.hpp"

namespace custos::plate {
namespace {

// Recogniser batch size: bounds memory on images with many text lines.
constexpr size_t kBatch = 16;

float IoU(const cv::Rect& a, const cv::Rect& b) {
  const float inter = static_cast<float>((a & b).area());
  const float uni = static_cast<float>(a.area() + b.area()) - inter;
  return uni > 0 ? inter / uni : 0;
}

// Lines that continue each other: same height and baseline, a gap of at most about one
// character. US plates often carry an emblem or a state outline between two groups of
// characters, which the detector splits into two lines.
bool Continues(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float h = std::max(a.height, b.height);
  if (std::min(a.height, b.height) < 0.6f * h) return false;
  const float dy = std::abs((a.y + a.height / 2) - (b.y + b.height / 2));
  const float gap = b.x - (a.x + a.width);
  return dy < 0.35f * h && gap > -0.2f * h && gap < 1.5f * h;
}

TextBox Merge(const TextBox& a, const TextBox& b) {
  std::vector<cv::Point2f> points(a.corners.begin(), a.corners.end());
  points.insert(points.end(), b.corners.begin(), b.corners.end());
  std::array<cv::Point2f, 4> corners;
  cv::minAreaRect(points).points(corners.data());
  return {OrderCorners(corners), std::min(a.score, b.score)};
}

// Moves the left and right edges of a box outwards by `fraction` of its height.
std::array<cv::Point2f, 4> Widen(const std::array<cv::Point2f, 4>& c, float fraction) {
  if (fraction <= 0) return c;
  const cv::Point2f along = c[1] - c[0];
  const float len = static_cast<float>(cv::norm(along));
  if (len <= 0) return c;
  const float h = static_cast<float>(cv::norm(c[3] - c[0]));
  const cv::Point2f d = along * (fraction * h / len);
  return {c[0] - d, c[1] + d, c[2] + d, c[3] - d};
}

}  // namespace

std::vector<TextBox> AddJoinedLines(std::vector<TextBox> boxes) {
  const size_t n = boxes.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i != j && Continues(boxes[i].Bounds(), boxes[j].Bounds())) {
        boxes.push_back(Merge(boxes[i], boxes[j]));
      }
    }
  }
  return boxes;
}

std::vector<CtcCandidate> AverageReads(const std::vector<std::vector<CtcCandidate>>& reads) {
  if (reads.size() == 1) return reads[0];
  std::vector<CtcCandidate> out;
  for (const std::vector<CtcCandidate>& crop : reads) {
    for (const CtcCandidate& c : crop) {
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const CtcCandidate& o) { return o.text == c.text; });
      if (it == out.end()) it = out.insert(out.end(), {c.text, 0.0f});
      it->confidence += c.confidence / static_cast<float>(reads.size());
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const CtcCandidate& a, const CtcCandidate& b) {
    return a.confidence > b.confidence;
  });
  return out;
}

bool FitCandidates(const PlateFormat& format, const std::vector<CtcCandidate>& strings, int top_k,
                   PlateRead& read) {
  struct Scored {
    PlateCandidate c;
    float rank;
  };
  std::vector<Scored> scored;
  for (const CtcCandidate& s : strings) {
    const std::optional<FormatMatch> m = FitFormat(format, s.text);
    if (!m) continue;
    float confidence = s.confidence;
    for (int i = 0; i < m->substitutions; ++i) confidence *= kSubstitutionPenalty;
    const float rank = confidence * (m->score / std::pow(kSubstitutionPenalty,
                                                         static_cast<float>(m->substitutions)));
    auto same = std::find_if(scored.begin(), scored.end(),
                             [&](const Scored& x) { return x.c.text == m->text; });
    if (same == scored.end()) {
      scored.push_back({{m->text, confidence}, rank});
    } else if (rank > same->rank) {
      *same = {{m->text, confidence}, rank};
    }
  }
  if (scored.empty()) return false;
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.rank > b.rank; });
  read.candidates.clear();
  for (const Scored& s : scored) {
    if (read.candidates.size() == static_cast<size_t>(top_k)) break;
    read.candidates.push_back(s.c);
  }
  read.text = scored[0].c.text;
  read.confidence = scored[0].c.confidence;
  read.rank_score = scored[0].rank;
  read.raw = strings.empty() ? "" : strings[0].text;
  return true;
}

PlateReader::PlateReader(PlateReaderOptions options, PlateFormat format,
                         std::unique_ptr<TextDetector> detector,
                         std::unique_ptr<TextRecognizer> recognizer,
                         std::unique_ptr<infer::OpenVinoDetector> vehicles)
    : options_(std::move(options)),
      format_(std::move(format)),
      detector_(std::move(detector)),
      recognizer_(std::move(recognizer)),
      vehicles_(std::move(vehicles)) {}

absl::StatusOr<std::unique_ptr<PlateReader>> PlateReader::Create(
    const PlateReaderOptions& options) {
  if (options.top_k < 1) return absl::InvalidArgumentError("plate reader: top_k must be >= 1");
  if (options.pads.empty()) return absl::InvalidArgumentError("plate reader: pads is empty");
  PlateFormat format;
  if (!options.patterns.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(format, CustomFormat("custom", options.patterns));
  } else {
    auto builtin = BuiltinFormat(options.country);
    if (!builtin.ok()) return absl::InvalidArgumentError(builtin.status().message());
    format = *std::move(builtin);
  }
  const std::string manifest =
      options.manifest.empty() ? infer::DefaultManifestPath() : options.manifest;
  const std::string dir =
      options.models_dir.empty() ? infer::DefaultModelsDir() : options.models_dir;
  CUSTOS_ASSIGN_OR_RETURN(const OcrModel det, LoadOcrModel(manifest, dir, options.detector));
  CUSTOS_ASSIGN_OR_RETURN(const OcrModel rec, LoadOcrModel(manifest, dir, options.recognizer));
  TextDetectorOptions det_options = options.detector_options;
  det_options.verify_checksums = options.verify_checksums;
  TextRecognizerOptions rec_options = options.recognizer_options;
  rec_options.verify_checksums = options.verify_checksums;
  // The format may correct a string that is not the recogniser's best, so ask for more.
  rec_options.top_k = std::max(rec_options.top_k, options.top_k);
  rec_options.beam_width = std::max(rec_options.beam_width, rec_options.top_k);
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<TextDetector> detector,
                          TextDetector::Create(det, det_options));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<TextRecognizer> recognizer,
                          TextRecognizer::Create(rec, rec_options));
  std::unique_ptr<infer::OpenVinoDetector> vehicles;
  if (!options.vehicle_detector.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(const std::vector<infer::ModelSpec> specs,
                            infer::LoadManifest(manifest, dir));
    CUSTOS_ASSIGN_OR_RETURN(const infer::ModelSpec spec,
                            infer::FindModel(specs, options.vehicle_detector));
    infer::DetectorOptions vehicle_options;
    vehicle_options.score_floor = 0.3f;
    vehicle_options.max_batch = 1;
    vehicle_options.verify_checksums = options.verify_checksums;
    CUSTOS_ASSIGN_OR_RETURN(vehicles, infer::OpenVinoDetector::Create(spec, vehicle_options));
  }
  return std::unique_ptr<PlateReader>(new PlateReader(
      options, std::move(format), std::move(detector), std::move(recognizer), std::move(vehicles)));
}

absl::StatusOr<std::vector<PlateRead>> PlateReader::Read(const cv::Mat& image) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<TextBox> detected, detector_->Detect(image));
  const std::vector<TextBox> boxes =
      options_.join_lines ? AddJoinedLines(std::move(detected)) : std::move(detected);
  std::vector<const TextBox*> lines;
  for (const TextBox& b : boxes) {
    const cv::Rect2f r = b.Bounds();
    // Plate character lines are horizontal-ish and wider than tall.
    if (r.height >= 6 && r.width >= r.height) lines.push_back(&b);
  }
  const size_t pads = options_.pads.size();
  std::vector<cv::Mat> crops;  // Line i, pad k at i * pads + k.
  for (const TextBox* b : lines) {
    for (float pad : options_.pads) crops.push_back(RectifyCrop(image, Widen(b->corners, pad)));
  }
  std::vector<std::vector<CtcCandidate>> strings;
  for (size_t start = 0; start < crops.size(); start += kBatch) {
    const size_t n = std::min(kBatch, crops.size() - start);
    CUSTOS_ASSIGN_OR_RETURN(
        auto batch, recognizer_->Recognize(std::span<const cv::Mat>(crops.data() + start, n)));
    for (auto& s : batch) strings.push_back(std::move(s));
  }
  std::vector<PlateRead> reads;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::vector<std::vector<CtcCandidate>> per_crop(
        strings.begin() + static_cast<std::ptrdiff_t>(i * pads),
        strings.begin() + static_cast<std::ptrdiff_t>((i + 1) * pads));
    PlateRead read;
    if (!FitCandidates(format_, AverageReads(per_crop), options_.top_k, read)) continue;
    if (read.confidence < options_.min_confidence) continue;
    const TextBox& b = *lines[i];
    read.corners = b.corners;
    const cv::Rect2f r = b.Bounds();
    read.box =
        cv::Rect(static_cast<int>(std::lround(r.x)), static_cast<int>(std::lround(r.y)),
                 static_cast<int>(std::lround(r.width)), static_cast<int>(std::lround(r.height)));
    reads.push_back(std::move(read));
  }
  if (vehicles_ != nullptr && !reads.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(const std::vector<Detections> found, vehicles_->DetectBatch({image}));
    std::vector<cv::Rect2f> vehicle_boxes;
    for (const Detection& d : found.at(0)) {
      if (d.label == "car" || d.label == "truck" || d.label == "bus" || d.label == "motorcycle") {
        vehicle_boxes.emplace_back(d.box.x, d.box.y, d.box.w, d.box.h);
      }
    }
    for (PlateRead& r : reads) {
      const cv::Point2f c(static_cast<float>(r.box.x) + static_cast<float>(r.box.width) / 2,
                          static_cast<float>(r.box.y) + static_cast<float>(r.box.height) / 2);
      if (std::none_of(vehicle_boxes.begin(), vehicle_boxes.end(),
                       [&](const cv::Rect2f& v) { return v.contains(c); })) {
        r.rank_score *= options_.vehicle_prior;
      }
    }
  }
  std::stable_sort(reads.begin(), reads.end(), [](const PlateRead& a, const PlateRead& b) {
    return a.rank_score > b.rank_score;
  });
  std::vector<PlateRead> kept;
  for (PlateRead& r : reads) {
    if (kept.size() == static_cast<size_t>(options_.max_plates)) break;
    if (std::any_of(kept.begin(), kept.end(),
                    [&](const PlateRead& k) { return IoU(k.box, r.box) > 0.5f; })) {
      continue;
    }
    kept.push_back(std::move(r));
  }
  return kept;
}

absl::StatusOr<std::vector<PlateRead>> PlateReader::ReadRegion(const cv::Mat& image,
                                                               const cv::Rect& region) {
  const cv::Rect r = region & cv::Rect(0, 0, image.cols, image.rows);
  if (r.empty()) return std::vector<PlateRead>{};
  CUSTOS_ASSIGN_OR_RETURN(std::vector<PlateRead> reads, Read(image(r)));
  const cv::Point2f offset(static_cast<float>(r.x), static_cast<float>(r.y));
  for (PlateRead& read : reads) {
    read.box += r.tl();
    for (cv::Point2f& p : read.corners) p += offset;
  }
  return reads;
}

}  // namespace custos::plate
