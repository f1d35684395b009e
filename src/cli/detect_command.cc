#include <algorithm>
#include <cstdio>
#include <iostream>
#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "infer/openvino_detector.h"
#include "nlohmann/json.hpp"

namespace custos::cli {

int RunDetect(const DetectFlags& flags) {
  auto spec = LoadModelSpec(flags.model);
  if (!spec.ok()) return Fail("detect", spec.status());
  auto detector = infer::OpenVinoDetector::Create(*spec, {});
  if (!detector.ok()) return Fail("detect", detector.status());
  const LabelFilter keep(flags.labels);

  nlohmann::json out = nlohmann::json::array();
  int failures = 0;
  for (const std::string& file : flags.images) {
    nlohmann::json entry = {{"file", file}, {"detections", nlohmann::json::array()}};
    const cv::Mat image = cv::imread(file, cv::IMREAD_COLOR);
    if (image.empty()) {
      entry["error"] = "cannot read image (missing file or not an image)";
      std::fprintf(stderr, "custos detect: %s: cannot read image (missing file or not an image)\n",
                   file.c_str());
      ++failures;
      out.push_back(entry);
      continue;
    }
    auto dets = (*detector)->DetectBatch({image});
    if (!dets.ok()) return Fail("detect", dets.status());
    for (const Detection& d : (*dets)[0]) {
      if (d.score < flags.threshold || !keep(d.label)) continue;
      entry["detections"].push_back(
          {{"label", d.label},
           {"score", RoundTo(d.score, 3)},
           {"box",
            {RoundTo(d.box.x, 1), RoundTo(d.box.y, 1), RoundTo(d.box.w, 1), RoundTo(d.box.h, 1)}}});
    }
    if (!flags.json) {
      std::printf("%s: %zu detections\n", file.c_str(), entry["detections"].size());
      for (const auto& d : entry["detections"]) {
        std::printf("  %-12s %.2f  [%g, %g, %g, %g]\n", d["label"].get<std::string>().c_str(),
                    d["score"].get<double>(), d["box"][0].get<double>(), d["box"][1].get<double>(),
                    d["box"][2].get<double>(), d["box"][3].get<double>());
      }
    }
    out.push_back(entry);
  }
  if (flags.json) std::cout << out.dump(2) << "\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace custos::cli
