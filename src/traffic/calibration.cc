#include "traffic/calibration.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/core.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "custos/status.h"

namespace custos::traffic {
namespace {

// Below this, the triangle three points span counts as flat: twice its area over the square
// of its longest side (scale-free, so the same rule serves normalised pixels and metres).
constexpr double kMinTriangleShape = 1e-3;

double Cross(const PointD& o, const PointD& a, const PointD& b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

double DistanceSquared(const PointD& a, const PointD& b) {
  return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y);
}

// Points are numbered from 1 in messages, as a person counts the list in the config.
absl::Status CheckQuadrilateral(const std::array<PointD, 4>& p, absl::string_view side) {
  for (size_t i = 0; i < 4; ++i) {
    if (!std::isfinite(p[i].x) || !std::isfinite(p[i].y)) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration ", side, " point ", i + 1, " is not a finite number"));
    }
  }
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = i + 1; j < 4; ++j) {
      if (p[i].x == p[j].x && p[i].y == p[j].y) {
        return absl::InvalidArgumentError(absl::StrCat("calibration ", side, " points ", i + 1,
                                                       " and ", j + 1,
                                                       " are the same; give four different "
                                                       "points"));
      }
    }
  }
  constexpr std::array<std::array<size_t, 3>, 4> kTriples = {
      {{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}}};
  for (const auto& [a, b, c] : kTriples) {
    const double longest = std::max(
        {DistanceSquared(p[a], p[b]), DistanceSquared(p[b], p[c]), DistanceSquared(p[a], p[c])});
    if (std::abs(Cross(p[a], p[b], p[c])) < kMinTriangleShape * longest) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration ", side, " points ", a + 1, ", ", b + 1, " and ", c + 1,
                       " lie on one line (or nearly); choose four points that span the road, "
                       "e.g. the corners of a stretch of lane"));
    }
  }
  // Convex, in the order given: every turn along the edge goes the same way. A bow-tie (two
  // points swapped) turns both ways.
  int positive = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (Cross(p[i], p[(i + 1) % 4], p[(i + 2) % 4]) > 0) ++positive;
  }
  if (positive != 0 && positive != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("calibration ", side,
                     " points do not form a convex quadrilateral in the order given; list "
                     "them around its edge (clockwise or anticlockwise), in the same order on "
                     "both sides"));
  }
  return absl::OkStatus();
}

// The homography taking each src[i] to dst[i], row-major with h[8] = 1. Both sides are
// moved to their centroid and scaled first, so that ground coordinates in a national grid
// (hundreds of kilometres) solve as well as local ones.
std::optional<std::array<double, 9>> SolveHomography(const std::array<PointD, 4>& src,
                                                     const std::array<PointD, 4>& dst) {
  // Similarity transforms (scale s, centroid c): n = s * (p - c).
  auto normaliser = [](const std::array<PointD, 4>& p) {
    PointD c;
    for (const PointD& q : p) {
      c.x += q.x / 4;
      c.y += q.y / 4;
    }
    double mean = 0;
    for (const PointD& q : p) mean += std::sqrt(DistanceSquared(q, c)) / 4;
    return std::make_pair(c, std::sqrt(2.0) / mean);
  };
  const auto [sc, ss] = normaliser(src);
  const auto [dc, ds] = normaliser(dst);
  cv::Mat a(8, 8, CV_64F, cv::Scalar(0));
  cv::Mat b(8, 1, CV_64F);
  for (int i = 0; i < 4; ++i) {
    const double x = ss * (src[i].x - sc.x), y = ss * (src[i].y - sc.y);
    const double u = ds * (dst[i].x - dc.x), v = ds * (dst[i].y - dc.y);
    double* r0 = a.ptr<double>(2 * i);
    double* r1 = a.ptr<double>(2 * i + 1);
    r0[0] = x, r0[1] = y, r0[2] = 1, r0[6] = -u * x, r0[7] = -u * y;
    r1[3] = x, r1[4] = y, r1[5] = 1, r1[6] = -v * x, r1[7] = -v * y;
    b.at<double>(2 * i) = u;
    b.at<double>(2 * i + 1) = v;
  }
  cv::Mat h;
  if (!cv::solve(a, b, h, cv::DECOMP_LU)) return std::nullopt;
  cv::Mat hn(3, 3, CV_64F);
  for (int i = 0; i < 8; ++i) hn.at<double>(i / 3, i % 3) = h.at<double>(i);
  hn.at<double>(2, 2) = 1;
  // Undo the normalisation: H = Tdst^-1 * Hn * Tsrc.
  const cv::Matx33d t_src(ss, 0, -ss * sc.x, 0, ss, -ss * sc.y, 0, 0, 1);
  const cv::Matx33d t_dst_inv(1 / ds, 0, dc.x, 0, 1 / ds, dc.y, 0, 0, 1);
  const cv::Matx33d full = t_dst_inv * cv::Matx33d(hn) * t_src;
  std::array<double, 9> out;
  for (int i = 0; i < 9; ++i) {
    out[i] = full.val[i] / full.val[8];
    if (!std::isfinite(out[i])) return std::nullopt;
  }
  return out;
}

