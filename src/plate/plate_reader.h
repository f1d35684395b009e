// Licence-plate reading on a still image or a vehicle crop: text-line localisation (DB
// detector), perspective rectification, CTC recognition with alternatives, and the country
// format, which rejects lines that cannot be plates, corrects letter/digit confusions and
// ranks the reads (docs/plates.md).
#pragma once

#include <array>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "infer/openvino_detector.h"
#include "plate/plate_format.h"
#include "plate/text_detector.h"
#include "plate/text_recognizer.h"

namespace custos::plate {

struct PlateReaderOptions {
  std::string manifest;                         // Empty: infer::DefaultManifestPath().
  std::string models_dir;                       // Empty: infer::DefaultModelsDir().
  std::string detector = kDefaultTextDetector;  // Manifest names.
  std::string recognizer = kDefaultTextRecognizer;
  // Built-in format (plate_format.h: US, RS, EU, ANY), unless `patterns` is set.
  std::string country = "US";
  std::vector<std::string> patterns;  // Custom format: "PATTERN" or "PATTERN:PRIOR".
  int top_k = 5;                      // Candidates kept per plate.
  // Reads whose best candidate's confidence (after averaging over `pads` and correction
  // penalties) is below this are dropped. Plates mostly read above 0.6; 0.3 keeps the hard
  // ones (docs/plates.md).
  float min_confidence = 0.3f;
  int max_plates = 10;  // Per image.
  // Also read the join of two lines that continue each other (AddJoinedLines).
  bool join_lines = true;
  // Each line is read once per entry, widened by that fraction of its height on both ends
  // before rectification, and the reads are averaged: the widened crop catches a first or last
  // character the detector clipped, and crops that differ by a few pixels make different
  // mistakes, which averaging outvotes (docs/plates.md has the measurements).
  std::vector<float> pads = {0.0f, 0.3f};
  // Vehicle detector (a manifest `detect` model such as nanodet-coco; empty: none). When set,
  // reads outside every car, truck, bus and motorcycle box rank lower (x vehicle_prior), so a
  // camera's date overlay or a shop sign does not come first.
  std::string vehicle_detector;
  float vehicle_prior = 0.5f;
  TextDetectorOptions detector_options;
  TextRecognizerOptions recognizer_options;
  bool verify_checksums = true;
};

struct PlateCandidate {
  std::string text;
  float confidence = 0;
};

struct PlateRead {
  std::string text;      // Best candidate, formatted (A-Z, 0-9, no separators).
  float confidence = 0;  // OCR confidence of `text`, times 0.8 per corrected confusion.
  cv::Rect box;          // Of the characters, in image pixels.
  std::array<cv::Point2f, 4> corners;      // The rotated text box, clockwise from top-left.
  std::vector<PlateCandidate> candidates;  // Best first; candidates[0] is `text`.
  std::string raw;                         // What the recogniser read before correction.
  float rank_score = 0;                    // confidence * the prior of the format pattern it fits.
};

// Thread-safe (the models serialise their inferences).
class PlateReader {
 public:
  // Loads and verifies both models. kNotFound / kDataLoss (models), kInvalidArgument (bad
  // options, unknown country, malformed pattern), kInternal (OpenVINO).
  static absl::StatusOr<std::unique_ptr<PlateReader>> Create(const PlateReaderOptions& options);

  // Plates in `image` (8-bit BGR), most plate-like first. kInvalidArgument for an empty or
  // non-BGR image; kInternal if inference fails.
  absl::StatusOr<std::vector<PlateRead>> Read(const cv::Mat& image);

  // Plates inside `region` of `image` (a vehicle's box), with boxes in image coordinates.
  absl::StatusOr<std::vector<PlateRead>> ReadRegion(const cv::Mat& image, const cv::Rect& region);

  const PlateFormat& format() const { return format_; }

 private:
  PlateReader(PlateReaderOptions options, PlateFormat format,
              std::unique_ptr<TextDetector> detector, std::unique_ptr<TextRecognizer> recognizer,
              std::unique_ptr<infer::OpenVinoDetector> vehicles);

  const PlateReaderOptions options_;
  const PlateFormat format_;
  std::unique_ptr<TextDetector> detector_;
  std::unique_ptr<TextRecognizer> recognizer_;
  std::unique_ptr<infer::OpenVinoDetector> vehicles_;  // May be null.
};

// `boxes` plus, for each pair of lines that continue each other on the same baseline, the
// line joining them.
std::vector<TextBox> AddJoinedLines(std::vector<TextBox> boxes);

// Averages the strings read from several crops of one line: each string's confidence is the
// mean over the crops (0 where a crop did not produce it). Best first.
std::vector<CtcCandidate> AverageReads(const std::vector<std::vector<CtcCandidate>>& reads);

// Scores and corrects a recogniser's strings for one text line against `format`: each is fitted
// (plate_format.h), duplicates after correction merge, and the best `top_k` remain. Returns
// false (and leaves `read` untouched) if none fits.
bool FitCandidates(const PlateFormat& format, const std::vector<CtcCandidate>& strings, int top_k,
                   PlateRead& read);

}  // namespace custos::plate
