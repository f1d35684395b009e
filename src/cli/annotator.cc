#include "cli/annotator.h"

#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace custos::cli {
namespace {

cv::Point ToPixels(const PointF& p, cv::Size size) {
  return {static_cast<int>(p.x * static_cast<float>(size.width)),
          static_cast<int>(p.y * static_cast<float>(size.height))};
}

void Label(cv::Mat& image, const std::string& text, cv::Point at, const cv::Scalar& colour) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, 0.45, 1, &baseline);
  at.y = std::max(at.y, size.height + 4);
  cv::rectangle(image, {at.x, at.y - size.height - 4}, {at.x + size.width + 4, at.y + 2}, colour,
                cv::FILLED);
  cv::putText(image, text, {at.x + 2, at.y - 2}, cv::FONT_HERSHEY_SIMPLEX, 0.45, {0, 0, 0}, 1,
              cv::LINE_AA);
}

}  // namespace

cv::Scalar TrackColour(int64_t id) {
  static const cv::Scalar kPalette[] = {{0, 255, 0},   {255, 0, 255}, {0, 165, 255},
                                        {255, 255, 0}, {0, 0, 255},   {255, 0, 0},
                                        {0, 255, 255}, {128, 0, 255}, {0, 128, 255}};
  return kPalette[static_cast<size_t>(id) % std::size(kPalette)];
}

absl::StatusOr<std::unique_ptr<Annotator>> Annotator::Create(const std::string& path, cv::Size size,
                                                             double fps,
                                                             const config::CameraConfig& camera) {
  // OpenCV's FFmpeg backend: H.264 (libx264) where available, MPEG-4 part 2 otherwise.
  for (const char* codec : {"avc1", "mp4v"}) {
    cv::VideoWriter writer(path, cv::CAP_FFMPEG,
                           cv::VideoWriter::fourcc(codec[0], codec[1], codec[2], codec[3]),
                           fps > 0 ? fps : 5, size);
    if (writer.isOpened())
      return std::unique_ptr<Annotator>(new Annotator(std::move(writer), camera));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot write annotated video ", path, " (is the folder writable?)"));
}

void Annotator::Write(const Frame& frame, const pipeline::FrameResult& result,
                      const zones::ZoneCounts& counts) {
  frame.bgr.copyTo(canvas_);
  const cv::Size size = canvas_.size();
  // Zones: translucent fill and outline.
  if (!camera_.zones.empty()) {
    cv::Mat overlay = canvas_.clone();
    for (const config::ZoneConfig& z : camera_.zones) {
      std::vector<cv::Point> pts;
      for (const PointF& p : z.polygon) pts.push_back(ToPixels(p, size));
      cv::fillPoly(overlay, std::vector<std::vector<cv::Point>>{pts}, {255, 200, 0});
      cv::polylines(canvas_, pts, true, {255, 200, 0}, 1, cv::LINE_AA);
    }
    cv::addWeighted(overlay, 0.15, canvas_, 0.85, 0, canvas_);
    for (const config::ZoneConfig& z : camera_.zones) {
      Label(canvas_, z.name, ToPixels(z.polygon[0], size), {255, 200, 0});
    }
  }
  // Lines: arrow from the first point to the second, with counts per direction.
  for (const config::LineConfig& l : camera_.lines) {
    const cv::Point a = ToPixels(l.from, size), b = ToPixels(l.to, size);
    cv::arrowedLine(canvas_, a, b, {255, 255, 255}, 2, cv::LINE_AA, 0, 0.05);
    int64_t forward = 0, backward = 0;
    for (const auto& [key, n] : counts.line_crossings) {
      if (key.line != l.name) continue;
      (key.direction == l.left_to_right ? forward : backward) += n;
    }
    Label(canvas_,
          absl::StrFormat("%s %s:%d %s:%d", l.name, l.left_to_right, forward, l.right_to_left,
                          backward),
          a, {255, 255, 255});
  }
  // Where the detector looked this frame.
  for (const cv::Rect& r : result.regions) {
    cv::rectangle(canvas_, r, {200, 200, 200}, 1, cv::LINE_4);
  }
  for (const pipeline::TrackView& t : result.tracks) {
    if (t.lost) continue;
    const cv::Scalar colour = TrackColour(t.id);
    const cv::Rect box(static_cast<int>(t.box.x), static_cast<int>(t.box.y),
                       static_cast<int>(t.box.w), static_cast<int>(t.box.h));
    cv::rectangle(canvas_, box, colour, t.stationary ? 1 : 2, cv::LINE_AA);
    Label(canvas_,
          absl::StrFormat("%s #%d %.2f%s", t.label, t.id, t.score, t.stationary ? " (still)" : ""),
          {box.x, box.y - 2}, colour);
  }
  Label(canvas_,
        absl::StrFormat("%s  %.1f s", camera_.id, static_cast<double>(frame.pts_ms) / 1000),
        {4, size.height - 4}, {255, 255, 255});
  writer_.write(canvas_);
}

}  // namespace custos::cli
