#include "custos/event.h"

namespace custos {

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kTrackStart:
      return "track_start";
    case EventType::kTrackEnd:
      return "track_end";
    case EventType::kZoneEnter:
      return "zone_enter";
    case EventType::kZoneLeave:
      return "zone_leave";
    case EventType::kLineCross:
      return "line_cross";
    case EventType::kLoiter:
      return "loiter";
    case EventType::kFaceMatch:
      return "face_match";
    case EventType::kWrongWay:
      return "wrong_way";
    case EventType::kStoppedVehicle:
      return "stopped_vehicle";
    case EventType::kPlateHit:
      return "plate_hit";
  }
  return "unknown";
}

}  // namespace custos
