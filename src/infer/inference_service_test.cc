#include "infer/inference_service.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace custos::infer {
namespace {

// Answers each image with one detection whose score encodes the image's first pixel, so every
// caller can check it got its own answers back; records the batch sizes it saw.
class EchoDetector final : public Detector {
 public:
  absl::StatusOr<std::vector<Detections>> DetectBatch(const std::vector<cv::Mat>& images) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    max_batch_seen = std::max(max_batch_seen.load(), static_cast<int>(images.size()));
    ++calls;
    std::vector<Detections> out;
    for (const cv::Mat& m : images) {
      out.push_back({{0, "person", static_cast<float>(m.at<cv::Vec3b>(0, 0)[0]), {}}});
    }
    return out;
  }
  const std::vector<std::string>& labels() const override { return labels_; }
  cv::Size input_size() const override { return {32, 32}; }

  std::atomic<int> max_batch_seen{0};
  std::atomic<int> calls{0};

 private:
  std::vector<std::string> labels_ = {"person"};
};

TEST(InferenceService, MergesConcurrentCamerasIntoBatchesAndAnswersEachItsOwn) {
  auto echo = std::make_shared<EchoDetector>();
  auto service = InferenceService::Create(echo, {.max_batch = 8, .max_wait_us = 20000});
  ASSERT_TRUE(service.ok());
  constexpr int kCameras = 6, kFrames = 20;
  std::atomic<int> wrong{0};
  std::vector<std::thread> cameras;
  for (int cam = 0; cam < kCameras; ++cam) {
    cameras.emplace_back([&, cam] {
      for (int f = 0; f < kFrames; ++f) {
        std::vector<cv::Mat> regions = {cv::Mat(4, 4, CV_8UC3, cv::Scalar(cam * 10 + 1)),
                                        cv::Mat(4, 4, CV_8UC3, cv::Scalar(cam * 10 + 2))};
        auto out = (*service)->DetectBatch(regions);
        if (!out.ok() || out->size() != 2 ||
            (*out)[0][0].score != static_cast<float>(cam * 10 + 1) ||
            (*out)[1][0].score != static_cast<float>(cam * 10 + 2)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : cameras) t.join();
  EXPECT_EQ(wrong.load(), 0);
  const InferenceStats stats = (*service)->stats();
  EXPECT_EQ(stats.images, kCameras * kFrames * 2);
  EXPECT_GT(echo->max_batch_seen.load(), 2) << "requests of different cameras were not merged";
  EXPECT_LE(echo->max_batch_seen.load(), 8);
  EXPECT_LT(echo->calls.load(), kCameras * kFrames);
}

TEST(InferenceService, ShedsLoadWhenTheQueueIsFull) {
  auto echo = std::make_shared<EchoDetector>();
  auto service = InferenceService::Create(echo, {.max_batch = 1, .max_queued_images = 2});
  ASSERT_TRUE(service.ok());
  std::vector<cv::Mat> too_many(3, cv::Mat(2, 2, CV_8UC3, cv::Scalar(1)));
  EXPECT_EQ((*service)->DetectBatch(too_many).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*service)->stats().rejected, 1);
}

TEST(InferenceService, RejectsBadOptions) {
  EXPECT_FALSE(InferenceService::Create(std::make_shared<EchoDetector>(), {.max_batch = 0}).ok());
  EXPECT_FALSE(InferenceService::Create(nullptr, {}).ok());
}

}  // namespace
}  // namespace custos::infer
