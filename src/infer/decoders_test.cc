#include "infer/decoders.h"

#include <vector>

#include "gtest/gtest.h"

namespace custos::infer {
namespace {

ModelSpec Spec(int w, int h) {
  ModelSpec spec;
  spec.name = "test";
  spec.input.width = w;
  spec.input.height = h;
  spec.labels = {"person", "car"};
  return spec;
}

TEST(Decoders, NanoDetPutsABoxAroundTheCellByTheExpectedDistances) {
  ModelSpec spec = Spec(32, 32);
  spec.strides = {16};
  spec.reg_max = 3;
  // 2x2 grid, 2 classes; cell 3 (x=16, y=16) is a car at 0.9.
  std::vector<float> scores(4 * 2, 0.01f);
  scores[3 * 2 + 1] = 0.9f;
  // Each side's distribution is all at bin 1: distance 1 * stride = 16 px.
  std::vector<float> boxes(4 * 16, -20.0f);
  for (int side = 0; side < 4; ++side) boxes[3 * 16 + side * 4 + 1] = 20.0f;
  const OutputView views[] = {{scores.data(), 4, 2}, {boxes.data(), 4, 16}};
  auto dets = DecodeNanoDet(spec, views, 0.5f);
  ASSERT_TRUE(dets.ok()) << dets.status();
  ASSERT_EQ(dets->size(), 1u);
  const Detection& d = (*dets)[0];
  EXPECT_EQ(d.label, "car");
  EXPECT_FLOAT_EQ(d.score, 0.9f);
  EXPECT_NEAR(d.box.x, 0, 1e-3);
  EXPECT_NEAR(d.box.y, 0, 1e-3);
  EXPECT_NEAR(d.box.w, 32, 1e-3);
  EXPECT_NEAR(d.box.h, 32, 1e-3);
}

TEST(Decoders, NanoDetRejectsOutputsThatDoNotFitTheSpec) {
  ModelSpec spec = Spec(32, 32);
  spec.strides = {16};
  spec.reg_max = 3;
  std::vector<float> scores(5 * 2), boxes(5 * 16);
  const OutputView views[] = {{scores.data(), 5, 2}, {boxes.data(), 5, 16}};
  EXPECT_EQ(DecodeNanoDet(spec, views, 0.5f).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Decoders, YoloV8ReadsChannelMajorAndAnchorMajorOutputs) {
  ModelSpec spec = Spec(64, 64);
  // Two anchors; anchor 1 is a person centred at (20, 30), 10x40, score 0.8.
  const float channel_major[] = {/*cx*/ 5,        20,   /*cy*/ 5,      30,
                                 /*w*/ 2,         10,   /*h*/ 2,       40,
                                 /*person*/ 0.1f, 0.8f, /*car*/ 0.05f, 0.1f};
  auto a = DecodeYoloV8(spec, {channel_major, 6, 2}, 0.5f);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].label, "person");
  EXPECT_FLOAT_EQ((*a)[0].box.x, 15);
  EXPECT_FLOAT_EQ((*a)[0].box.y, 10);
  EXPECT_FLOAT_EQ((*a)[0].box.h, 40);
  const float anchor_major[] = {5, 5, 2, 2, 0.1f, 0.05f, 20, 30, 10, 40, 0.8f, 0.1f};
  auto b = DecodeYoloV8(spec, {anchor_major, 2, 6}, 0.5f);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_FLOAT_EQ((*b)[0].box.w, 10);
}

TEST(Decoders, SsdScalesNormalisedBoxesAndStopsAtTheEndMarker) {
  ModelSpec spec = Spec(200, 100);
  const float rows[] = {0,  1, 0.9f,  0.1f, 0.2f, 0.3f, 0.6f,  // car
                        0,  0, 0.2f,  0,    0,    1,    1,     // below the floor
                        -1, 0, 0,     0,    0,    0,    0,     // end of list
                        0,  0, 0.99f, 0,    0,    1,    1};    // garbage after the end
  auto dets = DecodeSsd(spec, {rows, 4, 7}, 0.5f);
  ASSERT_TRUE(dets.ok());
  ASSERT_EQ(dets->size(), 1u);
  EXPECT_EQ((*dets)[0].label, "car");
  EXPECT_FLOAT_EQ((*dets)[0].box.x, 20);
  EXPECT_FLOAT_EQ((*dets)[0].box.y, 20);
  EXPECT_FLOAT_EQ((*dets)[0].box.w, 40);
  EXPECT_FLOAT_EQ((*dets)[0].box.h, 40);
}

TEST(Decoders, NmsKeepsTheBestOfOverlappingSameClassBoxesOnly) {
  Detections in = {{0, "person", 0.6f, {0, 0, 10, 10}},
                   {0, "person", 0.9f, {1, 1, 10, 10}},
                   {1, "car", 0.5f, {1, 1, 10, 10}},
                   {0, "person", 0.4f, {50, 50, 10, 10}}};
  Detections out = NonMaxSuppression(in, 0.5f);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FLOAT_EQ(out[0].score, 0.9f);
  EXPECT_EQ(out[1].label, "car");
  EXPECT_FLOAT_EQ(out[2].score, 0.4f);
}

}  // namespace
}  // namespace custos::infer
