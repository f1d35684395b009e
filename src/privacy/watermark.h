// The visible watermark of exported video: the export id and the time of each frame, so a
// copy that leaks can be traced to its export (and its audit entry). See docs/privacy.md.
#pragma once

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace custos::privacy {

// An export id goes into the picture and file names: 1-64 characters of A-Z a-z 0-9 - _ .
// (a ULID fits). kInvalidArgument saying what is wrong otherwise.
absl::Status ValidateExportId(const std::string& export_id);

// "2026-11-27 03:22:41.300 UTC" for a UTC time in ms; "+01:02:03.400" (clip time) for
// clip-relative ms when utc is false.
std::string FormatFrameTime(int64_t ms, bool utc);

// The lines drawn on a frame: "CUSTOS EXPORT <id>", the frame time, and "FACES BLURRED"
// ("FACES AND PLATES BLURRED" when plates_blurred too) or "UNBLURRED - APPROVED EXPORT".
std::vector<std::string> WatermarkLines(const std::string& export_id, const std::string& time,
                                        bool blurred, bool plates_blurred = false);

// Draws `lines` (ASCII) in the top-left corner of `bgr` on a dark translucent band, white
// text sized to the frame (about 1/30 of its height per line, at least legible at 240 p).
// Returns the rectangle it changed. REQUIRES: `bgr` 8-bit BGR.
cv::Rect DrawWatermark(cv::Mat& bgr, const std::vector<std::string>& lines);

}  // namespace custos::privacy
