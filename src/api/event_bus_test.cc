#include "api/event_bus.h"

#include <chrono>
#include <thread>

#include "core/ulid.h"
#include "gtest/gtest.h"

namespace custos::api {
namespace {

Event MakeEvent(const std::string& camera, int64_t time_ms = 1'700'000'000'000) {
  Event event;
  event.id = NewUlid(time_ms);
  event.camera = camera;
  event.time_ms = time_ms;
  event.label = "person";
  return event;
}

TEST(EventBus, DeliversPublishedEventsToEverySubscriberInOrder) {
  EventBus bus;
  std::shared_ptr<EventSubscription> a = bus.Subscribe(nullptr, 16);
  std::shared_ptr<EventSubscription> b = bus.Subscribe(nullptr, 16);
  const Event first = MakeEvent("gate");
  const Event second = MakeEvent("gate");
  bus.Publish(first);
  bus.Publish(second);
  for (const auto& sub : {a, b}) {
    absl::StatusOr<std::vector<Event>> events = sub->Next(absl::ZeroDuration());
    ASSERT_TRUE(events.ok()) << events.status();
    ASSERT_EQ(events->size(), 2u);
    EXPECT_EQ((*events)[0].id, first.id);
    EXPECT_EQ((*events)[1].id, second.id);
  }
}

TEST(EventBus, FilterKeepsOnlyMatchingEvents) {
  EventBus bus;
  std::shared_ptr<EventSubscription> sub =
      bus.Subscribe([](const Event& e) { return e.camera == "gate"; }, 16);
  bus.Publish(MakeEvent("yard"));
  bus.Publish(MakeEvent("gate"));
  absl::StatusOr<std::vector<Event>> events = sub->Next(absl::ZeroDuration());
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].camera, "gate");
}

TEST(EventBus, DropsASubscriberWhoseQueueOverflowsWithoutSlowingOthers) {
  EventBus bus;
  std::shared_ptr<EventSubscription> slow = bus.Subscribe(nullptr, 2);
  std::shared_ptr<EventSubscription> fast = bus.Subscribe(nullptr, 100);
  for (int i = 0; i < 3; ++i) bus.Publish(MakeEvent("gate"));
  absl::StatusOr<std::vector<Event>> dropped = slow->Next(absl::ZeroDuration());
  EXPECT_EQ(dropped.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(dropped.status().message().find("/api/events?after="), std::string_view::npos);
  EXPECT_EQ(slow->dropped(), 1);
  absl::StatusOr<std::vector<Event>> events = fast->Next(absl::ZeroDuration());
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 3u);
  EXPECT_EQ(bus.subscriber_count(), 1u);
}

TEST(EventBus, CancelWakesAWaitingReader) {
  EventBus bus;
  std::shared_ptr<EventSubscription> sub = bus.Subscribe(nullptr, 4);
  std::thread canceller([&sub] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sub->Cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<Event>> events = sub->Next(absl::Seconds(10));
  canceller.join();
  EXPECT_EQ(events.status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(EventBus, ReleasedSubscriptionsAreForgotten) {
  EventBus bus;
  { std::shared_ptr<EventSubscription> sub = bus.Subscribe(nullptr, 4); }
  bus.Publish(MakeEvent("gate"));
  EXPECT_EQ(bus.subscriber_count(), 0u);
}

TEST(EventBus, NextTimesOutWithNoEvents) {
  EventBus bus;
  std::shared_ptr<EventSubscription> sub = bus.Subscribe(nullptr, 4);
  absl::StatusOr<std::vector<Event>> events = sub->Next(absl::Milliseconds(10));
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

}  // namespace
}  // namespace custos::api
