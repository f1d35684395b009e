// Text detection and recognition models of the manifest (models/manifest.yaml, docs/plates.md).
// The generic part of an entry (files, SHA-256, input size, normalisation, licence, source) is
// read by infer::LoadManifest; the `ocr:` block names a recogniser's character dictionary.
// Any ONNX or OpenVINO IR model with the same inputs and outputs as PP-OCR's drops in by adding
// an entry: a DB detector (`decoder: db`, one [N,1,H,W] probability map) or a CTC recogniser
// (`decoder: ctc`, [N,T,classes] softmax output).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "infer/model_manifest.h"

namespace custos::plate {

struct OcrModel {
  infer::ModelSpec spec;
  // Recogniser: one character per line, class i+1 of the model (class 0 is the CTC blank).
  std::string dictionary;  // Path; empty for detectors.
};

// Reads entry `name` of the manifest at `manifest_path`, with files in `models_dir`.
// kNotFound (manifest or name missing), kInvalidArgument (a recogniser without
// `ocr.dictionary`, a wrong decoder, naming the line).
absl::StatusOr<OcrModel> LoadOcrModel(const std::string& manifest_path,
                                      const std::string& models_dir, const std::string& name);

// Lines of a dictionary file (UTF-8, one character per line, '\r' stripped). kNotFound.
absl::StatusOr<std::vector<std::string>> ReadDictionary(const std::string& path);

inline constexpr char kDefaultTextDetector[] = "ppocr-v4-det";
inline constexpr char kDefaultTextRecognizer[] = "ppocr-v4-rec";

}  // namespace custos::plate
