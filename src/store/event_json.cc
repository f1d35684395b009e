#include "store/event_json.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "custos/status.h"

namespace custos::store {
namespace {

constexpr EventType kAllTypes[] = {
    EventType::kTrackStart,     EventType::kTrackEnd, EventType::kZoneEnter, EventType::kZoneLeave,
    EventType::kLineCross,      EventType::kLoiter,   EventType::kFaceMatch, EventType::kWrongWay,
    EventType::kStoppedVehicle, EventType::kPlateHit};

// The double whose shortest decimal form is the float's shortest form, so 0.8f is written
// as 0.8 rather than 0.800000011920929, and reads back as the same float.
double FloatForJson(float value) {
  if (!std::isfinite(value)) return static_cast<double>(value);
  std::array<char, 64> buffer;
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc()) return static_cast<double>(value);
  double out = 0;
  std::from_chars(buffer.data(), end, out);
  return out;
}

// Days since 1970-01-01 -> civil date (H. Hinnant's algorithm, proleptic Gregorian).
void CivilFromDays(int64_t days, int64_t& year, unsigned& month, unsigned& day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
}

absl::Status MissingOrWrong(const char* key, const char* expected) {
  return absl::InvalidArgumentError(absl::StrCat("event JSON: '", key, "' must be ", expected));
}

absl::Status GetString(const nlohmann::json& json, const char* key, bool required,
                       std::string& out) {
  auto it = json.find(key);
  if (it == json.end()) {
    return required ? MissingOrWrong(key, "present (a string)") : absl::OkStatus();
  }
  if (!it->is_string()) return MissingOrWrong(key, "a string");
  out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status GetInt(const nlohmann::json& json, const char* key, bool required, int64_t& out) {
  auto it = json.find(key);
  if (it == json.end()) {
    return required ? MissingOrWrong(key, "present (an integer)") : absl::OkStatus();
  }
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() &&
       it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    return MissingOrWrong(key, "a 64-bit integer");
  }
  out = it->get<int64_t>();
  return absl::OkStatus();
}

absl::Status GetFloat(const nlohmann::json& json, const char* what, float& out) {
  if (!json.is_number()) return MissingOrWrong(what, "a number");
  out = static_cast<float>(json.get<double>());
  return absl::OkStatus();
}

absl::StatusOr<Event> FromJson(const nlohmann::json& json) {
  if (!json.is_object()) return absl::InvalidArgumentError("event JSON must be an object");
  Event e;
  CUSTOS_RETURN_IF_ERROR(GetString(json, "id", true, e.id));
  CUSTOS_RETURN_IF_ERROR(GetString(json, "camera", true, e.camera));
  CUSTOS_RETURN_IF_ERROR(GetInt(json, "time_ms", true, e.time_ms));
  std::string type;
  CUSTOS_RETURN_IF_ERROR(GetString(json, "type", true, type));
  std::optional<EventType> parsed = EventTypeFromName(type);
  if (!parsed) {
    return absl::InvalidArgumentError(absl::StrCat("event JSON: unknown type '", type, "'"));
  }
  e.type = *parsed;
  CUSTOS_RETURN_IF_ERROR(GetString(json, "label", false, e.label));
  CUSTOS_RETURN_IF_ERROR(GetInt(json, "track_id", false, e.track_id));
  if (auto it = json.find("score"); it != json.end()) {
    CUSTOS_RETURN_IF_ERROR(GetFloat(*it, "score", e.score));
  }
  if (auto it = json.find("box"); it != json.end()) {
    if (!it->is_array() || it->size() != 4) return MissingOrWrong("box", "[x, y, w, h]");
    CUSTOS_RETURN_IF_ERROR(GetFloat((*it)[0], "box[0]", e.box.x));
    CUSTOS_RETURN_IF_ERROR(GetFloat((*it)[1], "box[1]", e.box.y));
    CUSTOS_RETURN_IF_ERROR(GetFloat((*it)[2], "box[2]", e.box.w));
    CUSTOS_RETURN_IF_ERROR(GetFloat((*it)[3], "box[3]", e.box.h));
  }
  CUSTOS_RETURN_IF_ERROR(GetString(json, "zone", false, e.zone));
  CUSTOS_RETURN_IF_ERROR(GetString(json, "direction", false, e.direction));
  CUSTOS_RETURN_IF_ERROR(GetInt(json, "dwell_ms", false, e.dwell_ms));
  CUSTOS_RETURN_IF_ERROR(GetString(json, "snapshot", false, e.snapshot));
  CUSTOS_RETURN_IF_ERROR(GetString(json, "watchlist_entry", false, e.watchlist_entry));
  CUSTOS_RETURN_IF_ERROR(GetString(json, "watchlist_label", false, e.watchlist_label));
  if (auto it = json.find("speed_kmh"); it != json.end()) {
    if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0) {
      return MissingOrWrong("speed_kmh", "a number >= 0");
    }
    e.speed_kmh = it->get<double>();
  }
  CUSTOS_RETURN_IF_ERROR(GetString(json, "plate", false, e.plate));
  CUSTOS_RETURN_IF_ERROR(GetString(json, "plate_read", false, e.plate_read));
  return e;
}

}  // namespace

