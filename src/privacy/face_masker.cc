#include "privacy/face_masker.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "custos/status.h"

namespace custos::privacy {
namespace {

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

// Positions of tiles of side `tile` with step `step` covering [0, length); the last one ends
// at `length`.
std::vector<int> TileStarts(int length, int tile, int step) {
  std::vector<int> starts;
  if (length <= tile) return {0};
  for (int s = 0;; s += step) {
    if (s + tile >= length) {
      starts.push_back(length - tile);
      break;
    }
    starts.push_back(s);
  }
  return starts;
}

}  // namespace

absl::Status ValidateFaceMaskerOptions(const FaceMaskerOptions& options) {
  if (!(options.score_threshold > 0 && options.score_threshold < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "score_threshold must be between 0 and 1 (exclusive), not ", options.score_threshold));
  }
  if (!(options.large_box > 0 && options.large_box <= 1) ||
      !(options.large_box_score >= options.score_threshold && options.large_box_score < 1)) {
    return absl::InvalidArgumentError(
        "large_box must be in (0, 1] and large_box_score in [score_threshold, 1)");
  }
  if (options.tile_size_px != 0 && (options.tile_size_px < 64 || options.tile_size_px > 4096)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tile_size_px must be 0 (no tiles) or 64-4096, not ", options.tile_size_px));
  }
  if (!(options.tile_overlap >= 0 && options.tile_overlap <= 0.75f)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tile_overlap must be between 0 and 0.75, not ", options.tile_overlap));
  }
  if (options.cells < 1 || options.cells > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("cells must be between 1 and 16, not ", options.cells));
  }
  return ValidateMaskTimelineOptions(options.timeline);
}

std::vector<cv::Rect> Tiles(cv::Size size, int tile, float overlap) {
  std::vector<cv::Rect> tiles;
  if (tile <= 0) return tiles;
  if (size.width * 2 <= tile * 3 && size.height * 2 <= tile * 3) return tiles;
  const int step =
      std::max(1, static_cast<int>(std::lround(static_cast<float>(tile) * (1 - overlap))));
  const int w = std::min(tile, size.width), h = std::min(tile, size.height);
  for (int y : TileStarts(size.height, h, step)) {
    for (int x : TileStarts(size.width, w, step)) tiles.emplace_back(x, y, w, h);
  }
  return tiles;
}

void ObscureRegion(cv::Mat& image, const cv::Rect& region, int cells) {
  const cv::Rect r = region & cv::Rect(0, 0, image.cols, image.rows);
  if (r.empty() || image.type() != CV_8UC3) return;
  cells = std::max(cells, 1);
  const int longer = std::max(r.width, r.height);
  // Cells as square as the region allows, at most `cells` along the longer side.
  const int cw =
      std::max(1, static_cast<int>(std::lround(static_cast<double>(cells) * r.width / longer)));
  const int ch =
      std::max(1, static_cast<int>(std::lround(static_cast<double>(cells) * r.height / longer)));
  cv::Mat roi = image(r);
  cv::Mat small, smooth;
  cv::resize(roi, small, cv::Size(cw, ch), 0, 0, cv::INTER_AREA);
  // Bilinear upscaling of the cell means: a smooth blob without block edges.
  cv::resize(small, smooth, r.size(), 0, 0, cv::INTER_LINEAR);
  // Blended in through the ellipse inscribed in the region, opaque out to kOpaque of its
  // radii and fading to the original at its rim: no straight edges or corners, which the
  // detector otherwise takes for new faces at the blob's border. The face box (the region
  // without its padding) lies within kOpaque for padding >= 0.3.
  constexpr float kOpaque = 0.85f;
  // The ellipse of the whole region, also where it reaches out of the image: clipping first
  // would shrink it and uncover the corners of a face at the image's edge.
  const float rx = static_cast<float>(region.width) / 2, ry = static_cast<float>(region.height) / 2;
  const float cx = static_cast<float>(region.x - r.x) + rx;
  const float cy = static_cast<float>(region.y - r.y) + ry;
  for (int y = 0; y < r.height; ++y) {
    auto* dst = roi.ptr<cv::Vec3b>(y);
    const auto* src = smooth.ptr<cv::Vec3b>(y);
    const float dy = (static_cast<float>(y) + 0.5f - cy) / ry;
    for (int x = 0; x < r.width; ++x) {
      const float dx = (static_cast<float>(x) + 0.5f - cx) / rx;
      const float d = std::sqrt(dx * dx + dy * dy);
      const float alpha = std::clamp((1 - d) / (1 - kOpaque), 0.0f, 1.0f);
      if (alpha <= 0) continue;
      for (int c = 0; c < 3; ++c) {
        dst[x][c] = cv::saturate_cast<uchar>(alpha * static_cast<float>(src[x][c]) +
                                             (1 - alpha) * static_cast<float>(dst[x][c]));
      }
    }
  }
}

