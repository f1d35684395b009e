// Analytics events: what the pipeline reports about tracked objects. The JSON and SQLite
// forms are documented in docs/events.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "custos/geometry.h"

namespace custos {

enum class EventType {
  kTrackStart,  // A track was confirmed.
  kTrackEnd,    // A confirmed track was lost for good (or the stream ended).
  kZoneEnter,
  kZoneLeave,
  kLineCross,
  kLoiter,  // A track stayed in a zone longer than the zone's loiter time.
  // Face recognition raised a lead: a person on a track looked like an active watchlist entry
  // (docs/face.md "Watchlists"). A person must verify it. The id is the stored match's id;
  // published on the live event stream only, never kept in the event store.
  kFaceMatch,
  // Traffic (docs/traffic.md): a vehicle moved against its lane's direction; a vehicle stood
  // still in a stopped-vehicle zone longer than allowed. Kept in the event store.
  kWrongWay,
  kStoppedVehicle,
  // Plates (docs/plates.md): a vehicle's voted plate read matched an approved hotlist entry
  // (a lead for a person to verify). The id is the stored hit's; published on the live event
  // stream only (reads themselves never are: searching them needs a case), kept in the plate
  // store with the legal basis's retention.
  kPlateHit,
};

const char* EventTypeName(EventType type);  // "track_start", "zone_enter", ...

struct Event {
  std::string id;       // ULID; unique, sortable by time.
  std::string camera;   // Camera id from the config.
  int64_t time_ms = 0;  // UTC wall-clock ms of the frame that raised it.
  EventType type = EventType::kTrackStart;
  std::string label;  // Object class, e.g. "person".
  int64_t track_id = 0;
  float score = 0;        // Best detector score of the track so far.
  BoxF box;               // Object box in detect-frame pixels at time_ms.
  std::string zone;       // Zone or line name; empty when not about one.
  std::string direction;  // Line crossings: "in" / "out" (see docs/zones.md).
  int64_t dwell_ms = 0;   // Loiter: time in zone; track_end: track duration.
  std::string snapshot;   // Snapshot reference (relative path), empty if none.
  // face_match only: the watchlist entry the face resembled (score is the similarity).
  std::string watchlist_entry = {};  // Entry id.
  std::string watchlist_label = {};  // The entry's label, as operators see it.
  // Traffic: the vehicle's speed in km/h from the camera's ground calibration (advisory, never
  // evidential); 0 when unknown (no calibration, too short a path). Set on line_cross,
  // wrong_way and track_end of vehicles when the camera is calibrated.
  double speed_kmh = 0;
  // plate_hit: the plate text (A-Z, 0-9) and the read's id in the plate store; the hotlist
  // entry's id and label are in watchlist_entry / watchlist_label; score is the read's
  // confidence.
  std::string plate = {};
  std::string plate_read = {};
};

}  // namespace custos
