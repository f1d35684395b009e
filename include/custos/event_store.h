// Where analytics events are kept and searched. The single-node implementation is SQLite
// (src/store/sqlite_event_store.h); a PostgreSQL one serves multi-node deployments. Table
// layout and JSON form: docs/events.md.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "custos/event.h"

namespace custos {

// A search over stored events. Empty strings and nullopt match everything. Results come in
// ascending id order (ids are ULIDs, so roughly time order); page by passing the last id of
// one page as `after_id` of the next.
struct EventQuery {
  // Every member has an initializer so that designated initializers such as
  // `store.Query({.camera = "entrance", .limit = 10})` compile warning-free.
  std::string camera = {};                              // Exact camera id.
  int64_t from_ms = 0;                                  // time_ms >= from_ms
  int64_t to_ms = std::numeric_limits<int64_t>::max();  // time_ms < to_ms
  std::optional<EventType> type = std::nullopt;
  std::string label = {};     // Exact label.
  std::string zone = {};      // Exact zone or line name.
  int limit = 100;            // 1..kMaxLimit; Query() only.
  std::string after_id = {};  // Only ids > after_id; Query() only.

  static constexpr int kMaxLimit = 10'000;
};

// Events of one label counted in one time bucket (EventStore::CountBuckets).
struct BucketCount {
  int64_t start_ms = 0;  // Bucket start: from_ms + k * bucket_ms.
  std::string label = {};
  int64_t count = 0;
};

// Line crossings of one (line, direction, label) counted in one time bucket
// (EventStore::CountLineCrossings), with their mean advisory speed (docs/traffic.md).
struct LineCrossingCount {
  int64_t start_ms = 0;        // Bucket start: from_ms + k * bucket_ms.
  std::string line = {};       // Event::zone of the line_cross events.
  std::string direction = {};  // Event::direction.
  std::string label = {};
  int64_t count = 0;
  int64_t with_speed = 0;     // How many of them carried a speed (speed_kmh > 0).
  double mean_speed_kmh = 0;  // Their mean speed; 0 when with_speed is 0.
};

// Thread-safe: implementations may be called from any number of threads.
class EventStore {
 public:
  virtual ~EventStore() = default;

  // Stores `events` atomically: all or none. Idempotent by id: an event whose id is already
  // stored is skipped, so at-least-once redelivery stores each event once.
  // Errors: kInvalidArgument (an event without a valid ULID id or camera; nothing stored),
  // kUnavailable (database busy or unreachable: retry), kResourceExhausted (disk full),
  // kDataLoss (database corrupt), kPermissionDenied (database read-only).
  virtual absl::Status Append(const std::vector<Event>& events) = 0;

  // Events matching `query`, at most query.limit of them.
  // Errors: kInvalidArgument (limit outside 1..kMaxLimit, from_ms > to_ms), kUnavailable,
  // kDataLoss.
  virtual absl::StatusOr<std::vector<Event>> Query(const EventQuery& query) = 0;

  // The event with this id; nullopt when there is none. Errors: as Query().
  virtual absl::StatusOr<std::optional<Event>> Find(const std::string& id) = 0;

  // How many events match `query`'s filters; `limit` and `after_id` are ignored.
  // Errors: as Query().
  virtual absl::StatusOr<int64_t> Count(const EventQuery& query) = 0;

  // Events matching `query`'s filters counted per label and per bucket of `bucket_ms` from
  // query.from_ms (which must be set, as must to_ms); only non-empty buckets, ordered by
  // start then label. Errors: kInvalidArgument (bucket_ms < 1, an open range), as Query().
  virtual absl::StatusOr<std::vector<BucketCount>> CountBuckets(const EventQuery& query,
                                                                int64_t bucket_ms) = 0;

  // line_cross events matching `query`'s filters (its type is ignored; zone selects a line)
  // counted per bucket of `bucket_ms` from query.from_ms and per (line, direction, label);
  // only non-empty groups, ordered by start, line, direction, label. Errors: as
  // CountBuckets().
  virtual absl::StatusOr<std::vector<LineCrossingCount>> CountLineCrossings(const EventQuery& query,
                                                                            int64_t bucket_ms) = 0;
};

}  // namespace custos
