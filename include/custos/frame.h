// A decoded video frame as it travels through the analytics pipeline.
#pragma once

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>

namespace custos {

struct Frame {
  cv::Mat bgr;           // 8-bit BGR, already scaled to the detect resolution.
  int64_t index = 0;     // Sequence number of decoded frames handed out by the source.
  int64_t pts_ms = 0;    // Presentation time from the stream's packets, in ms from start.
  int64_t wall_ms = 0;   // UTC wall-clock time in ms (stream start + pts for files).
  int source_width = 0;  // Size of the stream before scaling.
  int source_height = 0;
  // 8-bit BGR at the stream's resolution (at most ingest's full_frame_max_width wide), for
  // stages that need detail the detect frame lost, such as reading licence plates. Empty
  // unless the source was asked for it.
  cv::Mat full;
};

}  // namespace custos
