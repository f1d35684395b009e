// Output of an object detector, in the pixel coordinates of the frame it ran on.
#pragma once

#include <string>
#include <vector>

#include "custos/geometry.h"

namespace custos {

struct Detection {
  int class_id = -1;  // Index into the model's label list.
  std::string label;  // "person", "car", ...
  float score = 0;    // Confidence in [0, 1].
  BoxF box;
};

using Detections = std::vector<Detection>;

}  // namespace custos
