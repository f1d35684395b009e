// In-process fan-out of new events to live subscribers (the API's Server-Sent Events stream).
// The pipeline calls Publish() after storing an event; each subscriber has a bounded queue,
// and a subscriber that falls behind is dropped, never waited for, so a slow HTTP client
// cannot hold up analytics (DESIGN.md §3: bounded queues, counted drops).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "custos/event.h"

namespace custos::api {

class EventBus;

// One subscriber's queue. Thread-safe: the bus pushes from publishing threads while one
// consumer calls Next().
class EventSubscription {
 public:
  // Returns the events queued so far (at most `max_events`), waiting up to `timeout` for the
  // first; an empty vector means the timeout passed with nothing new.
  // Errors: kResourceExhausted when the queue overflowed and the subscriber was dropped (the
  // events it missed are in the store: catch up with a search); kCancelled after Cancel() or
  // when the bus or server shuts down.
  absl::StatusOr<std::vector<Event>> Next(absl::Duration timeout, size_t max_events = 64);

  // Ends the subscription; a waiting Next() returns kCancelled. Idempotent.
  void Cancel();

  // Events this subscription refused because its queue was full (0 or 1: it is dropped at the
  // first overflow).
  int64_t dropped() const;

 private:
  friend class EventBus;
  enum class State { kOpen, kOverflowed, kCancelled };

  EventSubscription(std::function<bool(const Event&)> filter, size_t max_queued)
      : filter_(std::move(filter)), max_queued_(max_queued) {}
  // Queues `event` if it passes the filter. Returns false once the subscription has ended,
  // so the bus can forget it.
  bool Offer(const Event& event);

  const std::function<bool(const Event&)> filter_;
  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<Event> queue_ ABSL_GUARDED_BY(mu_);
  State state_ ABSL_GUARDED_BY(mu_) = State::kOpen;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

// Thread-safe. Publish() never blocks on a subscriber beyond a short mutex.
class EventBus {
 public:
  EventBus() = default;
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;
  ~EventBus();  // Cancels every subscription.

  // A new subscriber receiving the events published from now on for which `filter` returns
  // true (a null filter accepts all). `filter` runs on the publishing thread and must be
  // cheap and thread-safe. REQUIRES: max_queued >= 1.
  std::shared_ptr<EventSubscription> Subscribe(std::function<bool(const Event&)> filter,
                                               size_t max_queued);

  // Hands `event` to every subscriber; a subscriber whose queue is full is dropped.
  void Publish(const Event& event);

  // Subscriptions still held by their subscriber and not dropped (a cancelled one is
  // forgotten at the next Publish()).
  size_t subscriber_count() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::weak_ptr<EventSubscription>> subscribers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace custos::api
