#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "cli/plate_commands.h"
#include "nlohmann/json.hpp"
#include "plate/plate_reader.h"

namespace custos::cli {
namespace {

// Keys in the documented order: file, plates (text, confidence, box, candidates), error.
using json = nlohmann::ordered_json;

double Round3(double v) { return std::round(v * 1000) / 1000; }

int PlateFail(const absl::Status& status) {
  std::fprintf(stderr, "custos plate: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

// Reads an image without letting a corrupt file throw out of OpenCV's decoders.
absl::StatusOr<cv::Mat> LoadImage(const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return absl::NotFoundError("no such file");
  cv::Mat image;
  try {
    image = cv::imread(file, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return absl::DataLossError(absl::StrCat("cannot decode image: ", e.what()));
  }
  if (image.empty()) {
    return absl::DataLossError("cannot read image (not an image, or corrupt)");
  }
  return image;
}

}  // namespace

int RunPlateRead(const PlateReadFlags& flags, std::ostream& out) {
  if (flags.top < 1) return PlateFail(absl::InvalidArgumentError("--top must be at least 1"));
  plate::PlateReaderOptions options;
  options.manifest = flags.manifest;
  options.models_dir = flags.models_dir;
  options.detector = flags.detector;
  options.recognizer = flags.recognizer;
  options.vehicle_detector = flags.vehicle_detector;
  options.country = flags.country;
  options.patterns = flags.patterns;
  options.top_k = flags.top;
  options.min_confidence = flags.min_confidence;
  options.detector_options.max_side_px = flags.max_side;
  auto reader = plate::PlateReader::Create(options);
  if (!reader.ok()) return PlateFail(reader.status());
  json all = json::array();
  int read_ok = 0;
  for (const std::string& file : flags.images) {
    json entry = {{"file", file}, {"plates", json::array()}};
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<cv::Mat> image = LoadImage(file);
    absl::StatusOr<std::vector<plate::PlateRead>> plates =
        image.ok() ? (*reader)->Read(*image) : image.status();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!plates.ok()) {
      entry["error"] = std::string(plates.status().message());
      std::fprintf(stderr, "custos plate: %s: %s\n", file.c_str(),
                   std::string(plates.status().message()).c_str());
    } else {
      ++read_ok;
      for (const plate::PlateRead& p : *plates) {
        json candidates = json::array();
        for (const plate::PlateCandidate& c : p.candidates) {
          candidates.push_back({{"text", c.text}, {"confidence", Round3(c.confidence)}});
        }
        entry["plates"].push_back({{"text", p.text},
                                   {"confidence", Round3(p.confidence)},
                                   {"box", {p.box.x, p.box.y, p.box.width, p.box.height}},
                                   {"candidates", candidates}});
      }
    }
    if (flags.timing) entry["time_ms"] = std::round(ms * 10) / 10;
    if (!flags.json) {
      if (entry.contains("error")) {
        out << file << ": error: " << entry["error"].get<std::string>() << "\n";
      } else {
        out << file << ": " << entry["plates"].size() << " plate(s)\n";
        for (const json& p : entry["plates"]) {
          out << "  " << p["text"].get<std::string>() << "  confidence " << p["confidence"].dump()
              << "  box " << p["box"].dump() << "\n";
          for (size_t i = 1; i < p["candidates"].size(); ++i) {
            const json& c = p["candidates"][i];
            out << "    - " << c["text"].get<std::string>() << "  " << c["confidence"].dump()
                << "\n";
          }
        }
      }
    }
    all.push_back(entry);
  }
  if (flags.json) out << all.dump() << "\n";
  return read_ok > 0 || flags.images.empty() ? 0 : 1;
}

}  // namespace custos::cli
