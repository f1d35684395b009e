// The JSON form of an event, used by `custos analyze --json-events` (one object per line) and
// the HTTP API. Keys and rules are documented in docs/events.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "custos/event.h"
#include "nlohmann/json.hpp"

namespace custos::store {

// {"id", "camera", "time_ms", "time" (ISO-8601 UTC, ms), "type", "label", "track_id",
//  "score", "box": [x, y, w, h], and when not empty/zero "zone", "direction", "dwell_ms",
//  "snapshot"}. Never throws; but json.dump() throws on strings that are not UTF-8, so
// serialise with EventToJsonLine or dump's error_handler_t::replace.
nlohmann::json EventToJson(const Event& event);

// EventToJson as one compact line (no trailing newline); invalid UTF-8 becomes U+FFFD.
// Never throws.
std::string EventToJsonLine(const Event& event);

// The inverse of EventToJson ("time" is ignored: time_ms is authoritative).
// Errors: kInvalidArgument naming the missing or mistyped key. Never throws.
absl::StatusOr<Event> EventFromJson(const nlohmann::json& json);

// "track_start" -> EventType::kTrackStart, ...; nullopt for an unknown name.
std::optional<EventType> EventTypeFromName(std::string_view name);

// 1700000000123 -> "2023-11-14T22:13:20.123Z". Valid for any int64 ms of years 0000-9999;
// years outside that range are written with more digits or a sign.
std::string FormatIsoTimeMs(int64_t time_ms);

}  // namespace custos::store
