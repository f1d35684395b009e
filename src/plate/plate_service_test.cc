// PlateOfVehicle: which of the texts read in a vehicle crop can be its plate.
#include "plate/plate_service.h"

#include <vector>

#include "gtest/gtest.h"

namespace custos::plate {
namespace {

PlateRead Text(const std::string& text, cv::Rect box) {
  PlateRead read;
  read.text = text;
  read.box = box;
  return read;
}

TEST(PlateOfVehicle, TextOnTheRoofLineIsNotThePlate) {
  // A 300 px high crop of a car under a camera's timestamp overlay, with a windscreen sticker
  // and its plate; the reader ranked the overlay first.
  const std::vector<PlateRead> reads = {Text("142016", {10, 8, 120, 20}),
                                        Text("PARK7", {150, 70, 40, 14}),
                                        Text("K179658", {100, 230, 90, 30})};
  const PlateRead* plate = PlateOfVehicle(reads, 300, 0.3f);
  ASSERT_NE(plate, nullptr);
  EXPECT_EQ(plate->text, "K179658");
  // A text centred exactly at the limit can be the plate (90 of 300 px).
  EXPECT_EQ(PlateOfVehicle({Text("AB123", {0, 80, 60, 20})}, 300, 0.3f)->text, "AB123");
  EXPECT_EQ(PlateOfVehicle({Text("AB123", {0, 78, 60, 20})}, 300, 0.3f), nullptr);
  // 0 takes the best text wherever it is; nothing read, nothing chosen.
  EXPECT_EQ(PlateOfVehicle(reads, 300, 0.0f)->text, "142016");
  EXPECT_EQ(PlateOfVehicle({}, 300, 0.3f), nullptr);
}

}  // namespace
}  // namespace custos::plate
