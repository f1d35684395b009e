// Ground calibration of one camera: the homography from the detect frame (normalised
// coordinates) to the road plane in metres, from four measured point pairs. How to measure
// them, and what accuracy to expect: docs/traffic.md.
#pragma once

#include <array>
#include <optional>
#include <span>

#include "absl/status/statusor.h"
#include "custos/geometry.h"

namespace custos::traffic {

// A plane-to-plane mapping between the picture and the road. Valid only for points on the
// road surface (a vehicle's foot point), not for anything above it.
//
// Immutable after Create(); thread-safe.
class GroundCalibration {
 public:
  // `image`: four points in normalised detect-frame coordinates ([0, 1], origin top-left);
  // `ground`: the same four points on the road, in metres in any local planar frame (e.g.
  // x across the road, y along it). Each side must be 4 finite, distinct points of which no
  // three lie on one line (or nearly), forming a convex quadrilateral in the order given
  // (around its edge, clockwise or anticlockwise).
  // Errors: kInvalidArgument naming the side ("image" or "ground") and the points at fault.
  static absl::StatusOr<GroundCalibration> Create(std::span<const PointF> image,
                                                  std::span<const PointD> ground);

  // The ground point (metres) under a normalised image point; nullopt for a point at or
  // beyond the horizon of the road plane, which no point of the road maps to.
  std::optional<PointD> ToGround(const PointF& normalised) const;

  // The normalised image point of a ground point (metres); nullopt for a point behind the
  // camera. Inverse of ToGround.
  std::optional<PointF> ToImage(const PointD& ground) const;

 private:
  GroundCalibration() = default;

  // Row-major 3x3 homographies, image -> ground and ground -> image.
  std::array<double, 9> to_ground_ = {};
  std::array<double, 9> to_image_ = {};
  // Sign of the homogeneous w of points on the visible side of the horizon (w of the
  // calibration quadrilateral's own points).
  double image_side_ = 1;
  double ground_side_ = 1;
};

}  // namespace custos::traffic