std::optional<EventType> EventTypeFromName(std::string_view name) {
  for (EventType type : kAllTypes) {
    if (name == EventTypeName(type)) return type;
  }
  return std::nullopt;
}

std::string FormatIsoTimeMs(int64_t time_ms) {
  constexpr int64_t kMsPerDay = 86'400'000;
  // Floor division without overflow, even for INT64_MIN.
  const int64_t days = time_ms / kMsPerDay - (time_ms % kMsPerDay < 0 ? 1 : 0);
  const int64_t ms_of_day = (time_ms % kMsPerDay + kMsPerDay) % kMsPerDay;
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, year, month, day);
  const int64_t seconds = ms_of_day / 1000;
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(year), month, day, static_cast<int>(seconds / 3600),
                static_cast<int>(seconds / 60 % 60), static_cast<int>(seconds % 60),
                static_cast<int>(ms_of_day % 1000));
  return buffer;
}

nlohmann::json EventToJson(const Event& event) {
  nlohmann::json json = nlohmann::json::object();
  json["id"] = event.id;
  json["camera"] = event.camera;
  json["time_ms"] = event.time_ms;
  json["time"] = FormatIsoTimeMs(event.time_ms);
  json["type"] = EventTypeName(event.type);
  json["label"] = event.label;
  json["track_id"] = event.track_id;
  json["score"] = FloatForJson(event.score);
  json["box"] = {FloatForJson(event.box.x), FloatForJson(event.box.y), FloatForJson(event.box.w),
                 FloatForJson(event.box.h)};
  if (!event.zone.empty()) json["zone"] = event.zone;
  if (!event.direction.empty()) json["direction"] = event.direction;
  if (event.dwell_ms != 0) json["dwell_ms"] = event.dwell_ms;
  if (!event.snapshot.empty()) json["snapshot"] = event.snapshot;
  if (!event.watchlist_entry.empty()) json["watchlist_entry"] = event.watchlist_entry;
  if (!event.watchlist_label.empty()) json["watchlist_label"] = event.watchlist_label;
  if (event.speed_kmh > 0) {
    json["speed_kmh"] = std::round(event.speed_kmh * 10) / 10;
    json["speed_advisory"] = true;  // Never evidential (docs/traffic.md).
  }
  if (!event.plate.empty()) json["plate"] = event.plate;
  if (!event.plate_read.empty()) json["plate_read"] = event.plate_read;
  // A face match or plate hit is a lead for a person to verify, never a finding (DESIGN.md
  // §1.2).
  if (event.type == EventType::kFaceMatch || event.type == EventType::kPlateHit) {
    json["lead"] = true;
  }
  return json;
}

std::string EventToJsonLine(const Event& event) {
  return EventToJson(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<Event> EventFromJson(const nlohmann::json& json) {
  try {
    return FromJson(json);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("event JSON: ", e.what()));
  }
}

}  // namespace custos::store