int ObscureHeld(MaskTimeline& timeline, int64_t frame, cv::Mat& image, int cells) {
  const std::vector<cv::Rect> regions = timeline.Regions(frame, image.size());
  for (const cv::Rect& region : regions) ObscureRegion(image, region, cells);
  return static_cast<int>(regions.size());
}

int ObscureBoxes(cv::Mat& image, const std::vector<cv::Rect2f>& boxes, float padding, int cells) {
  int obscured = 0;
  for (const cv::Rect2f& box : boxes) {
    const cv::Rect region = PaddedRegion(box, padding, image.size());
    if (region.empty()) continue;
    ObscureRegion(image, region, cells);
    ++obscured;
  }
  return obscured;
}

FaceMasker::FaceMasker(face::FaceDetector* detector, const FaceMaskerOptions& options)
    : detector_(detector), options_(options), timeline_(options.timeline) {}

absl::StatusOr<std::unique_ptr<FaceMasker>> FaceMasker::Create(face::FaceDetector* detector,
                                                               const FaceMaskerOptions& options) {
  if (detector == nullptr) return absl::InvalidArgumentError("face masking needs a face detector");
  CUSTOS_RETURN_IF_ERROR(ValidateFaceMaskerOptions(options));
  return std::unique_ptr<FaceMasker>(new FaceMasker(detector, options));
}

int FaceMasker::CallsPerFrame(cv::Size size) const {
  return 1 + static_cast<int>(Tiles(size, options_.tile_size_px, options_.tile_overlap).size());
}

absl::StatusOr<std::vector<face::FaceBox>> FaceMasker::Detect(const cv::Mat& bgr) const {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return absl::InvalidArgumentError("face masking needs a non-empty 8-bit BGR image");
  }
  const auto& input = detector_->model().spec.input;
  const auto input_side = static_cast<float>(std::min(input.width, input.height));
  std::vector<face::FaceBox> all;
  // Keeps the faces of one detector call on `area` that pass the thresholds.
  auto keep = [&](std::vector<face::FaceBox>& found, const cv::Rect& area) {
    const float scale = input_side / static_cast<float>(std::max(area.width, area.height));
    for (face::FaceBox& f : found) {
      const float side_in_input = std::max(f.box.width, f.box.height) * scale;
      const float needed = side_in_input > options_.large_box * input_side
                               ? options_.large_box_score
                               : options_.score_threshold;
      if (f.score < needed) continue;
      f.box.x += static_cast<float>(area.x);
      f.box.y += static_cast<float>(area.y);
      for (cv::Point2f& p : f.keypoints)
        p += cv::Point2f(static_cast<float>(area.x), static_cast<float>(area.y));
      all.push_back(f);
    }
  };
  CUSTOS_ASSIGN_OR_RETURN(std::vector<face::FaceBox> whole, detector_->Detect(bgr));
  keep(whole, cv::Rect(0, 0, bgr.cols, bgr.rows));
  for (const cv::Rect& tile : Tiles(bgr.size(), options_.tile_size_px, options_.tile_overlap)) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<face::FaceBox> found, detector_->Detect(bgr(tile)));
    keep(found, tile);
  }
  std::sort(all.begin(), all.end(),
            [](const face::FaceBox& a, const face::FaceBox& b) { return a.score > b.score; });
  std::vector<face::FaceBox> kept;
  for (const face::FaceBox& f : all) {
    // The same face seen in the whole frame and in up to four tiles: keep the best box.
    if (std::all_of(kept.begin(), kept.end(),
                    [&](const face::FaceBox& k) { return IoU(k.box, f.box) <= 0.3f; })) {
      kept.push_back(f);
    }
  }
  return kept;
}

absl::StatusOr<std::vector<cv::Rect2f>> FaceMasker::FaceBoxesOrBlackOut(cv::Mat& bgr) const {
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<face::FaceBox> faces, OrBlackOut(Detect(bgr), bgr));
  std::vector<cv::Rect2f> boxes;
  for (const face::FaceBox& f : faces) boxes.push_back(f.box);
  return boxes;
}

absl::StatusOr<MaskStats> FaceMasker::MaskInPlace(cv::Mat& bgr) {
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<cv::Rect2f> boxes, FaceBoxesOrBlackOut(bgr));
  const int64_t frame = next_frame_++;
  timeline_.Add(frame, boxes);
  MaskStats stats;
  stats.faces_detected = static_cast<int>(boxes.size());
  stats.regions_obscured = ObscureHeld(timeline_, frame, bgr, options_.cells);
  return stats;
}

absl::StatusOr<int> FaceMasker::MaskStill(cv::Mat& bgr) const {
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<cv::Rect2f> boxes, FaceBoxesOrBlackOut(bgr));
  return ObscureBoxes(bgr, boxes, options_.timeline.padding, options_.cells);
}

void FaceMasker::Reset() {
  timeline_.Reset();
  next_frame_ = 0;
}

}  // namespace custos::privacy
