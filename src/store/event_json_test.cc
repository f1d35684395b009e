#include "store/event_json.h"

#include <string>

#include "core/ulid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::store {
namespace {

using ::testing::HasSubstr;

Event FullEvent() {
  Event e;
  e.id = "01HF7YAT00ABCDEFGHJKMNPQRS";
  e.camera = "entrance";
  e.time_ms = 1'700'000'000'123;
  e.type = EventType::kLineCross;
  e.label = "person";
  e.track_id = 42;
  e.score = 0.8f;
  e.box = {12.5f, 30, 40.25f, 96};
  e.zone = "gate";
  e.direction = "in";
  e.dwell_ms = 1500;
  e.snapshot = "snapshots/entrance/01HF7YAT00ABCDEFGHJKMNPQRS.jpg";
  return e;
}

void ExpectSameEvent(const Event& a, const Event& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.camera, b.camera);
  EXPECT_EQ(a.time_ms, b.time_ms);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.track_id, b.track_id);
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.box.x, b.box.x);
  EXPECT_EQ(a.box.y, b.box.y);
  EXPECT_EQ(a.box.w, b.box.w);
  EXPECT_EQ(a.box.h, b.box.h);
  EXPECT_EQ(a.zone, b.zone);
  EXPECT_EQ(a.direction, b.direction);
  EXPECT_EQ(a.dwell_ms, b.dwell_ms);
  EXPECT_EQ(a.snapshot, b.snapshot);
}

TEST(EventJson, HasTheDocumentedKeys) {
  EXPECT_EQ(EventToJson(FullEvent()), nlohmann::json::parse(R"({
    "id": "01HF7YAT00ABCDEFGHJKMNPQRS", "camera": "entrance",
    "time_ms": 1700000000123, "time": "2023-11-14T22:13:20.123Z",
    "type": "line_cross", "label": "person", "track_id": 42, "score": 0.8,
    "box": [12.5, 30, 40.25, 96], "zone": "gate", "direction": "in", "dwell_ms": 1500,
    "snapshot": "snapshots/entrance/01HF7YAT00ABCDEFGHJKMNPQRS.jpg"})"));
}

TEST(EventJson, WritesScoresInTheirShortestForm) {
  EXPECT_THAT(EventToJsonLine(FullEvent()), HasSubstr("\"score\":0.8,"));
}

TEST(EventJson, OmitsEmptyOptionalFields) {
  Event e = FullEvent();
  e.type = EventType::kTrackStart;
  e.zone.clear();
  e.direction.clear();
  e.dwell_ms = 0;
  e.snapshot.clear();
  const nlohmann::json json = EventToJson(e);
  EXPECT_FALSE(json.contains("zone"));
  EXPECT_FALSE(json.contains("direction"));
  EXPECT_FALSE(json.contains("dwell_ms"));
  EXPECT_FALSE(json.contains("snapshot"));
  EXPECT_TRUE(json.contains("label"));
  EXPECT_TRUE(json.contains("track_id"));
  EXPECT_EQ(json.size(), 9u);
}

TEST(EventJson, RoundTripsEveryType) {
  for (EventType type : {EventType::kTrackStart, EventType::kTrackEnd, EventType::kZoneEnter,
                         EventType::kZoneLeave, EventType::kLineCross, EventType::kLoiter}) {
    Event e = FullEvent();
    e.type = type;
    e.id = NewUlid(e.time_ms);
    e.score = 0.123456789f;
    e.box = {0.1f, 1e-7f, 3.4e38f, 1919.99f};
    const std::string line = EventToJsonLine(e);
    absl::StatusOr<Event> back = EventFromJson(nlohmann::json::parse(line));
    ASSERT_TRUE(back.ok()) << back.status() << " " << line;
    ExpectSameEvent(e, *back);
  }
  Event sparse;
  sparse.id = NewUlid(0);
  sparse.camera = "c";
  absl::StatusOr<Event> back = EventFromJson(EventToJson(sparse));
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameEvent(sparse, *back);
}

