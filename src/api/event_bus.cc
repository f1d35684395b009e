#include "api/event_bus.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"

namespace custos::api {

absl::StatusOr<std::vector<Event>> EventSubscription::Next(absl::Duration timeout,
                                                           size_t max_events) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || state_ != State::kOpen;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (state_ == State::kOverflowed) {
    return absl::ResourceExhaustedError(
        "this client fell too far behind the live events and was disconnected; reconnect and "
        "fetch what was missed from GET /api/events?after=<last id seen>");
  }
  if (state_ == State::kCancelled) {
    return absl::CancelledError("the event stream was closed (the server is shutting down)");
  }
  std::vector<Event> events;
  while (!queue_.empty() && events.size() < max_events) {
    events.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return events;
}

void EventSubscription::Cancel() {
  absl::MutexLock lock(&mu_);
  if (state_ == State::kOpen) state_ = State::kCancelled;
  queue_.clear();
}

int64_t EventSubscription::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

bool EventSubscription::Offer(const Event& event) {
  if (filter_ && !filter_(event)) {
    absl::MutexLock lock(&mu_);
    return state_ == State::kOpen;
  }
  absl::MutexLock lock(&mu_);
  if (state_ != State::kOpen) return false;
  if (queue_.size() >= max_queued_) {
    // Dropping the client, rather than some of its events, keeps what it shows honest: a
    // stream with silent gaps would look complete.
    state_ = State::kOverflowed;
    ++dropped_;
    queue_.clear();
    return false;
  }
  queue_.push_back(event);
  return true;
}

EventBus::~EventBus() {
  absl::MutexLock lock(&mu_);
  for (const std::weak_ptr<EventSubscription>& weak : subscribers_) {
    if (std::shared_ptr<EventSubscription> sub = weak.lock()) sub->Cancel();
  }
}

std::shared_ptr<EventSubscription> EventBus::Subscribe(std::function<bool(const Event&)> filter,
                                                       size_t max_queued) {
  std::shared_ptr<EventSubscription> sub(
      new EventSubscription(std::move(filter), std::max<size_t>(max_queued, 1)));
  absl::MutexLock lock(&mu_);
  subscribers_.push_back(sub);
  return sub;
}

void EventBus::Publish(const Event& event) {
  absl::MutexLock lock(&mu_);
  std::erase_if(subscribers_, [&event](const std::weak_ptr<EventSubscription>& weak) {
    std::shared_ptr<EventSubscription> sub = weak.lock();
    return sub == nullptr || !sub->Offer(event);
  });
}

size_t EventBus::subscriber_count() const {
  absl::MutexLock lock(&mu_);
  size_t open = 0;
  for (const std::weak_ptr<EventSubscription>& weak : subscribers_) {
    if (!weak.expired()) ++open;
  }
  return open;
}

}  // namespace custos::api
