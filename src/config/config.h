// The Custos configuration file: YAML parsed and validated into typed structs. The schema,
// defaults and every rule are documented in docs/config.md; examples/config.yaml is a full
// example. Every problem is reported with "file:line:column: what is wrong and how to fix it".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "custos/geometry.h"

namespace custos::config {

// The detect stream of a camera: the decoded frames analytics runs on.
struct DetectConfig {
  double fps = 5;    // Frames per second handed to motion/detection; > 0.
  int width = 0;     // Detect frame width in px; 0 = derive from height keeping the aspect.
  int height = 360;  // Detect frame height in px; 0 = derive from width keeping the aspect.
};

struct Location {
  double lat = 0;  // WGS84 degrees, [-90, 90].
  double lon = 0;  // WGS84 degrees, [-180, 180].
};

// A polygonal zone. Coordinates are normalised to the detect frame: x, y in [0, 1], origin
// top-left. A track is in the zone when its foot point (bottom centre of its box) is.
struct ZoneConfig {
  std::string name;
  Polygon polygon;                  // >= 3 points.
  std::vector<std::string> labels;  // Labels the zone reports; empty = all detector labels.
  double loiter_s = 0;              // Raise a loiter event after this long inside; 0 = off.
  int min_frames = 2;               // Consecutive frames inside (outside) before enter (leave).
};

// A directed counting line from `from` to `to` (normalised coordinates, see ZoneConfig).
// "Left" and "right" are as seen walking from `from` to `to` on the picture (docs/zones.md).
struct LineConfig {
  std::string name;
  PointF from;
  PointF to;
  std::vector<std::string> labels;    // Empty = all detector labels.
  std::string left_to_right = "in";   // Direction reported for a left-to-right crossing.
  std::string right_to_left = "out";  // Direction reported for a right-to-left crossing.
};

// Traffic analytics of a camera (docs/traffic.md). Coordinates normalised as for zones.
// Four image points and the same four points on the road, in metres in any local planar
// frame, listed in the same order around a convex quadrilateral.
struct CalibrationConfig {
  std::vector<PointF> image;
  std::vector<PointD> ground;
};

// A lane with its direction of travel, from `from` towards `to`.
struct LaneConfig {
  std::string name;  // Shares the camera's zone and line names.
  Polygon polygon;
  PointF from;
  PointF to;
  std::vector<std::string> labels;  // Empty = every vehicle label.
};

// A zone where vehicles must not stand still.
struct StoppedZoneConfig {
  std::string name;  // Shares the camera's zone and line names.
  Polygon polygon;
  double after_s = 30;              // stopped_vehicle after standing this long.
  std::vector<std::string> labels;  // Empty = every vehicle label.
};

struct TrafficConfig {
  std::optional<CalibrationConfig> calibration;  // Unset: no speeds; lanes work on the picture.
  std::vector<LaneConfig> lanes;
  std::vector<StoppedZoneConfig> stopped;
  std::vector<std::string> vehicle_labels = {"car", "truck", "bus", "motorcycle"};
  double wrong_way_min_m = 5;         // Calibrated: travel against a lane that counts.
  double wrong_way_min_frame = 0.05;  // Uncalibrated: the same, in frame diagonals.
  double stop_radius_m = 1.5;         // Calibrated: how far a stopped vehicle may drift.
  double stop_radius_frame = 0.01;    // Uncalibrated: the same, in frame diagonals.
};

enum class RtspTransport { kTcp, kUdp };

enum class RecordMode {
  kContinuous,  // Everything, in back-to-back segments.
  kEvents,      // Only while objects are tracked, plus pre-roll and post-roll.
  kOff,         // Analytics only.
};

// How a camera's main stream is recorded (docs/recording.md).
struct RecordConfig {
  RecordMode mode = RecordMode::kContinuous;
  double segment_s = 10;   // Segment length; 2..600.
  double pre_roll_s = 5;   // kEvents: kept before an event; 0..60.
  double post_roll_s = 5;  // kEvents: kept after it; 0..600.
};

// Retention of one kind of data; unset fields take the top-level `retention` values.
struct RetentionOverride {
  std::optional<double> video_hours;
  std::optional<double> events_days;
  std::optional<double> snapshots_days;
};

struct CameraConfig {
  std::string id;    // [a-z0-9_-]{1,64}, unique; events and the API use it.
  std::string name;  // Human-readable name; defaults to id.
  std::string url;   // rtsp://..., or a file path (relative paths: see ResolvePath).
  RtspTransport rtsp_transport = RtspTransport::kTcp;
  bool enabled = true;
  DetectConfig detect;
  std::optional<Location> location;
  std::vector<Polygon> motion_masks;  // Normalised polygons where motion is ignored.
  std::vector<ZoneConfig> zones;
  std::vector<LineConfig> lines;
  RecordConfig record;
  RetentionOverride retention;
  std::string purpose;       // Why the camera is there, for the public register; may be empty.
  bool read_plates = false;  // Licence plates of its vehicles are read (Config::plates).
  std::optional<TrafficConfig> traffic = std::nullopt;  // Speed, wrong way, stopped vehicles.
};

struct DetectorConfig {
  std::string model = "nanodet-coco";  // A model name from models/manifest.yaml.
  double score_threshold = 0.4;        // Detections below this score are dropped; [0, 1].
  // Labels kept from the detector's output; zones, lines and min_score may only use these.
  std::vector<std::string> labels = {"person", "bicycle", "car", "motorcycle", "bus", "truck"};
  std::map<std::string, double> min_score;  // Per-label threshold overriding score_threshold.
};

// Motion detection. The two common knobs are typed; any other key must be a number and is
// passed through in `extra` for the motion stage, which rejects keys it does not know.
struct MotionConfig {
  double threshold = 25;     // Pixel difference (0-255) that counts as motion.
  double min_area = 0.0005;  // Smallest moving area, as a fraction of the frame; [0, 1].
  std::map<std::string, double> extra;
};

// Tracker knobs; as MotionConfig, other numeric keys are passed through in `extra`.
struct TrackerConfig {
  int64_t max_lost_ms = 2000;  // A track unseen this long ends.
  int confirm_hits = 3;        // Detections needed before a track is confirmed.
  std::map<std::string, double> extra;
};

struct StoreConfig {
  std::string sqlite = "events.db";  // SQLite event database path.
};

// Retention defaults and disk limits for the server (docs/retention.md).
struct RetentionConfig {
  double video_hours = 72;               // Recordings; 1 h .. 10 years.
  double events_days = 30;               // Events and their snapshots; 1 h .. 10 years.
  std::optional<double> snapshots_days;  // Unset: as long as their events.
  double video_quota_gb = 0;             // Most GB of recordings; 0: no quota.
  double min_free_gb = 1;                // Least free GB on the data disk; 0: no floor.
  double plate_reads_hours = 72;         // Plate reads (docs/plates.md); 1 h .. 90 days.
};

// The camera map of the web UI.
struct MapConfig {
  std::string tile_url;     // e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; "" = none.
  std::string attribution;  // Shown under the map; required by most tile servers.
  std::optional<Location> center;  // Unset: the middle of the cameras.
  int zoom = 16;                   // 1..20.
};

// `custos serve` (docs/server.md). Relative paths are relative to the config file.
struct ServerConfig {
  std::string bind = "127.0.0.1";
  int port = 8080;  // 0 picks a free port.
  std::string data_dir = "custos-data";
  std::string site_name = "Custos";
  std::string operator_name;  // Who operates the cameras (public register).
  // Folders that file cameras may read from; a file URL outside all of them is refused.
  std::vector<std::string> media_roots;
  // Folder of the built web UI; "" = web/dist of the source tree the binary was built from.
  std::string web_root;
  MapConfig map;
};

// Privacy masking in live view and exports (docs/privacy.md). Faces are always masked.
struct PrivacyConfig {
  // Licence plates obscured too (DESIGN.md §1.5): needs the text detector (ppocr-v4-det).
  bool mask_plates = true;
  // The text detector runs on one frame per this many ms of video (every 5th frame at 25 fps,
  // every live frame at 5 fps); 0 = every frame; 0..1000. As privacy::PlateMaskerOptions.
  int plate_sample_ms = 200;
};

// Licence-plate reading on the cameras with read_plates (docs/plates.md "Live reading").
struct PlatesConfig {
  std::string country = "us";  // Built-in format: us, rs, eu or any.
  // Custom formats instead ("PATTERN" or "PATTERN:PRIOR", plate_format.h); empty: country's.
  std::vector<std::string> patterns;
  double sample_interval_s = 0.4;   // Per vehicle track: at most one read this often; 0..10.
  int max_reads_per_track = 8;      // 1..50.
  int min_vehicle_height_px = 60;   // Smaller vehicles (full-frame px) are not read; 0..2000.
  int full_frame_max_width = 1920;  // Plates are read from the stream scaled to this; 320..8192.
};

struct Config {
  std::vector<CameraConfig> cameras;  // >= 1, unique ids.
  DetectorConfig detector;
  MotionConfig motion;
  TrackerConfig tracker;
  StoreConfig store;
  RetentionConfig retention;
  ServerConfig server;
  PlatesConfig plates;
  PrivacyConfig privacy;
  // Directory of the file LoadConfig read (empty for ParseConfig): relative paths in the
  // config are relative to it. See ResolvePath.
  std::string base_dir;
};

// What the caller knows beyond the file itself. Empty members disable their check.
struct ParseOptions {
  // Model name -> the labels that model reports (from models/manifest.yaml). When not empty,
  // detector.model must be one of the names and detector.labels a subset of its labels.
  std::map<std::string, std::vector<std::string>> models;
};

// Parses and validates `text`; `source_name` (usually the file name) prefixes every message.
// Errors: kInvalidArgument with one line per problem found ("name:line:col: message").
// Never throws.
absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view source_name,
                                   const ParseOptions& options = {});

// Reads `path` and parses it as ParseConfig does; sets Config::base_dir.
// Errors: kNotFound (no such file), kPermissionDenied / kUnavailable (cannot read it),
// kInvalidArgument (see ParseConfig).
absl::StatusOr<Config> LoadConfig(const std::string& path, const ParseOptions& options = {});

// `path` as given when it is absolute, a URL ("scheme://...") or base_dir is empty; otherwise
// base_dir/path.
std::string ResolvePath(const Config& config, const std::string& path);

const char* RtspTransportName(RtspTransport transport);  // "tcp", "udp"
const char* RecordModeName(RecordMode mode);             // "continuous", "events", "off"

}  // namespace custos::config