// Applies homography `h` to (x, y); nullopt unless the point lies on the visible side of the
// horizon (the side where the homogeneous w has the sign `side`), with a margin against points
// so close to the horizon that they map absurdly far away.
std::optional<PointD> Map(const std::array<double, 9>& h, double side, double x, double y) {
  const double w = h[6] * x + h[7] * y + h[8];
  const double scale = std::abs(h[6]) + std::abs(h[7]) + std::abs(h[8]);
  if (!(w * side > 1e-9 * scale)) return std::nullopt;
  const PointD p{(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w};
  if (!std::isfinite(p.x) || !std::isfinite(p.y)) return std::nullopt;
  return p;
}

double Side(const std::array<double, 9>& h, const PointD& p) {
  return h[6] * p.x + h[7] * p.y + h[8] > 0 ? 1 : -1;
}

}  // namespace

absl::StatusOr<GroundCalibration> GroundCalibration::Create(std::span<const PointF> image,
                                                            std::span<const PointD> ground) {
  if (image.size() != 4 || ground.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ground calibration needs exactly 4 image points and 4 ground points, got ",
                     image.size(), " and ", ground.size()));
  }
  std::array<PointD, 4> img, gnd;
  for (size_t i = 0; i < 4; ++i) {
    img[i] = {image[i].x, image[i].y};
    gnd[i] = ground[i];
    if (!(image[i].x >= 0 && image[i].x <= 1 && image[i].y >= 0 && image[i].y <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "calibration image point ", i + 1,
          " is outside [0, 1]; image points are fractions of the detect frame's width and "
          "height"));
    }
  }
  CUSTOS_RETURN_IF_ERROR(CheckQuadrilateral(img, "image"));
  CUSTOS_RETURN_IF_ERROR(CheckQuadrilateral(gnd, "ground"));
  const std::optional<std::array<double, 9>> to_ground = SolveHomography(img, gnd);
  const std::optional<std::array<double, 9>> to_image = SolveHomography(gnd, img);
  if (!to_ground || !to_image) {
    return absl::InvalidArgumentError(
        "the calibration points give no usable mapping between the picture and the road; "
        "check that the image and ground points are listed in the same order");
  }
  GroundCalibration c;
  c.to_ground_ = *to_ground;
  c.to_image_ = *to_image;
  c.image_side_ = Side(c.to_ground_, img[0]);
  c.ground_side_ = Side(c.to_image_, gnd[0]);
  return c;
}

std::optional<PointD> GroundCalibration::ToGround(const PointF& normalised) const {
  return Map(to_ground_, image_side_, normalised.x, normalised.y);
}

std::optional<PointF> GroundCalibration::ToImage(const PointD& ground) const {
  const std::optional<PointD> p = Map(to_image_, ground_side_, ground.x, ground.y);
  if (!p) return std::nullopt;
  return PointF{static_cast<float>(p->x), static_cast<float>(p->y)};
}

}  // namespace custos::traffic
