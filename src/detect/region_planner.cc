#include "detect/region_planner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace custos::detect {
namespace {

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("region planner options: ", message));
}

absl::Status Validate(const RegionPlannerOptions& o) {
  if (o.model_size_px < 32 || o.model_size_px > 4096) {
    return Invalid(absl::StrCat("model_size_px must be in [32, 4096], got ", o.model_size_px));
  }
  if (o.max_regions < 1 || o.max_regions > 64) {
    return Invalid(absl::StrCat("max_regions must be in [1, 64], got ", o.max_regions));
  }
  if (!(o.track_margin >= 0 && o.track_margin <= 2)) {
    return Invalid(absl::StrCat("track_margin must be in [0, 2], got ", o.track_margin));
  }
  if (!(o.full_frame_fraction > 0) || !std::isfinite(o.full_frame_fraction)) {
    return Invalid(absl::StrCat("full_frame_fraction must be > 0, got ", o.full_frame_fraction));
  }
  if (!(o.merge_iou > 0 && o.merge_iou <= 1)) {
    return Invalid(absl::StrCat("merge_iou must be in (0, 1], got ", o.merge_iou));
  }
  if (!(o.cut_border_px >= 0) || !std::isfinite(o.cut_border_px)) {
    return Invalid(absl::StrCat("cut_border_px must be >= 0, got ", o.cut_border_px));
  }
  if (!(o.cut_containment > 0 && o.cut_containment <= 1)) {
    return Invalid(absl::StrCat("cut_containment must be in (0, 1], got ", o.cut_containment));
  }
  return absl::OkStatus();
}

// An integer box by its edges, half-open: [x0, x1) x [y0, y1).
struct Span2 {
  int x0 = 0;
  int y0 = 0;
  int x1 = 0;
  int y1 = 0;

  int Width() const { return x1 - x0; }
  int Height() const { return y1 - y0; }
  int Side() const { return std::max(Width(), Height()); }
  int64_t Area() const { return static_cast<int64_t>(Width()) * Height(); }
};

