// Draws what the pipeline saw onto frames and writes them as an MP4: zones, directed lines with
// their counts, detector regions, and each track's box, id and label.
#pragma once

#include <memory>
#include <opencv2/videoio.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "custos/frame.h"
#include "pipeline/camera_pipeline.h"

namespace custos::cli {

// Not thread-safe.
class Annotator {
 public:
  // kUnavailable if no H.264 or MPEG-4 encoder can open `path`.
  static absl::StatusOr<std::unique_ptr<Annotator>> Create(const std::string& path, cv::Size size,
                                                           double fps,
                                                           const config::CameraConfig& camera);
  void Write(const Frame& frame, const pipeline::FrameResult& result,
             const zones::ZoneCounts& counts);

 private:
  Annotator(cv::VideoWriter writer, config::CameraConfig camera)
      : writer_(std::move(writer)), camera_(std::move(camera)) {}

  cv::VideoWriter writer_;
  const config::CameraConfig camera_;
  cv::Mat canvas_;
};

// A saturated colour per track id, stable across frames.
cv::Scalar TrackColour(int64_t id);

}  // namespace custos::cli
