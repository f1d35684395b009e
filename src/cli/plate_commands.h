// `custos plate read` (docs/plates.md): licence plates of still images, in the spirit of
// OpenALPR's `alpr`. Like the other commands it returns the process exit status and writes
// errors to stderr as "custos plate: <message>". Reads are printed, never stored: storing reads
// goes through the store with its short retention and audited queries (DESIGN.md §1).
#pragma once

#include <iostream>
#include <string>
#include <vector>

namespace custos::cli {

struct PlateReadFlags {
  std::string manifest;    // models/manifest.yaml by default
  std::string models_dir;  // var/models by default
  std::string detector = "ppocr-v4-det";
  std::string recognizer = "ppocr-v4-rec";
  std::string vehicle_detector = "nanodet-coco";  // Reads on vehicles first; "" to disable.
  std::vector<std::string> images;
  std::string country = "us";         // Built-in format: us, rs, eu, any.
  std::vector<std::string> patterns;  // Custom format instead: "PATTERN[:PRIOR]".
  int top = 5;                        // Candidates per plate.
  float min_confidence = 0.3f;
  int max_side = 0;  // Detector input's longer side; 0: the manifest's.
  bool json = false;
  bool timing = false;  // Adds "time_ms" to each file's JSON entry.
};

// Prints, per image, its plates best first. With --json:
//   [{"file": "...", "plates": [{"text": "ABC1234", "confidence": 0.93, "box": [x, y, w, h],
//     "candidates": [{"text": "...", "confidence": ...}]}]}]
// An image that cannot be read gets "error" (and empty "plates"). Exit 0 when at least one
// image was read, 1 when none could be, 2 for bad flags or models that cannot be loaded.
int RunPlateRead(const PlateReadFlags& flags, std::ostream& out = std::cout);

}  // namespace custos::cli
