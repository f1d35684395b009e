#include "traffic/calibration.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::traffic {
namespace {

using ::testing::HasSubstr;

// A road 12 m wide seen in perspective: the near edge across the bottom of the picture, the
// edge 60 m away narrower, higher up.
const std::vector<PointF> kImage = {{0.1f, 0.95f}, {0.9f, 0.95f}, {0.6f, 0.25f}, {0.4f, 0.25f}};
const std::vector<PointD> kGround = {{-6, 0}, {6, 0}, {6, 60}, {-6, 60}};

absl::Status CreateStatus(std::vector<PointF> image, std::vector<PointD> ground) {
  return GroundCalibration::Create(image, ground).status();
}

TEST(GroundCalibration, MapsTheCalibrationPointsOntoEachOther) {
  absl::StatusOr<GroundCalibration> c = GroundCalibration::Create(kImage, kGround);
  ASSERT_TRUE(c.ok()) << c.status();
  for (size_t i = 0; i < 4; ++i) {
    const std::optional<PointD> g = c->ToGround(kImage[i]);
    ASSERT_TRUE(g.has_value());
    EXPECT_NEAR(g->x, kGround[i].x, 1e-4);
    EXPECT_NEAR(g->y, kGround[i].y, 1e-4);
    const std::optional<PointF> back = c->ToImage(kGround[i]);
    ASSERT_TRUE(back.has_value());
    EXPECT_NEAR(back->x, kImage[i].x, 1e-5);
    EXPECT_NEAR(back->y, kImage[i].y, 1e-5);
  }
}

TEST(GroundCalibration, KeepsStraightLinesStraightAndFarAwayCompressed) {
  absl::StatusOr<GroundCalibration> c = GroundCalibration::Create(kImage, kGround);
  ASSERT_TRUE(c.ok());
  // The road's centre line stays in the middle of the picture.
  for (double y : {0.0, 15.0, 30.0, 45.0, 60.0}) {
    const std::optional<PointF> p = c->ToImage({0, y});
    ASSERT_TRUE(p.has_value());
    EXPECT_NEAR(p->x, 0.5, 1e-5);
  }
  // Equal steps on the road get shorter on the picture with distance.
  const float near_step = c->ToImage({0, 0})->y - c->ToImage({0, 10})->y;
  const float far_step = c->ToImage({0, 50})->y - c->ToImage({0, 60})->y;
  EXPECT_GT(near_step, 2 * far_step);
}

TEST(GroundCalibration, AcceptsGroundPointsInANationalGrid) {
  std::vector<PointD> utm;
  for (const PointD& p : kGround) utm.push_back({p.x + 512'345.0, p.y + 5'401'234.0});
  absl::StatusOr<GroundCalibration> c = GroundCalibration::Create(kImage, utm);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::optional<PointD> g = c->ToGround({0.5f, 0.6f});
  const std::optional<PointD> local =
      GroundCalibration::Create(kImage, kGround)->ToGround({0.5f, 0.6f});
  ASSERT_TRUE(g && local);
  EXPECT_NEAR(g->x - 512'345.0, local->x, 1e-3);
  EXPECT_NEAR(g->y - 5'401'234.0, local->y, 1e-3);
}

TEST(GroundCalibration, PointsAboveTheHorizonHaveNoGroundPoint) {
  absl::StatusOr<GroundCalibration> c = GroundCalibration::Create(kImage, kGround);
  ASSERT_TRUE(c.ok());
  // The road's edges converge at the vanishing point; the top of the picture is sky.
  EXPECT_FALSE(c->ToGround({0.5f, 0.0f}).has_value());
  EXPECT_TRUE(c->ToGround({0.5f, 0.5f}).has_value());
  // A point behind the camera has no picture.
  EXPECT_FALSE(c->ToImage({0, -1000}).has_value());
}

TEST(GroundCalibration, RefusesWrongPointCounts) {
  EXPECT_THAT(CreateStatus({kImage[0], kImage[1], kImage[2]}, kGround).message(),
              HasSubstr("exactly 4 image points and 4 ground points, got 3 and 4"));
  std::vector<PointD> five = kGround;
  five.push_back({0, 30});
  EXPECT_EQ(CreateStatus(kImage, five).code(), absl::StatusCode::kInvalidArgument);
}

TEST(GroundCalibration, RefusesRepeatedPoints) {
  std::vector<PointF> image = kImage;
  image[3] = image[1];
  EXPECT_THAT(CreateStatus(image, kGround).message(),
              HasSubstr("calibration image points 2 and 4 are the same"));
  std::vector<PointD> ground = kGround;
  ground[2] = ground[0];
  EXPECT_THAT(CreateStatus(kImage, ground).message(),
              HasSubstr("calibration ground points 1 and 3 are the same"));
}

TEST(GroundCalibration, RefusesThreePointsOnOneLine) {
  std::vector<PointD> ground = kGround;
  ground[2] = {0, 0.01};  // Next to the line through points 1 and 2.
  const absl::Status status = CreateStatus(kImage, ground);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("ground points 1, 2 and 3 lie on one line"));
  std::vector<PointF> image = kImage;
  image[3] = {0.5f, 0.95f};  // On the bottom edge, between points 1 and 2.
  EXPECT_THAT(CreateStatus(image, kGround).message(),
              HasSubstr("image points 1, 2 and 4 lie on one line"));
}

TEST(GroundCalibration, RefusesABowTieOrAConcaveQuadrilateral) {
  std::vector<PointD> bow_tie = {kGround[0], kGround[1], kGround[3], kGround[2]};
  EXPECT_THAT(CreateStatus(kImage, bow_tie).message(),
              HasSubstr("ground points do not form a convex quadrilateral"));
  std::vector<PointF> concave = kImage;
  concave[3] = {0.5f, 0.8f};  // Dents the quadrilateral inwards.
  EXPECT_THAT(CreateStatus(concave, kGround).message(),
              HasSubstr("image points do not form a convex quadrilateral"));
}

TEST(GroundCalibration, RefusesNonFiniteAndOutOfFramePoints) {
  std::vector<PointD> ground = kGround;
  ground[1].x = std::numeric_limits<double>::infinity();
  EXPECT_THAT(CreateStatus(kImage, ground).message(),
              HasSubstr("ground point 2 is not a finite number"));
  std::vector<PointF> image = kImage;
  image[0].x = 1.5f;
  EXPECT_THAT(CreateStatus(image, kGround).message(), HasSubstr("image point 1 is outside [0, 1]"));
  image[0].x = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(CreateStatus(image, kGround).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::traffic