Span2 Union(const Span2& a, const Span2& b) {
  return {std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

// The smallest integer box holding `box` clipped to the frame; false when nothing is left.
bool ToPixels(const BoxF& box, cv::Size frame, Span2* out) {
  if (!std::isfinite(box.x) || !std::isfinite(box.y) || !std::isfinite(box.w) ||
      !std::isfinite(box.h) || box.w <= 0 || box.h <= 0) {
    return false;
  }
  const auto clamp = [](float v, int hi) {
    return static_cast<int>(std::clamp(v, 0.0f, static_cast<float>(hi)));
  };
  out->x0 = clamp(std::floor(box.x), frame.width);
  out->y0 = clamp(std::floor(box.y), frame.height);
  out->x1 = clamp(std::ceil(box.Right()), frame.width);
  out->y1 = clamp(std::ceil(box.Bottom()), frame.height);
  return out->x1 > out->x0 && out->y1 > out->y0;
}

// One axis of a region: `side` long, centred on [lo, hi), moved to lie inside [0, limit), or
// the whole of [0, limit) when it does not fit. Returns {start, length}.
std::pair<int, int> PlaceAxis(int lo, int hi, int side, int limit) {
  if (side >= limit) return {0, limit};
  const int start = lo - (side - (hi - lo)) / 2;  // Rounds down: still covers [lo, hi).
  return {std::clamp(start, 0, limit - side), side};
}

}  // namespace

absl::StatusOr<std::unique_ptr<RegionPlanner>> RegionPlanner::Create(
    const RegionPlannerOptions& options) {
  if (absl::Status status = Validate(options); !status.ok()) return status;
  return std::unique_ptr<RegionPlanner>(new RegionPlanner(options));
}

std::vector<cv::Rect> RegionPlanner::Plan(cv::Size frame_size, std::span<const BoxF> motion_boxes,
                                          std::span<const TrackedBox> tracked_boxes) const {
  if (frame_size.width <= 0 || frame_size.height <= 0) return {};
  std::vector<Span2> boxes;
  boxes.reserve(motion_boxes.size() + tracked_boxes.size());
  Span2 pixels;
  for (const BoxF& box : motion_boxes) {
    if (ToPixels(box, frame_size, &pixels)) boxes.push_back(pixels);
  }
  for (const TrackedBox& tracked : tracked_boxes) {
    if (!tracked.include) continue;
    const BoxF& b = tracked.box;
    const float mx = b.w * options_.track_margin;
    const float my = b.h * options_.track_margin;
    if (ToPixels(BoxF{b.x - mx, b.y - my, b.w + 2 * mx, b.h + 2 * my}, frame_size, &pixels)) {
      boxes.push_back(pixels);
    }
  }
  if (boxes.empty()) return {};

  // Greedy clustering, biggest boxes first: a box joins the cluster it grows least, if the
  // cluster's region need not grow for it (the region is max(model size, cluster extent)).
  std::stable_sort(boxes.begin(), boxes.end(),
                   [](const Span2& a, const Span2& b) { return a.Area() > b.Area(); });
  const int model = options_.model_size_px;
  std::vector<Span2> clusters;
  for (const Span2& box : boxes) {
    int best = -1;
    int64_t best_growth = std::numeric_limits<int64_t>::max();
    for (size_t i = 0; i < clusters.size(); ++i) {
      const Span2 joined = Union(clusters[i], box);
      if (joined.Side() > std::max(model, clusters[i].Side())) continue;
      const int64_t growth = joined.Area() - clusters[i].Area();
      if (growth < best_growth) {
        best_growth = growth;
        best = static_cast<int>(i);
      }
    }
    if (best >= 0) {
      clusters[best] = Union(clusters[best], box);
    } else {
      clusters.push_back(box);
    }
  }
  // Clusters that grew may now fit in one region together.
  for (bool merged = true; merged;) {
    merged = false;
    for (size_t i = 0; i < clusters.size() && !merged; ++i) {
      for (size_t j = i + 1; j < clusters.size() && !merged; ++j) {
        const Span2 joined = Union(clusters[i], clusters[j]);
        if (joined.Side() <= std::max({model, clusters[i].Side(), clusters[j].Side()})) {
          clusters[i] = joined;
          clusters.erase(clusters.begin() + static_cast<std::ptrdiff_t>(j));
          merged = true;
        }
      }
    }
  }
  // Too many regions: merge the pair whose union is smallest until few enough remain.
  while (clusters.size() > static_cast<size_t>(options_.max_regions)) {
    size_t best_i = 0;
    size_t best_j = 1;
    std::pair<int, int64_t> best_cost{std::numeric_limits<int>::max(), 0};
    for (size_t i = 0; i < clusters.size(); ++i) {
      for (size_t j = i + 1; j < clusters.size(); ++j) {
        const Span2 joined = Union(clusters[i], clusters[j]);
        const std::pair<int, int64_t> cost{joined.Side(), joined.Area()};
        if (cost < best_cost) {
          best_cost = cost;
          best_i = i;
          best_j = j;
        }
      }
    }
    clusters[best_i] = Union(clusters[best_i], clusters[best_j]);
    clusters.erase(clusters.begin() + static_cast<std::ptrdiff_t>(best_j));
  }

  std::vector<cv::Rect> regions;
  regions.reserve(clusters.size());
  for (const Span2& c : clusters) {
    const int side = std::max(model, c.Side());
    const auto [x, w] = PlaceAxis(c.x0, c.x1, side, frame_size.width);
    const auto [y, h] = PlaceAxis(c.y0, c.y1, side, frame_size.height);
    regions.emplace_back(x, y, w, h);
  }
  // A region inside another adds nothing: its boxes are whole in the bigger one.
  for (size_t i = 0; i < regions.size();) {
    bool inside = false;
    for (size_t j = 0; j < regions.size() && !inside; ++j) {
      inside = j != i && (regions[i] & regions[j]) == regions[i];
    }
    if (inside) {
      regions.erase(regions.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  double covered = 0;
  for (const cv::Rect& r : regions) covered += r.area();
  if (covered >= static_cast<double>(options_.full_frame_fraction) * frame_size.area()) {
    return {cv::Rect(0, 0, frame_size.width, frame_size.height)};
  }
  return regions;
}

Detections RegionPlanner::MergeRegionDetections(cv::Size frame_size,
                                                std::span<const RegionDetections> regions) const {
  struct Candidate {
    Detection detection;
    bool cut = false;
  };
  const cv::Rect frame(0, 0, frame_size.width, frame_size.height);
  std::vector<Candidate> candidates;
  for (const RegionDetections& rd : regions) {
    const cv::Rect region = rd.region & frame;
    if (region.empty()) continue;
    const auto rx0 = static_cast<float>(region.x);
    const auto ry0 = static_cast<float>(region.y);
    const auto rx1 = static_cast<float>(region.br().x);
    const auto ry1 = static_cast<float>(region.br().y);
    for (const Detection& d : rd.detections) {
      const BoxF& b = d.box;
      if (!std::isfinite(b.x) || !std::isfinite(b.y) || !std::isfinite(b.w) ||
          !std::isfinite(b.h) || !std::isfinite(d.score)) {
        continue;
      }
      // The detector's box may reach past its crop; clip it to what the region saw.
      const float x0 = std::max(rx0, static_cast<float>(rd.region.x) + b.x);
      const float y0 = std::max(ry0, static_cast<float>(rd.region.y) + b.y);
      const float x1 = std::min(rx1, static_cast<float>(rd.region.x) + b.Right());
      const float y1 = std::min(ry1, static_cast<float>(rd.region.y) + b.Bottom());
      if (x1 <= x0 || y1 <= y0) continue;
      Candidate& c = candidates.emplace_back();
      c.detection = d;
      c.detection.box = BoxF{x0, y0, x1 - x0, y1 - y0};
      const float border = options_.cut_border_px;
      c.cut = (region.x > 0 && x0 - rx0 <= border) || (region.y > 0 && y0 - ry0 <= border) ||
              (region.br().x < frame.width && rx1 - x1 <= border) ||
              (region.br().y < frame.height && ry1 - y1 <= border);
    }
  }
  // Whole boxes first, then by score: a whole view of an object beats a better-scored piece.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     if (a.cut != b.cut) return !a.cut;
                     return a.detection.score > b.detection.score;
                   });
  std::vector<const Candidate*> kept;
  for (const Candidate& c : candidates) {
    bool duplicate = false;
    for (const Candidate* k : kept) {
      if (k->detection.class_id != c.detection.class_id) continue;
      const BoxF& a = c.detection.box;
      const BoxF& b = k->detection.box;
      if (IoU(a, b) > options_.merge_iou ||
          (c.cut && !k->cut && Intersection(a, b) >= options_.cut_containment * a.Area())) {
        duplicate = true;
        break;
      }
    }
    if (!duplicate) kept.push_back(&c);
  }
  Detections merged;
  merged.reserve(kept.size());
  for (const Candidate* k : kept) merged.push_back(k->detection);
  std::stable_sort(merged.begin(), merged.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return merged;
}

}  // namespace custos::detect
