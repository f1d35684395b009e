#include "track/kalman_filter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace custos::track {
namespace {

TEST(KalmanBoxFilter, StartsAtTheFirstBoxWithZeroVelocity) {
  const KalmanBoxFilter filter(BoxF{100, 50, 40, 80});
  EXPECT_NEAR(filter.Box().x, 100, 1e-3);
  EXPECT_NEAR(filter.Box().y, 50, 1e-3);
  EXPECT_NEAR(filter.Box().w, 40, 1e-3);
  EXPECT_NEAR(filter.Box().h, 80, 1e-3);
  EXPECT_EQ(filter.Velocity().x, 0);
  EXPECT_EQ(filter.Velocity().y, 0);
}

TEST(KalmanBoxFilter, StillObjectStaysPut) {
  KalmanBoxFilter filter(BoxF{100, 50, 40, 80});
  for (int i = 0; i < 20; ++i) {
    filter.Predict(0.2);
    filter.Update(BoxF{100, 50, 40, 80});
  }
  EXPECT_NEAR(filter.Box().x, 100, 0.1);
  EXPECT_NEAR(filter.Box().h, 80, 0.1);
  EXPECT_NEAR(filter.Velocity().x, 0, 0.1);
}

TEST(KalmanBoxFilter, LearnsVelocityInPixelsPerSecondFromIrregularSteps) {
  KalmanBoxFilter filter(BoxF{0, 100, 40, 80});
  const std::vector<double> steps = {0.1,  0.3,  0.05, 0.5,  0.2, 0.2, 0.4, 0.1,
                                     0.15, 0.35, 0.2,  0.25, 0.1, 0.3, 0.2};
  double t = 0;
  for (double dt : steps) {
    t += dt;
    filter.Predict(dt);
    filter.Update(BoxF{static_cast<float>(120 * t), static_cast<float>(100 - 30 * t), 40, 80});
  }
  EXPECT_NEAR(filter.Velocity().x, 120, 6);
  EXPECT_NEAR(filter.Velocity().y, -30, 3);
  // One second ahead, without measurements.
  filter.Predict(1.0);
  EXPECT_NEAR(filter.Box().x, 120 * (t + 1), 8);
  EXPECT_NEAR(filter.Box().y, 100 - 30 * (t + 1), 4);
}

TEST(KalmanBoxFilter, PredictWithoutElapsedTimeChangesNothing) {
  KalmanBoxFilter filter(BoxF{0, 0, 40, 80});
  filter.Predict(0.2);
  filter.Update(BoxF{10, 0, 40, 80});
  const BoxF before = filter.Box();
  filter.Predict(0);
  filter.Predict(-1);
  EXPECT_EQ(filter.Box().x, before.x);
  EXPECT_EQ(filter.Box().y, before.y);
}

TEST(KalmanBoxFilter, StopMotionHoldsThePrediction) {
  KalmanBoxFilter filter(BoxF{0, 0, 40, 80});
  for (int i = 1; i <= 10; ++i) {
    filter.Predict(0.2);
    filter.Update(BoxF{static_cast<float>(20 * i), 0, 40, 80});
  }
  filter.StopMotion();
  const BoxF before = filter.Box();
  filter.Predict(10);
  EXPECT_NEAR(filter.Box().x, before.x, 1e-3);
  EXPECT_EQ(filter.Velocity().x, 0);
}

TEST(KalmanBoxFilter, FreezeSizeKeepsAShrinkingBoxFromCollapsing) {
  KalmanBoxFilter filter(BoxF{0, 0, 50, 100});
  for (int i = 1; i <= 10; ++i) {
    filter.Predict(0.2);
    const float h = 100.0f - 4.0f * static_cast<float>(i);
    filter.Update(BoxF{0, 0, h / 2, h});
  }
  filter.FreezeSize();
  const float h = filter.Box().h;
  filter.Predict(5);
  EXPECT_NEAR(filter.Box().h, h, 1e-3);
  EXPECT_GE(filter.Box().w, 1);
}

}  // namespace
}  // namespace custos::track
