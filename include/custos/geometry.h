// Plain geometry value types used across modules. Coordinates are pixels of the frame they
// belong to, origin top-left, x to the right, y down.
#pragma once

#include <algorithm>
#include <vector>

namespace custos {

struct PointF {
  float x = 0;
  float y = 0;
};

// A point in double precision, e.g. on the road plane in metres (docs/traffic.md), where
// float's 7 digits would cost centimetres a few hundred metres from the origin.
struct PointD {
  double x = 0;
  double y = 0;
};

// Axis-aligned box: top-left corner plus size, the form events and JSON use ([x, y, w, h]).
struct BoxF {
  float x = 0;
  float y = 0;
  float w = 0;
  float h = 0;

  float Area() const { return w > 0 && h > 0 ? w * h : 0.0f; }
  float Right() const { return x + w; }
  float Bottom() const { return y + h; }
  PointF Center() const { return {x + w / 2, y + h / 2}; }
  // The bottom centre: where a person or vehicle touches the ground; zones and lines test it.
  PointF FootPoint() const { return {x + w / 2, y + h}; }
};

inline float Intersection(const BoxF& a, const BoxF& b) {
  const float x0 = std::max(a.x, b.x);
  const float y0 = std::max(a.y, b.y);
  const float x1 = std::min(a.Right(), b.Right());
  const float y1 = std::min(a.Bottom(), b.Bottom());
  return (x1 > x0 && y1 > y0) ? (x1 - x0) * (y1 - y0) : 0.0f;
}

inline float IoU(const BoxF& a, const BoxF& b) {
  const float inter = Intersection(a, b);
  const float uni = a.Area() + b.Area() - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

using Polygon = std::vector<PointF>;

}  // namespace custos