TEST(EventJson, APlateHitIsALeadWithItsPlateAndRead) {
  Event e = FullEvent();
  e.type = EventType::kPlateHit;
  e.plate = "K179658";
  e.plate_read = "01JREAD";
  e.watchlist_entry = "01JENTRY";
  e.watchlist_label = "stolen car";
  const nlohmann::json json = EventToJson(e);
  EXPECT_EQ(json["type"], "plate_hit");
  EXPECT_EQ(json["plate"], "K179658");
  EXPECT_EQ(json["plate_read"], "01JREAD");
  EXPECT_EQ(json["lead"], true);
  absl::StatusOr<Event> back = EventFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->type, EventType::kPlateHit);
  EXPECT_EQ(back->plate, "K179658");
  EXPECT_EQ(back->plate_read, "01JREAD");
  EXPECT_EQ(EventTypeFromName("plate_hit"), EventType::kPlateHit);
  EXPECT_FALSE(EventToJson(FullEvent()).contains("plate"));
}

TEST(EventJson, FormatsIsoTimesInUtcWithMilliseconds) {
  EXPECT_EQ(FormatIsoTimeMs(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoTimeMs(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatIsoTimeMs(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIsoTimeMs(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatIsoTimeMs(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
  // Extremes do not crash.
  EXPECT_FALSE(FormatIsoTimeMs(std::numeric_limits<int64_t>::min()).empty());
  EXPECT_FALSE(FormatIsoTimeMs(std::numeric_limits<int64_t>::max()).empty());
}

TEST(EventJson, FromJsonNamesWhatIsWrong) {
  auto error = [](const std::string& text) {
    absl::StatusOr<Event> e = EventFromJson(nlohmann::json::parse(text));
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << text;
    return std::string(e.status().message());
  };
  EXPECT_THAT(error("[]"), HasSubstr("must be an object"));
  EXPECT_THAT(error(R"({"camera": "c", "time_ms": 1, "type": "loiter"})"),
              HasSubstr("'id' must be present"));
  EXPECT_THAT(error(R"({"id": "x", "camera": "c", "time_ms": "1", "type": "loiter"})"),
              HasSubstr("'time_ms' must be a 64-bit integer"));
  EXPECT_THAT(error(R"({"id": "x", "camera": "c", "time_ms": 18446744073709551615,
                        "type": "loiter"})"),
              HasSubstr("'time_ms' must be a 64-bit integer"));
  EXPECT_THAT(error(R"({"id": "x", "camera": "c", "time_ms": 1, "type": "explode"})"),
              HasSubstr("unknown type 'explode'"));
  EXPECT_THAT(error(R"({"id": "x", "camera": "c", "time_ms": 1, "type": "loiter",
                        "box": [1, 2, 3]})"),
              HasSubstr("'box' must be [x, y, w, h]"));
  EXPECT_THAT(error(R"({"id": "x", "camera": "c", "time_ms": 1, "type": "loiter",
                        "box": [1, 2, 3, "4"]})"),
              HasSubstr("'box[3]' must be a number"));
  EXPECT_THAT(error(R"({"id": "x", "camera": 7, "time_ms": 1, "type": "loiter"})"),
              HasSubstr("'camera' must be a string"));
}

TEST(EventJson, EventTypeNamesRoundTrip) {
  EXPECT_EQ(EventTypeFromName("zone_enter"), EventType::kZoneEnter);
  EXPECT_EQ(EventTypeFromName("loiter"), EventType::kLoiter);
  EXPECT_FALSE(EventTypeFromName("Loiter").has_value());
  EXPECT_FALSE(EventTypeFromName("").has_value());
}

TEST(EventJson, InvalidUtf8DoesNotThrow) {
  Event e = FullEvent();
  e.label = "bad\xff\xfe";
  std::string line;
  EXPECT_NO_THROW(line = EventToJsonLine(e));
  EXPECT_THAT(line, HasSubstr("\"label\":\"bad"));
}

}  // namespace
}  // namespace custos::store
