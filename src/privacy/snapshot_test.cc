// Event snapshots of people (privacy/snapshot.h) with the real face detector on the person
// video (../shared/data/video/one-by-one-person-detection.mp4): the face in a person's snapshot
// is featureless after RedactSnapshot, as it was not before.
#include "privacy/snapshot.h"

#include <algorithm>
#include <cstdio>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/testing.h"
#include "gtest/gtest.h"
#include "privacy/privacy_test_util.h"

namespace custos::privacy {
namespace {

constexpr double kDetail = 12;  // As the export test: a face has tens, an obscured one a few.

// A person's box around a face at detect resolution (640x360): the head on top, about seven
// heads tall, three wide; the tracker's crop adds 15 % of the box on each side.
struct PersonCrop {
  cv::Rect crop;
  BoxF box;
};

PersonCrop AroundFace(const cv::Rect2f& face, cv::Size frame) {
  const BoxF box{face.x - face.width, face.y - 0.3f * face.height, 3 * face.width, 7 * face.height};
  const float mx = 0.15f * box.w, my = 0.15f * box.h;
  const cv::Rect crop =
      cv::Rect(cv::Point(static_cast<int>(box.x - mx), static_cast<int>(box.y - my)),
               cv::Point(static_cast<int>(box.Right() + mx), static_cast<int>(box.Bottom() + my))) &
      cv::Rect(cv::Point(0, 0), frame);
  return {crop, box};
}

TEST(SnapshotRedaction, APersonsSnapshotKeepsNothingOfTheFace) {
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData("video/one-by-one-person-detection.mp4"));
  CUSTOS_REQUIRE_DETECTOR(detector, TestFaceDetector());
  auto masker = FaceMasker::Create(detector, {});
  ASSERT_TRUE(masker.ok()) << masker.status();
  {  // Plates to be masked and no plate masker: withheld as well.
    cv::Mat still(100, 40, CV_8UC3, cv::Scalar(80, 90, 100));
    EXPECT_EQ(RedactSnapshot(masker->get(), nullptr, /*mask_plates=*/true, "car",
                             cv::Rect(0, 0, 40, 100), BoxF{4, 10, 32, 80}, still)
                  .code(),
              absl::StatusCode::kFailedPrecondition);
  }
  const std::vector<cv::Mat> frames = DecodeAll(video);
  ASSERT_GT(frames.size(), 1000u);
  int faces = 0;
  std::vector<double> before, after;
  for (size_t i = 0; i < frames.size(); i += 10) {
    cv::Mat frame;
    cv::resize(frames[i], frame, cv::Size(640, 360), 0, 0, cv::INTER_AREA);  // Detect size.
    auto found = (*masker)->Detect(frame);
    ASSERT_TRUE(found.ok()) << found.status();
    for (const face::FaceBox& f : *found) {
      if (f.score < 0.5f || f.box.width < 8) continue;  // Clear faces only: the test's subject.
      const PersonCrop person = AroundFace(f.box, frame.size());
      cv::Mat snapshot = frame(person.crop).clone();
      const cv::Rect in_crop(static_cast<int>(f.box.x) - person.crop.x,
                             static_cast<int>(f.box.y) - person.crop.y,
                             static_cast<int>(f.box.width), static_cast<int>(f.box.height));
      const cv::Rect face_region = in_crop & cv::Rect(cv::Point(0, 0), snapshot.size());
      before.push_back(Detail(snapshot, face_region));
      ASSERT_TRUE(RedactSnapshot(masker->get(), nullptr, /*mask_plates=*/false, "person",
                                 person.crop, person.box, snapshot)
                      .ok());
      after.push_back(Detail(snapshot, face_region));
      EXPECT_LE(after.back(), kDetail) << "frame " << i << ": the face keeps detail";
      ++faces;
    }
  }
  ASSERT_GE(faces, 10) << "too few clear faces in the video to test";
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  // The faces had detail to lose: the test could fail.
  EXPECT_GT(before[before.size() / 2], 2 * kDetail);
  std::printf("snapshots: %d faces, detail median %.1f -> %.1f, max after %.1f\n", faces,
              before[before.size() / 2], after[after.size() / 2], after.back());
}

TEST(SnapshotRedaction, WithoutAFaceMaskerNothingIsStored) {
  cv::Mat snapshot(100, 40, CV_8UC3, cv::Scalar(80, 90, 100));
  const absl::Status status =
      RedactSnapshot(nullptr, nullptr, /*mask_plates=*/false, "person", cv::Rect(0, 0, 40, 100),
                     BoxF{4, 10, 32, 80}, snapshot);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace custos::privacy
