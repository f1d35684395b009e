// The shared inference service: one per process, serving every camera. Concurrent DetectBatch
// calls from camera threads are queued and merged into batches of up to `max_batch` images for
// the underlying detector, as DeepStream's nvstreammux does, so N cameras cost fewer, larger
// inferences instead of N small ones.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/detector.h"

namespace custos::infer {

struct InferenceServiceOptions {
  // Most images merged into one call of the underlying detector.
  int max_batch = 8;
  // How long the worker waits for more requests after the first one arrives before running a
  // partial batch. Bounds the latency batching adds.
  int max_wait_us = 2000;
  // Requests waiting beyond this are refused with kResourceExhausted (the camera drops the frame
  // and counts it) instead of queueing without bound.
  int max_queued_images = 256;
  // Worker threads, each running its own batches (more than one only helps with many cores).
  int workers = 1;
};

struct InferenceStats {
  int64_t requests = 0;
  int64_t images = 0;
  int64_t batches = 0;
  int64_t rejected = 0;
  double inference_ms = 0;  // Total wall time inside the detector.
};

// Thread-safe. The destructor finishes queued requests, then stops the workers.
class InferenceService final : public Detector {
 public:
  static absl::StatusOr<std::unique_ptr<InferenceService>> Create(
      std::shared_ptr<Detector> detector, const InferenceServiceOptions& options);
  ~InferenceService() override;

  // Blocks until the batch holding these images has run. kResourceExhausted when the queue is
  // full; otherwise whatever the detector returns.
  absl::StatusOr<std::vector<Detections>> DetectBatch(const std::vector<cv::Mat>& images) override;
  const std::vector<std::string>& labels() const override { return detector_->labels(); }
  cv::Size input_size() const override { return detector_->input_size(); }

  InferenceStats stats() const;

 private:
  struct Request {
    const std::vector<cv::Mat>* images;
    std::promise<absl::StatusOr<std::vector<Detections>>> done;
  };

  InferenceService(std::shared_ptr<Detector> detector, const InferenceServiceOptions& options);
  void WorkerLoop();

  const std::shared_ptr<Detector> detector_;
  const InferenceServiceOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request*> queue_;  // Guarded by mu_.
  int64_t queued_images_ = 0;   // Guarded by mu_.
  bool stopping_ = false;       // Guarded by mu_.
  InferenceStats stats_;        // Guarded by mu_.
  std::vector<std::thread> workers_;
};

}  // namespace custos::infer
