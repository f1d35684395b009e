#include <cstdio>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cli/face_commands.h"
#include "face/face_analyzer.h"
#include "face/pairs_csv.h"
#include "infer/model_manifest.h"
#include "nlohmann/json.hpp"

namespace custos::cli {
namespace {

using nlohmann::json;

double Round(double v, double step) { return std::round(v / step) * step; }

int FaceFail(const absl::Status& status) {
  std::fprintf(stderr, "custos face: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

absl::StatusOr<std::unique_ptr<face::FaceAnalyzer>> MakeAnalyzer(const FaceModelFlags& f,
                                                                 bool embed) {
  face::FaceAnalyzerOptions options;
  options.embed = embed;
  return face::FaceAnalyzer::Create(f.manifest.empty() ? infer::DefaultManifestPath() : f.manifest,
                                    f.models_dir.empty() ? infer::DefaultModelsDir() : f.models_dir,
                                    f.detector, f.embedder, options);
}

json Point(const cv::Point2f& p) { return json::array({Round(p.x, 0.1), Round(p.y, 0.1)}); }

json FaceJson(const face::AnalyzedFace& f) {
  const cv::Rect2f& b = f.detection.box;
  json kp = json::array(), lm = json::array();
  for (const cv::Point2f& p : f.detection.keypoints) kp.push_back(Point(p));
  for (const cv::Point2f& p : f.landmarks) lm.push_back(Point(p));
  json q = {{"passed", f.quality.passed},
            {"size_px", Round(f.quality.size_px, 0.1)},
            {"yaw", Round(f.quality.yaw, 0.01)},
            {"pitch", Round(f.quality.pitch, 0.01)}};
  if (!f.landmarks.empty()) q["sharpness"] = Round(f.quality.sharpness, 0.1);
  if (!f.quality.passed) q["reason"] = f.quality.reason;
  return {{"box", {Round(b.x, 0.1), Round(b.y, 0.1), Round(b.width, 0.1), Round(b.height, 0.1)}},
          {"score", Round(f.detection.score, 0.001)},
          {"keypoints", kp},
          {"landmarks", lm},
          {"quality", q}};
}

// The embedding of the largest face of `file`, or the reason there is none. Cached per file:
// a pairs file usually names each image several times.
class EmbeddingCache {
 public:
  explicit EmbeddingCache(face::FaceAnalyzer& analyzer) : analyzer_(analyzer) {}

  absl::StatusOr<face::Embedding> Get(const std::string& file) {
    auto it = cache_.find(file);
    if (it == cache_.end()) it = cache_.emplace(file, Compute(file)).first;
    return it->second;
  }

 private:
  absl::StatusOr<face::Embedding> Compute(const std::string& file) {
    const cv::Mat image = cv::imread(file, cv::IMREAD_COLOR);
    if (image.empty()) {
      return absl::NotFoundError(absl::StrCat(file,
                                              ": cannot read image (missing file or not an "
                                              "image)"));
    }
    auto face = analyzer_.AnalyzeLargest(image);
    if (!face.ok()) return face.status();
    if (!face->has_value()) return absl::NotFoundError(absl::StrCat(file, ": no face found"));
    if (!(*face)->quality.passed) {
      return absl::FailedPreconditionError(absl::StrCat(
          file, ": the largest face fails the quality gate (", (*face)->quality.reason, ")"));
    }
    return (*face)->embedding;
  }

  face::FaceAnalyzer& analyzer_;
  std::map<std::string, absl::StatusOr<face::Embedding>> cache_;
};

}  // namespace

int RunFaceDetect(const FaceDetectFlags& flags, std::ostream& out) {
  auto analyzer = MakeAnalyzer(flags.model, /*embed=*/false);
  if (!analyzer.ok()) return FaceFail(analyzer.status());
  json all = json::array();
  int failures = 0;
  for (const std::string& file : flags.images) {
    json entry = {{"file", file}, {"faces", json::array()}};
    const cv::Mat image = cv::imread(file, cv::IMREAD_COLOR);
    auto faces = image.empty()
                     ? absl::StatusOr<std::vector<face::AnalyzedFace>>(
                           absl::NotFoundError("cannot read image (missing file or not an image)"))
                     : (*analyzer)->Analyze(image);
    if (!faces.ok()) {
      entry["error"] = std::string(faces.status().message());
      std::fprintf(stderr, "custos face: %s: %s\n", file.c_str(),
                   std::string(faces.status().message()).c_str());
      ++failures;
    } else {
      for (const face::AnalyzedFace& f : *faces) entry["faces"].push_back(FaceJson(f));
    }
    if (!flags.json) {
      out << file << ": " << entry["faces"].size() << " face(s)\n";
      for (const json& f : entry["faces"]) {
        out << "  box " << f["box"].dump() << " score " << f["score"].dump() << " quality "
            << (f["quality"]["passed"].get<bool>() ? std::string("pass")
                                                   : f["quality"]["reason"].get<std::string>())
            << "\n";
      }
    }
    all.push_back(entry);
  }
  if (flags.json) out << all.dump(2) << "\n";
  return failures == 0 ? 0 : 1;
}

int RunFaceCompare(const FaceCompareFlags& flags, std::ostream& out) {
  std::vector<face::ImagePair> pairs;
  if (!flags.pairs.empty()) {
    if (!flags.images.empty()) {
      return FaceFail(absl::InvalidArgumentError("give either two images or --pairs, not both"));
    }
    std::ifstream in(flags.pairs);
    if (!in) {
      return FaceFail(
          absl::InvalidArgumentError(absl::StrCat("cannot open pairs file ", flags.pairs)));
    }
    auto parsed = face::ParsePairsCsv(in);
    if (!parsed.ok()) return FaceFail(parsed.status());
    pairs = *std::move(parsed);
  } else {
    if (flags.images.size() != 2) {
      return FaceFail(absl::InvalidArgumentError(absl::StrCat(
          "face compare takes two images (or --pairs CSV); got ", flags.images.size())));
    }
    pairs.push_back({0, flags.images[0], flags.images[1], ""});
  }
  auto analyzer = MakeAnalyzer(flags.model, /*embed=*/true);
  if (!analyzer.ok()) return FaceFail(analyzer.status());
  const float threshold = flags.threshold >= 0 ? flags.threshold : (*analyzer)->match_threshold();
  EmbeddingCache cache(**analyzer);
  int failures = 0;
  for (const face::ImagePair& p : pairs) {
    json line;
    if (!flags.pairs.empty()) line = {{"line", p.line}, {"a", p.a}, {"b", p.b}};
    line["threshold"] = Round(threshold, 0.0001);
    std::string error = p.error;
    if (error.empty()) {
      auto a = cache.Get(p.a);
      auto b = a.ok() ? cache.Get(p.b) : a;
      if (a.ok() && b.ok()) {
        const float s = face::Similarity(*a, *b);
        line["score"] = Round(s, 0.0001);
        line["same"] = s >= threshold;
      } else {
        error = std::string((a.ok() ? b : a).status().message());
      }
    }
    if (!error.empty()) {
      line["same"] = false;
      line["error"] = error;
      ++failures;
    }
    if (flags.json) {
      out << line.dump() << "\n";
    } else if (error.empty()) {
      out << p.a << " " << p.b << ": score " << line["score"].dump() << " -> "
          << (line["same"].get<bool>() ? "same person" : "different people") << " (threshold "
          << line["threshold"].dump() << ")\n";
    } else {
      out << p.a << " " << p.b << ": error: " << error << "\n";
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace custos::cli
