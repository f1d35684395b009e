#include "infer/inference_service.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace custos::infer {

absl::StatusOr<std::unique_ptr<InferenceService>> InferenceService::Create(
    std::shared_ptr<Detector> detector, const InferenceServiceOptions& options) {
  if (!detector) return absl::InvalidArgumentError("inference service needs a detector");
  if (options.max_batch < 1 || options.workers < 1 || options.max_wait_us < 0 ||
      options.max_queued_images < 1) {
    return absl::InvalidArgumentError(
        "inference service: max_batch, workers and max_queued_images must be >= 1 and "
        "max_wait_us >= 0");
  }
  return std::unique_ptr<InferenceService>(new InferenceService(std::move(detector), options));
}

InferenceService::InferenceService(std::shared_ptr<Detector> detector,
                                   const InferenceServiceOptions& options)
    : detector_(std::move(detector)), options_(options) {
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

InferenceService::~InferenceService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

absl::StatusOr<std::vector<Detections>> InferenceService::DetectBatch(
    const std::vector<cv::Mat>& images) {
  if (images.empty()) return std::vector<Detections>{};
  Request request{&images, {}};
  std::future<absl::StatusOr<std::vector<Detections>>> result = request.done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::CancelledError("inference service is shutting down");
    const auto n = static_cast<int64_t>(images.size());
    if (queued_images_ + n > options_.max_queued_images) {
      ++stats_.rejected;
      return absl::ResourceExhaustedError(absl::StrCat("inference queue full (", queued_images_,
                                                       " images waiting); frame dropped"));
    }
    queued_images_ += n;
    queue_.push_back(&request);
  }
  cv_.notify_one();
  return result.get();
}

void InferenceService::WorkerLoop() {
  for (;;) {
    std::vector<Request*> batch;
    size_t images = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping and drained.
      // Wait briefly for other cameras' requests to fill the batch.
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::microseconds(options_.max_wait_us);
      auto take = [&] {
        while (!queue_.empty() && (batch.empty() || images + queue_.front()->images->size() <=
                                                        static_cast<size_t>(options_.max_batch))) {
          images += queue_.front()->images->size();
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      };
      take();
      while (images < static_cast<size_t>(options_.max_batch) && !stopping_ &&
             cv_.wait_until(lock, deadline, [&] { return stopping_ || !queue_.empty(); })) {
        const size_t before = batch.size();
        take();
        if (batch.size() == before) break;  // Next request does not fit this batch.
      }
      queued_images_ -= static_cast<int64_t>(images);
    }
    std::vector<cv::Mat> merged;
    merged.reserve(images);
    for (Request* r : batch) merged.insert(merged.end(), r->images->begin(), r->images->end());
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<Detections>> out = detector_->DetectBatch(merged);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.requests += static_cast<int64_t>(batch.size());
      stats_.images += static_cast<int64_t>(images);
      ++stats_.batches;
      stats_.inference_ms += ms;
    }
    size_t offset = 0;
    for (Request* r : batch) {
      const size_t n = r->images->size();
      if (!out.ok()) {
        r->done.set_value(out.status());
      } else {
        r->done.set_value(
            std::vector<Detections>(out->begin() + static_cast<ptrdiff_t>(offset),
                                    out->begin() + static_cast<ptrdiff_t>(offset + n)));
      }
      offset += n;
    }
  }
}

InferenceStats InferenceService::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace custos::infer
