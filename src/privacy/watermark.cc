#include "privacy/watermark.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"

namespace custos::privacy {

absl::Status ValidateExportId(const std::string& export_id) {
  if (export_id.empty() || export_id.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("an export id must have 1-64 characters, not ", export_id.size()));
  }
  for (const char c : export_id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) {
      return absl::InvalidArgumentError(
          "an export id may hold only A-Z a-z 0-9 - _ . (it is drawn on every frame)");
    }
  }
  return absl::OkStatus();
}

std::string FormatFrameTime(int64_t ms, bool utc) {
  char text[64];
  if (utc) {
    const auto seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    const int64_t millis = ms - static_cast<int64_t>(seconds) * 1000;
    std::tm t{};
    gmtime_r(&seconds, &t);
    std::snprintf(text, sizeof(text), "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", t.tm_year + 1900,
                  t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(millis));
  } else {
    const int64_t a = ms < 0 ? -ms : ms;
    std::snprintf(text, sizeof(text), "%s%02lld:%02lld:%02lld.%03lld", ms < 0 ? "-" : "+",
                  static_cast<long long>(a / 3'600'000), static_cast<long long>(a / 60'000 % 60),
                  static_cast<long long>(a / 1000 % 60), static_cast<long long>(a % 1000));
  }
  return text;
}

std::vector<std::string> WatermarkLines(const std::string& export_id, const std::string& time,
                                        bool blurred, bool plates_blurred) {
  const char* what = !blurred         ? "UNBLURRED - APPROVED EXPORT"
                     : plates_blurred ? "FACES AND PLATES BLURRED"
                                      : "FACES BLURRED";
  return {absl::StrCat("CUSTOS EXPORT ", export_id), time, what};
}

cv::Rect DrawWatermark(cv::Mat& bgr, const std::vector<std::string>& lines) {
  if (bgr.empty() || lines.empty()) return {};
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  // Hershey simplex capitals are ~22 px tall at scale 1.
  const double scale = std::max(0.35, bgr.rows / 30.0 / 22.0 * 0.75);
  const int thickness = std::max(1, static_cast<int>(scale * 2 + 0.5));
  const int margin = std::max(4, bgr.rows / 100);
  int width = 0, line_height = 0, baseline = 0;
  for (const std::string& line : lines) {
    const cv::Size s = cv::getTextSize(line, font, scale, thickness, &baseline);
    width = std::max(width, s.width);
    line_height = std::max(line_height, s.height + baseline);
  }
  const int spacing = line_height + margin / 2;
  const cv::Rect band = cv::Rect(margin, margin, width + 2 * margin,
                                 spacing * static_cast<int>(lines.size()) + margin) &
                        cv::Rect(0, 0, bgr.cols, bgr.rows);
  cv::Mat roi = bgr(band);
  roi.convertTo(roi, -1, 0.35, 0);  // Darkened, still see-through.
  for (size_t i = 0; i < lines.size(); ++i) {
    const cv::Point origin(2 * margin, margin + spacing * static_cast<int>(i + 1) - baseline);
    cv::putText(bgr, lines[i], origin, font, scale, cv::Scalar(255, 255, 255), thickness,
                cv::LINE_AA);
  }
  return band;
}

}  // namespace custos::privacy
