#include "config/config.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A valid camera to which tests append keys; its lines are at 2-3 of the file.
constexpr char kCamera[] = R"(cameras:
  - id: entrance
    url: clip.mp4
)";

std::string ErrorOf(const std::string& yaml, const ParseOptions& options = {}) {
  absl::StatusOr<Config> config = ParseConfig(yaml, "config.yaml", options);
  if (config.ok()) return "<parsed OK>";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

TEST(Config, ParsesAMinimalCameraWithDefaults) {
  absl::StatusOr<Config> config = ParseConfig(kCamera, "config.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->cameras.size(), 1u);
  const CameraConfig& cam = config->cameras[0];
  EXPECT_EQ(cam.id, "entrance");
  EXPECT_EQ(cam.name, "entrance");
  EXPECT_EQ(cam.url, "clip.mp4");
  EXPECT_EQ(cam.rtsp_transport, RtspTransport::kTcp);
  EXPECT_TRUE(cam.enabled);
  EXPECT_EQ(cam.detect.fps, 5);
  EXPECT_EQ(cam.detect.width, 0);
  EXPECT_EQ(cam.detect.height, 360);
  EXPECT_FALSE(cam.location.has_value());
  EXPECT_TRUE(cam.zones.empty());
  EXPECT_EQ(config->detector.model, "nanodet-coco");
  EXPECT_DOUBLE_EQ(config->detector.score_threshold, 0.4);
  EXPECT_THAT(config->detector.labels,
              ElementsAre("person", "bicycle", "car", "motorcycle", "bus", "truck"));
  EXPECT_EQ(config->motion.threshold, 25);
  EXPECT_DOUBLE_EQ(config->motion.min_area, 0.0005);
  EXPECT_EQ(config->tracker.max_lost_ms, 2000);
  EXPECT_EQ(config->tracker.confirm_hits, 3);
  EXPECT_EQ(config->store.sqlite, "events.db");
  EXPECT_EQ(config->base_dir, "");
}

TEST(Config, ParsesEveryField) {
  const std::string yaml = R"(
cameras:
  - id: entrance
    name: Entrance hall
    url: rtsp://10.0.0.5/s1
    rtsp_transport: udp
    enabled: false
    detect: {fps: 2.5, width: 640, height: 0}
    location: {lat: 44.81, lon: 20.46}
    motion_masks:
      - [[0, 0], [1, 0], [1, 0.1]]
    zones:
      - name: door
        polygon: [[0.1, 0.2], [0.5, 0.2], [0.5, 0.9]]
        labels: [person]
        loiter_s: 30
        min_frames: 4
    lines:
      - name: gate
        points: [[0.5, 0.0], [0.5, 1.0]]
        labels: [person, car]
        directions: {left_to_right: east, right_to_left: west}
detector:
  model: yolo
  score_threshold: 0.3
  labels: [person, car]
  min_score: {person: 0.5}
motion: {threshold: 30, min_area: 0.01, blur_px: 5}
tracker: {max_lost_ms: 1500, confirm_hits: 2, iou: 0.3}
store: {sqlite: /var/lib/custos/events.db}
)";
  absl::StatusOr<Config> config = ParseConfig(yaml, "config.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  const CameraConfig& cam = config->cameras.at(0);
  EXPECT_EQ(cam.name, "Entrance hall");
  EXPECT_EQ(cam.rtsp_transport, RtspTransport::kUdp);
  EXPECT_FALSE(cam.enabled);
  EXPECT_EQ(cam.detect.fps, 2.5);
  EXPECT_EQ(cam.detect.width, 640);
  EXPECT_EQ(cam.detect.height, 0);
  ASSERT_TRUE(cam.location.has_value());
  EXPECT_DOUBLE_EQ(cam.location->lat, 44.81);
  EXPECT_DOUBLE_EQ(cam.location->lon, 20.46);
  ASSERT_EQ(cam.motion_masks.size(), 1u);
  EXPECT_EQ(cam.motion_masks[0].size(), 3u);
  ASSERT_EQ(cam.zones.size(), 1u);
  EXPECT_EQ(cam.zones[0].name, "door");
  EXPECT_EQ(cam.zones[0].polygon.size(), 3u);
  EXPECT_FLOAT_EQ(cam.zones[0].polygon[2].y, 0.9f);
  EXPECT_THAT(cam.zones[0].labels, ElementsAre("person"));
  EXPECT_EQ(cam.zones[0].loiter_s, 30);
  EXPECT_EQ(cam.zones[0].min_frames, 4);
  ASSERT_EQ(cam.lines.size(), 1u);
  EXPECT_FLOAT_EQ(cam.lines[0].from.x, 0.5f);
  EXPECT_FLOAT_EQ(cam.lines[0].to.y, 1.0f);
  EXPECT_EQ(cam.lines[0].left_to_right, "east");
  EXPECT_EQ(cam.lines[0].right_to_left, "west");
  EXPECT_EQ(config->detector.model, "yolo");
  EXPECT_THAT(config->detector.labels, ElementsAre("person", "car"));
  EXPECT_EQ(config->detector.min_score.at("person"), 0.5);
  EXPECT_EQ(config->motion.threshold, 30);
  EXPECT_EQ(config->motion.extra.at("blur_px"), 5);
  EXPECT_EQ(config->tracker.max_lost_ms, 1500);
  EXPECT_EQ(config->tracker.extra.at("iou"), 0.3);
  EXPECT_EQ(config->store.sqlite, "/var/lib/custos/events.db");
}

TEST(Config, ParsesServerRetentionAndRecording) {
  const std::string yaml = R"(cameras:
  - id: gate
    url: rtsp://cam/1
    purpose: traffic safety at the school gate
    record: {mode: events, segment_s: 6, pre_roll_s: 3, post_roll_s: 8}
    retention: {video_hours: 24, events_days: 7}
retention: {video_hours: 48, events_days: 14, snapshots_days: 2, video_quota_gb: 500, min_free_gb: 5}
server:
  bind: 0.0.0.0
  port: 9000
  data_dir: /srv/custos
  site_name: City of Example
  operator: Example City Police
  media_roots: [/srv/video]
  map: {tile_url: "https://tile.example.org/{z}/{x}/{y}.png", attribution: "© example", center: {lat: 44.8, lon: 20.4}, zoom: 14}
)";
  absl::StatusOr<Config> config = ParseConfig(yaml, "config.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  const CameraConfig& cam = config->cameras[0];
  EXPECT_EQ(cam.purpose, "traffic safety at the school gate");
  EXPECT_EQ(cam.record.mode, RecordMode::kEvents);
  EXPECT_EQ(cam.record.segment_s, 6);
  EXPECT_EQ(cam.record.pre_roll_s, 3);
  EXPECT_EQ(cam.record.post_roll_s, 8);
  EXPECT_EQ(cam.retention.video_hours, 24);
  EXPECT_EQ(cam.retention.events_days, 7);
  EXPECT_FALSE(cam.retention.snapshots_days.has_value());
  EXPECT_EQ(config->retention.video_hours, 48);
  EXPECT_EQ(config->retention.events_days, 14);
  EXPECT_EQ(config->retention.snapshots_days, 2);
  EXPECT_EQ(config->retention.video_quota_gb, 500);
  EXPECT_EQ(config->retention.min_free_gb, 5);
  EXPECT_EQ(config->server.bind, "0.0.0.0");
  EXPECT_EQ(config->server.port, 9000);
  EXPECT_EQ(config->server.data_dir, "/srv/custos");
  EXPECT_EQ(config->server.site_name, "City of Example");
  EXPECT_EQ(config->server.operator_name, "Example City Police");
  EXPECT_THAT(config->server.media_roots, ElementsAre("/srv/video"));
  EXPECT_EQ(config->server.map.tile_url, "https://tile.example.org/{z}/{x}/{y}.png");
  ASSERT_TRUE(config->server.map.center.has_value());
  EXPECT_EQ(config->server.map.center->lat, 44.8);
  EXPECT_EQ(config->server.map.zoom, 14);
}

TEST(Config, ServerDefaultsRecordContinuouslyAndKeepVideo72Hours) {
  absl::StatusOr<Config> config = ParseConfig(kCamera, "config.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->cameras[0].record.mode, RecordMode::kContinuous);
  EXPECT_EQ(config->cameras[0].record.segment_s, 10);
  EXPECT_EQ(config->retention.video_hours, 72);
  EXPECT_EQ(config->server.bind, "127.0.0.1");
  EXPECT_EQ(config->server.map.tile_url, "");
  EXPECT_TRUE(config->server.media_roots.empty());
}

TEST(Config, BadServerAndRecordValuesNameTheKeyAndLine) {
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    record: {mode: sometimes}\n"),
              HasSubstr("config.yaml:4:"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    record: {mode: sometimes}\n"),
              HasSubstr("'continuous', 'events' or 'off'"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "server: {port: 70000}\n"), HasSubstr("server.port"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "server: {map: {tile_url: \"file:///etc\"}}\n"),
              HasSubstr("server.map.tile_url must be an http(s) URL"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "retention: {video_hours: 0.1}\n"),
              HasSubstr("retention.video_hours"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "server: {colour: red}\n"), HasSubstr("colour"));
}

TEST(Config, PlatesAreMaskedByDefaultAndPrivacyValuesAreChecked) {
  absl::StatusOr<Config> defaults = ParseConfig(kCamera, "config.yaml");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_TRUE(defaults->privacy.mask_plates);
  EXPECT_EQ(defaults->privacy.plate_sample_ms, 200);

  absl::StatusOr<Config> set =
      ParseConfig(std::string(kCamera) + "privacy:\n  mask_plates: false\n  plate_sample_ms: 0\n",
                  "config.yaml");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_FALSE(set->privacy.mask_plates);
  EXPECT_EQ(set->privacy.plate_sample_ms, 0);

  // Errors name the file, line and column, the key and what is allowed.
  EXPECT_EQ(ErrorOf(std::string(kCamera) + "privacy:\n  plate_sample_ms: 5000\n"),
            "config.yaml:5:20: privacy.plate_sample_ms must be between 0 and 1000, got 5000");
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "privacy:\n  mask_plates: \"no\"\n"),
              HasSubstr("config.yaml:5:16: privacy.mask_plates must be true or false, got the "
                        "quoted string 'no'"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "privacy: {mask_plates: yes}\n"),
              HasSubstr("config.yaml:4:24: privacy.mask_plates must be true or false"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "privacy: {plate_sample_ms: 2.5}\n"),
              HasSubstr("config.yaml:4:28: privacy.plate_sample_ms must be a whole number"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "privacy: {mask_faces: false}\n"),
              HasSubstr("config.yaml:4:11: unknown key 'mask_faces' in privacy"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "privacy: true\n"),
              HasSubstr("config.yaml:4:10: privacy must be a mapping"));
}

TEST(Config, PlateReadingIsPerCameraWithServerWideSettings) {
  absl::StatusOr<Config> defaults = ParseConfig(kCamera, "config.yaml");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_FALSE(defaults->cameras[0].read_plates);
  EXPECT_EQ(defaults->plates.country, "us");
  EXPECT_EQ(defaults->retention.plate_reads_hours, 72);

  absl::StatusOr<Config> set = ParseConfig(
      std::string(kCamera) +
          "    read_plates: true\nplates:\n  country: rs\n  patterns: ['LL000LL']\n"
          "  sample_interval_s: 0.5\n  max_reads_per_track: 4\n  min_vehicle_height_px: 80\n"
          "  full_frame_max_width: 1280\nretention:\n  plate_reads_hours: 24\n",
      "config.yaml");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->cameras[0].read_plates);
  EXPECT_EQ(set->plates.country, "rs");
  EXPECT_THAT(set->plates.patterns, ElementsAre("LL000LL"));
  EXPECT_EQ(set->plates.sample_interval_s, 0.5);
  EXPECT_EQ(set->plates.max_reads_per_track, 4);
  EXPECT_EQ(set->plates.min_vehicle_height_px, 80);
  EXPECT_EQ(set->plates.full_frame_max_width, 1280);
  EXPECT_EQ(set->retention.plate_reads_hours, 24);

  EXPECT_THAT(ErrorOf(std::string(kCamera) + "plates:\n  country: de\n"),
              HasSubstr("config.yaml:5:12: plates.country must be us, rs, eu or any"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "plates: {max_reads_per_track: 0}\n"),
              HasSubstr("config.yaml:4:31: plates.max_reads_per_track must be between 1 and 50"));
  EXPECT_THAT(
      ErrorOf(std::string(kCamera) + "retention: {plate_reads_hours: 0}\n"),
      HasSubstr(
          "config.yaml:4:32: retention.plate_reads_hours must be at least 1 and at most 2160"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    read_plates: maybe\n"),
              HasSubstr("config.yaml:4:18: cameras[0].read_plates must be true or false"));
}

TEST(Config, TheExampleConfigIsValid) {
  const std::string path = std::string(CUSTOS_SOURCE_DIR) + "/examples/config.yaml";
  absl::StatusOr<Config> config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_GE(config->cameras.size(), 1u);
  EXPECT_EQ(config->base_dir, std::string(CUSTOS_SOURCE_DIR) + "/examples");
}

TEST(Config, MalformedYamlReportsTheLineOfTheError) {
  // Line 4 has a tab where YAML only allows spaces... (yaml-cpp reports the bad token).
  const std::string yaml = "cameras:\n  - id: a\n    url: x\n    detect: {fps: 5\n  - id: b\n";
  const std::string error = ErrorOf(yaml);
  EXPECT_THAT(error, HasSubstr("config.yaml:5:"));
  EXPECT_THAT(error, HasSubstr("invalid YAML"));

  const std::string bad_indent = "cameras:\n  - id: a\n   url: x\n";
  EXPECT_THAT(ErrorOf(bad_indent), HasSubstr("config.yaml:3:"));

  const std::string unclosed_flow = "cameras: [{id: a, url: x}\nstore: {sqlite: a.db}\n";
  EXPECT_THAT(ErrorOf(unclosed_flow), HasSubstr("invalid YAML"));
}

TEST(Config, StrayCommaIsAnErrorNotAHang) {
  // yaml-cpp 0.7's LoadAll loops forever, allocating, on these (yaml-cpp #1040).
  EXPECT_THAT(ErrorOf(","), HasSubstr("config.yaml:1:1: invalid YAML: unexpected ','"));
  EXPECT_THAT(ErrorOf("--- ,\n"), HasSubstr("invalid YAML: unexpected ','"));
  EXPECT_THAT(ErrorOf(",camer   zones:\n  - id: a\n"), HasSubstr("invalid YAML"));
}

TEST(Config, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = "cameras: " + std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nested too deeply"));
  // The same in block style, 2500 levels of indentation (6 MB: generated here rather than kept
  // in the fuzz corpus).
  std::string block;
  for (int depth = 0; depth < 2500; ++depth) block += std::string(2 * depth, ' ') + "k:\n";
  EXPECT_NE(ErrorOf(block), "<parsed OK>");
}

TEST(Config, UnknownKeyReportsItsLineColumnAndTheKnownKeys) {
  const std::string error = ErrorOf(std::string(kCamera) + "    zonez: []\n");
  EXPECT_THAT(error, HasSubstr("config.yaml:4:5: unknown key 'zonez' in cameras[0] (expected "
                               "one of: id, name, url, rtsp_transport, enabled, detect, "
                               "location, motion_masks, zones, lines, record, retention, purpose, "
                               "traffic"));
  EXPECT_THAT(error, HasSubstr("); did you mean 'zones'?"));
}

TEST(Config, UnknownKeysAreFoundAtEveryLevel) {
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "detectr: {}\n"),
              HasSubstr("config.yaml:4:1: unknown key 'detectr' in the top level"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {fsp: 5}\n"),
              HasSubstr("config.yaml:4:14: unknown key 'fsp' in cameras[0].detect"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) +
                      "    zones:\n      - {name: z, polygon: [[0,0],[1,0],[1,1]], lables: []}\n"),
              HasSubstr("config.yaml:5:49: unknown key 'lables' in cameras[0].zones[0]"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "store: {postgres: x}\n"),
              HasSubstr("unknown key 'postgres' in store"));
}

TEST(Config, DuplicateKeysAreErrors) {
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    url: other.mp4\n"),
              HasSubstr("config.yaml:4:5: duplicate key 'url' in cameras[0]"));
}

TEST(Config, WrongTypesNameThePathAndLine) {
  EXPECT_THAT(ErrorOf("cameras: entrance\n"),
              HasSubstr("config.yaml:1:10: cameras must be a list, got a scalar"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: 5\n"),
              HasSubstr("config.yaml:4:13: cameras[0].detect must be a mapping"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    enabled: maybe\n"),
              HasSubstr("cameras[0].enabled must be true or false, got 'maybe'"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {fps: fast}\n"),
              HasSubstr("cameras[0].detect.fps must be a number, got 'fast'"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {fps: \"5\"}\n"),
              HasSubstr("got the quoted string '5' (remove the quotes)"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {height: 360.5}\n"),
              HasSubstr("cameras[0].detect.height must be a whole number"));
  EXPECT_THAT(ErrorOf("cameras:\n  - id: [a]\n    url: x\n"),
              HasSubstr("config.yaml:2:9: cameras[0].id must be a string, got a list"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    name:\n"),
              HasSubstr("cameras[0].name must be a string, got an empty value (null)"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "motion: {threshold: 10, blur: [1]}\n"),
              HasSubstr("motion.blur must be a number, got a list"));
  EXPECT_THAT(ErrorOf("- a\n- b\n"), HasSubstr("the top level must be a mapping"));
}

TEST(Config, MissingRequiredKeysAreErrors) {
  EXPECT_THAT(ErrorOf("store: {sqlite: x.db}\n"),
              HasSubstr("config.yaml:1:1: the top level is missing the required key 'cameras'"));
  EXPECT_THAT(ErrorOf("cameras:\n  - id: a\n"),
              HasSubstr("config.yaml:2:5: cameras[0] is missing the required key 'url'"));
  EXPECT_THAT(ErrorOf("cameras:\n  - url: a\n"), HasSubstr("missing the required key 'id'"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    zones: [{name: z}]\n"),
              HasSubstr("cameras[0].zones[0] is missing the required key 'polygon'"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    lines: [{points: [[0, 0], [1, 1]]}]\n"),
              HasSubstr("cameras[0].lines[0] is missing the required key 'name'"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    location: {lat: 1}\n"),
              HasSubstr("cameras[0].location is missing the required key 'lon'"));
}

TEST(Config, EmptyInputsAreErrors) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("config.yaml: the configuration is empty"));
  EXPECT_THAT(ErrorOf("# only a comment\n"), HasSubstr("the configuration is empty"));
  EXPECT_THAT(ErrorOf("cameras: []\n"), HasSubstr("cameras is empty"));
  EXPECT_THAT(ErrorOf("---\ncameras: []\n---\nstore: {}\n"),
              HasSubstr("config.yaml:3:1: found more than one YAML document"));
}

TEST(Config, FpsMustBePositive) {
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {fps: 0}\n"),
              HasSubstr("config.yaml:4:19: cameras[0].detect.fps must be greater than 0"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {fps: -5}\n"),
              HasSubstr("fps must be greater than 0"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {fps: .nan}\n"),
              HasSubstr("fps must be a number"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {fps: 1e400}\n"),
              HasSubstr("fps must be a number"));
}

TEST(Config, DetectSizeIsBoundedAndNotBothZero) {
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {width: 0, height: 0}\n"),
              HasSubstr("width and height are both 0"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {width: -1}\n"),
              HasSubstr("cameras[0].detect.width must be between 0 and 8192, got -1"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    detect: {height: 99999999999999999999999}\n"),
              HasSubstr("cameras[0].detect.height must be a whole number"));
}

TEST(Config, CoordinatesMustBeInsideTheUnitSquare) {
  EXPECT_THAT(
      ErrorOf(
          std::string(kCamera) +
          "    zones:\n      - name: z\n        polygon: [[0.1, 0.2], [1.5, 0.2], [0.5, 0.9]]\n"),
      HasSubstr("config.yaml:6:32: cameras[0].zones[0].polygon[1]: x = 1.5 is outside [0, 1]"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    lines:\n      - name: l\n        points: "
                                             "[[0.5, -0.1], [0.5, 1]]\n"),
              HasSubstr("cameras[0].lines[0].points[0]: y = -0.1 is outside [0, 1]"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    motion_masks: [[[0, 0], [2, 0], [1, 1]]]\n"),
              HasSubstr("cameras[0].motion_masks[0][1]: x = 2 is outside [0, 1]"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    motion_masks: [[[0, 0, 0], [1, 0], [1, 1]]]\n"),
              HasSubstr("motion_masks[0][0] must be a point [x, y]"));
}

TEST(Config, PolygonsNeedThreePointsAndAnArea) {
  EXPECT_THAT(ErrorOf(std::string(kCamera) +
                      "    zones:\n      - name: z\n        polygon: [[0.1, 0.2], [0.5, 0.2]]\n"),
              HasSubstr("config.yaml:6:18: cameras[0].zones[0].polygon must have at least 3 "
                        "points, got 2"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) +
                      "    zones:\n      - {name: z, polygon: [[0, 0], [0.5, 0.5], [1, 1]]}\n"),
              HasSubstr("has no area"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    motion_masks: [[[0, 0], [1, 1]]]\n"),
              HasSubstr("motion_masks[0] must have at least 3 points"));
}

TEST(Config, LinesNeedExactlyTwoDifferentPoints) {
  EXPECT_THAT(
      ErrorOf(std::string(kCamera) + "    lines: [{name: l, points: [[0, 0], [1, 1], [0, 1]]}]\n"),
      HasSubstr("cameras[0].lines[0].points must have exactly 2 points"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    lines: [{name: l, points: [[0, 0]]}]\n"),
              HasSubstr("must have exactly 2 points [[x0, y0], [x1, y1]], got 1"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    lines: [{name: l, points: [[0, 0], [0, 0]]}]\n"),
              HasSubstr("the two points are the same"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    lines: [{name: l, points: [[0, 0], [1, 1]], "
                                             "directions: {left_to_right: ''}}]\n"),
              HasSubstr("cameras[0].lines[0].directions.left_to_right must not be empty"));
}

TEST(Config, CameraIdsMustBeUniqueAndWellFormed) {
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "  - id: entrance\n    url: other.mp4\n"),
              HasSubstr("config.yaml:4:5: cameras[1]: camera id 'entrance' is already used by "
                        "cameras[0]"));
  EXPECT_THAT(ErrorOf("cameras:\n  - id: Entrance Hall\n    url: x\n"),
              HasSubstr("cameras[0].id 'Entrance Hall' must be 1 to 64 characters of a-z, 0-9"));
  EXPECT_THAT(ErrorOf("cameras:\n  - id: " + std::string(65, 'a') + "\n    url: x\n"),
              HasSubstr("must be 1 to 64 characters"));
  EXPECT_THAT(ErrorOf("cameras:\n  - id: ''\n    url: x\n"), HasSubstr("must be 1 to 64"));
}

TEST(Config, ZoneAndLineNamesMustBeUniquePerCamera) {
  const std::string zone = "      - {name: door, polygon: [[0, 0], [1, 0], [1, 1]]}\n";
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    zones:\n" + zone + zone),
              HasSubstr("cameras[0].zones[1]: name 'door' is already used by cameras[0].zones[0]"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    zones:\n" + zone +
                      "    lines: [{name: door, points: [[0, 0], [1, 1]]}]\n"),
              HasSubstr("cameras[0].lines[0]: name 'door' is already used by cameras[0].zones[0]"));
  // The same zone name on two cameras is fine.
  EXPECT_TRUE(ParseConfig(std::string(kCamera) + "    zones:\n" + zone +
                              "  - id: b\n    url: y\n    zones:\n" + zone,
                          "config.yaml")
                  .ok());
}

// A camera with a calibrated road (docs/traffic.md); lines 4-7 of the file.
constexpr char kTrafficCamera[] = R"(cameras:
  - id: road
    url: road.mp4
    traffic:
      calibration:
        image: [[0.1, 0.95], [0.9, 0.95], [0.6, 0.25], [0.4, 0.25]]
        ground: [[-6, 0], [6, 0], [6, 60], [-6, 60]]
)";

TEST(Config, ParsesATrafficSection) {
  const std::string yaml = std::string(kTrafficCamera) + R"(      lanes:
        - name: northbound
          polygon: [[0.5, 0.95], [0.9, 0.95], [0.6, 0.25], [0.5, 0.25]]
          direction: [[0.7, 0.8], [0.55, 0.4]]
          labels: [car, bus]
      stopped:
        - {name: shoulder, polygon: [[0.8, 0.9], [0.9, 0.9], [0.6, 0.3]], after_s: 20}
      vehicle_labels: [car, bus, truck]
      wrong_way_min_m: 8
      stop_radius_frame: 0.02
    lines: [{name: count, points: [[0.2, 0.6], [0.8, 0.6]]}]
)";
  absl::StatusOr<Config> config = ParseConfig(yaml, "config.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  const CameraConfig& cam = config->cameras[0];
  ASSERT_TRUE(cam.traffic.has_value());
  const TrafficConfig& t = *cam.traffic;
  ASSERT_TRUE(t.calibration.has_value());
  ASSERT_EQ(t.calibration->image.size(), 4u);
  EXPECT_FLOAT_EQ(t.calibration->image[2].x, 0.6f);
  ASSERT_EQ(t.calibration->ground.size(), 4u);
  EXPECT_DOUBLE_EQ(t.calibration->ground[3].x, -6);
  EXPECT_DOUBLE_EQ(t.calibration->ground[3].y, 60);
  ASSERT_EQ(t.lanes.size(), 1u);
  EXPECT_EQ(t.lanes[0].name, "northbound");
  EXPECT_EQ(t.lanes[0].polygon.size(), 4u);
  EXPECT_FLOAT_EQ(t.lanes[0].from.x, 0.7f);
  EXPECT_FLOAT_EQ(t.lanes[0].to.y, 0.4f);
  EXPECT_THAT(t.lanes[0].labels, ElementsAre("car", "bus"));
  ASSERT_EQ(t.stopped.size(), 1u);
  EXPECT_EQ(t.stopped[0].name, "shoulder");
  EXPECT_DOUBLE_EQ(t.stopped[0].after_s, 20);
  EXPECT_TRUE(t.stopped[0].labels.empty());
  EXPECT_THAT(t.vehicle_labels, ElementsAre("car", "bus", "truck"));
  EXPECT_DOUBLE_EQ(t.wrong_way_min_m, 8);
  EXPECT_DOUBLE_EQ(t.wrong_way_min_frame, 0.05);
  EXPECT_DOUBLE_EQ(t.stop_radius_frame, 0.02);
}

TEST(Config, TrafficDefaultsAndAnUncalibratedCamera) {
  absl::StatusOr<Config> none = ParseConfig(kCamera, "config.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->cameras[0].traffic.has_value());
  absl::StatusOr<Config> bare = ParseConfig(std::string(kCamera) + "    traffic: {}\n", "c.yaml");
  ASSERT_TRUE(bare.ok()) << bare.status();
  ASSERT_TRUE(bare->cameras[0].traffic.has_value());
  const TrafficConfig& t = *bare->cameras[0].traffic;
  EXPECT_FALSE(t.calibration.has_value());
  EXPECT_THAT(t.vehicle_labels, ElementsAre("car", "truck", "bus", "motorcycle"));
  EXPECT_DOUBLE_EQ(t.stop_radius_m, 1.5);
}

TEST(Config, MalformedCalibrationsNameTheLine) {
  auto calibration = [](const std::string& image, const std::string& ground) {
    return ErrorOf(std::string(kCamera) + "    traffic:\n      calibration:\n        image: " +
                   image + "\n        ground: " + ground + "\n");
  };
  const std::string image = "[[0.1, 0.95], [0.9, 0.95], [0.6, 0.25], [0.4, 0.25]]";
  const std::string ground = "[[-6, 0], [6, 0], [6, 60], [-6, 60]]";
  EXPECT_EQ(calibration("[[0.1, 0.95], [0.9, 0.95], [0.6, 0.25]]", ground),
            "config.yaml:6:16: cameras[0].traffic.calibration.image must have exactly 4 points, "
            "got 3");
  EXPECT_THAT(calibration(image, "[[-6, 0], [6, 0], [6, 60], [-6, 60], [0, 30]]"),
              HasSubstr("config.yaml:7:17: cameras[0].traffic.calibration.ground must have "
                        "exactly 4 points, got 5"));
  // Degenerate: three ground points on one line; the message names the line and the points.
  EXPECT_EQ(calibration(image, "[[-6, 0], [6, 0], [12, 0], [-6, 60]]"),
            "config.yaml:6:9: cameras[0].traffic.calibration: calibration ground points 1, 2 and "
            "3 lie on one line (or nearly); choose four points that span the road, e.g. the "
            "corners of a stretch of lane");
  EXPECT_THAT(calibration(image, "[[-6, 0], [6, 0], [-6, 60], [6, 60]]"),
              HasSubstr("config.yaml:6:9: cameras[0].traffic.calibration: calibration ground "
                        "points do not form a convex quadrilateral"));
  EXPECT_THAT(calibration("[[0.1, 0.95], [0.1, 0.95], [0.6, 0.25], [0.4, 0.25]]", ground),
              HasSubstr("calibration image points 1 and 2 are the same"));
  EXPECT_THAT(calibration("[[0.1, 0.95], [1.9, 0.95], [0.6, 0.25], [0.4, 0.25]]", ground),
              HasSubstr("config.yaml:6:31: cameras[0].traffic.calibration.image[1]: x = 1.9 is "
                        "outside [0, 1]"));
  EXPECT_THAT(calibration(image, "[[-6, 0], [6, 0], [6, sixty], [-6, 60]]"),
              HasSubstr("config.yaml:7:39: cameras[0].traffic.calibration.ground[2].y must be a "
                        "number"));
  EXPECT_THAT(calibration(image, "[[-6, 0], [6, 0], [6], [-6, 60]]"),
              HasSubstr("cameras[0].traffic.calibration.ground[2] must be a point [x, y] in "
                        "metres, got a list of 1"));
  EXPECT_THAT(
      ErrorOf(std::string(kCamera) + "    traffic:\n      calibration: {image: " + image + "}\n"),
      HasSubstr("cameras[0].traffic.calibration is missing the required key 'ground'"));
}

TEST(Config, MalformedLanesAndStopZonesAreErrors) {
  const std::string lane =
      "      lanes: [{name: nb, polygon: [[0.5, 0.95], [0.9, 0.95], "
      "[0.6, 0.25]], direction: ";
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + lane + "[[0.7, 0.8]]}]\n"),
              HasSubstr("config.yaml:8:87: cameras[0].traffic.lanes[0].direction must have "
                        "exactly 2 points [[x0, y0], [x1, y1]], got 1"));
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + lane + "[[0.7, 0.8], [0.7, 0.8]]}]\n"),
              HasSubstr("the two points are the same; a direction needs two different points"));
  // Above the road's horizon, where no ground point maps.
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + lane + "[[0.7, 0.8], [0.5, 0.01]]}]\n"),
              HasSubstr("cameras[0].traffic.lanes[0].direction: a point lies beyond the road's "
                        "horizon"));
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + lane +
                      "[[0.7, 0.8], [0.6, 0.5]], labels: [person]}]\n"),
              HasSubstr("cameras[0].traffic.lanes[0].labels: 'person' is not in "
                        "traffic.vehicle_labels (car, truck, bus, motorcycle)"));
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) +
                      "      lanes: [{name: nb, polygon: [[0.5, 0.95], [0.9, 0.95]], "
                      "direction: [[0.7, 0.8], [0.6, 0.5]]}]\n"),
              HasSubstr("cameras[0].traffic.lanes[0].polygon must have at least 3 points"));
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + "      lanes: [{name: nb}]\n"),
              HasSubstr("cameras[0].traffic.lanes[0] is missing the required key 'polygon'"));
  const std::string stop =
      "      stopped: [{name: s, polygon: [[0.8, 0.9], [0.9, 0.9], "
      "[0.6, 0.3]], ";
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + stop + "after_s: 0}]\n"),
              HasSubstr("cameras[0].traffic.stopped[0].after_s must be at least 1 and at most "
                        "86400, got 0"));
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + stop + "after: 5}]\n"),
              HasSubstr("unknown key 'after' in cameras[0].traffic.stopped[0]"));
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + "      vehicle_labels: [car, unicorn]\n"),
              HasSubstr("cameras[0].traffic.vehicle_labels[1]: unknown label 'unicorn'"));
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + "      wrong_way_min_m: 0\n"),
              HasSubstr("cameras[0].traffic.wrong_way_min_m must be greater than 0"));
  EXPECT_THAT(ErrorOf(std::string(kTrafficCamera) + "      speed: 50\n"),
              HasSubstr("unknown key 'speed' in cameras[0].traffic"));
}

TEST(Config, LaneAndStopZoneNamesMustNotCollideWithZonesAndLines) {
  const std::string traffic =
      "    traffic:\n"
      "      lanes: [{name: gate, polygon: [[0, 0], [1, 0], [1, 1]], "
      "direction: [[0, 0], [1, 1]]}]\n"
      "      stopped: [{name: door, polygon: [[0, 0], [1, 0], [1, 1]]}]\n";
  const std::string error = ErrorOf(std::string(kCamera) +
                                    "    zones: [{name: door, polygon: [[0, 0], [1, 0], [1, 1]]}]\n"
                                    "    lines: [{name: gate, points: [[0, 0], [1, 1]]}]\n" +
                                    traffic);
  EXPECT_THAT(error, HasSubstr("config.yaml:7:15: cameras[0].traffic.lanes[0]: name 'gate' is "
                               "already used by cameras[0].lines[0]"));
  EXPECT_THAT(error, HasSubstr("config.yaml:8:17: cameras[0].traffic.stopped[0]: name 'door' is "
                               "already used by cameras[0].zones[0]"));
}

TEST(Config, LabelsMustBeKnownToTheDetector) {
  EXPECT_THAT(
      ErrorOf(
          std::string(kCamera) +
          "    zones:\n      - {name: z, polygon: [[0, 0], [1, 0], [1, 1]], labels: [unicorn]}\n"),
      HasSubstr("config.yaml:5:63: cameras[0].zones[0].labels[0]: unknown label 'unicorn'; "
                "detector.labels has: person, bicycle, car, motorcycle, bus, truck"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) +
                      "    lines: [{name: l, points: [[0, 0], [1, 1]], labels: [car, dog]}]\n"),
              HasSubstr("cameras[0].lines[0].labels[1]: unknown label 'dog'"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "detector: {min_score: {dragon: 0.5}}\n"),
              HasSubstr("config.yaml:4:24: detector.min_score: unknown label 'dragon'"));
  // A narrowed detector label list narrows what zones may use, wherever it appears.
  EXPECT_THAT(ErrorOf(std::string(kCamera) +
                      "    lines: [{name: l, points: [[0, 0], [1, 1]], labels: [car]}]\n"
                      "detector: {labels: [person]}\n"),
              HasSubstr("unknown label 'car'; detector.labels has: person"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) +
                      "    lines: [{name: l, points: [[0, 0], [1, 1]], labels: []}]\n"),
              HasSubstr("labels is an empty list; leave the key out"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "detector: {labels: [car, car]}\n"),
              HasSubstr("detector.labels[1]: label 'car' is listed twice"));
}

TEST(Config, ModelAndItsLabelsAreCheckedWhenTheManifestIsKnown) {
  ParseOptions options;
  options.models["nanodet-coco"] = {"person", "car", "bus", "truck", "bicycle", "motorcycle"};
  options.models["plates"] = {"plate"};
  EXPECT_TRUE(ParseConfig(kCamera, "config.yaml", options).ok());
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "detector: {model: yolo9}\n", options),
              HasSubstr("detector.model 'yolo9' is not in models/manifest.yaml (known: "
                        "nanodet-coco, plates)"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "detector: {model: plates}\n", options),
              HasSubstr("model 'plates' does not detect 'person'"));
  EXPECT_TRUE(ParseConfig(std::string(kCamera) + "detector: {model: plates, labels: [plate]}\n",
                          "config.yaml", options)
                  .ok());
}

TEST(Config, OtherValueRulesAreEnforced) {
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    rtsp_transport: http\n"),
              HasSubstr("cameras[0].rtsp_transport must be 'tcp' or 'udp', got 'http'"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    url: ''\n"), HasSubstr("duplicate key 'url'"));
  EXPECT_THAT(ErrorOf("cameras:\n  - id: a\n    url: ' '\n"),
              HasSubstr("cameras[0].url must not be empty"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    location: {lat: 91, lon: 0}\n"),
              HasSubstr("cameras[0].location.lat must be at least -90 and at most 90, got 91"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    zones: [{name: z, polygon: [[0, 0], [1, 0], "
                                             "[1, 1]], min_frames: 0}]\n"),
              HasSubstr("cameras[0].zones[0].min_frames must be between 1 and 1000, got 0"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    zones: [{name: z, polygon: [[0, 0], [1, 0], "
                                             "[1, 1]], loiter_s: -1}]\n"),
              HasSubstr("cameras[0].zones[0].loiter_s must be at least 0"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    zones: [{name: 'a b', polygon: [[0, 0], "
                                             "[1, 0], [1, 1]]}]\n"),
              HasSubstr("cameras[0].zones[0].name 'a b' must be 1 to 64 characters"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "detector: {score_threshold: 1.5}\n"),
              HasSubstr("detector.score_threshold must be at least 0 and at most 1, got 1.5"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "detector: {min_score: {person: 2}}\n"),
              HasSubstr("detector.min_score.person must be at least 0 and at most 1"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "detector: {model: ''}\n"),
              HasSubstr("detector.model must not be empty"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "tracker: {max_lost_ms: 0}\n"),
              HasSubstr("tracker.max_lost_ms must be between 1 and 3600000, got 0"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "tracker: {confirm_hits: 0}\n"),
              HasSubstr("tracker.confirm_hits must be between 1 and 1000"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "motion: {min_area: 2}\n"),
              HasSubstr("motion.min_area must be at least 0 and at most 1"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "motion: {threshold: 300}\n"),
              HasSubstr("motion.threshold must be at least 0 and at most 255"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "motion: {'Bad Key': 1}\n"),
              HasSubstr("key 'Bad Key' in motion must be 1 to 64 characters"));
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "store: {sqlite: ''}\n"),
              HasSubstr("store.sqlite must not be empty"));
}

TEST(Config, ReportsEveryProblemOnItsOwnLine) {
  const std::string error = ErrorOf(
      "cameras:\n  - id: a\n    url: x\n    detect: {fps: 0}\n    enabled: 3\n"
      "detector: {score_threshold: 2}\n");
  // Sorted by position, whatever order the sections are checked in.
  EXPECT_EQ(error,
            "config.yaml:4:19: cameras[0].detect.fps must be greater than 0 and at most 1000, "
            "got 0\n"
            "config.yaml:5:14: cameras[0].enabled must be true or false, got '3'\n"
            "config.yaml:6:29: detector.score_threshold must be at least 0 and at most 1, got 2");
}

TEST(Config, ErrorsShowControlCharactersEscaped) {
  EXPECT_THAT(ErrorOf(std::string(kCamera) + "    enabled: \"a\\x01b\"\n"), HasSubstr("'a\\x01b'"));
}

TEST(Config, AliasesAreFollowedButBounded) {
  const std::string yaml =
      "p: &p [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]\n"
      "cameras: [{id: a, url: x, motion_masks: [*p, *p]}]\n";
  EXPECT_THAT(ErrorOf(yaml), HasSubstr("unknown key 'p' in the top level"));

  // 100 cameras x 100 masks x 1000 points = 10^7 points to visit from a 20 kB file.
  std::string bomb = "a: &a [";
  for (int i = 0; i < 1000; ++i) bomb += i % 2 ? "[0.9, 0.1], " : "[0.1, 0.9], ";
  bomb += "[0.9, 0.9]]\nb: &b [";
  for (int i = 0; i < 100; ++i) bomb += "*a, ";
  bomb += "*a]\ncameras: [";
  for (int i = 0; i < 100; ++i) bomb += "{id: a, url: x, motion_masks: *b}, ";
  bomb += "{id: a, url: x}]\n";
  EXPECT_THAT(ErrorOf(bomb), ::testing::StartsWith("config.yaml: the configuration is too large"));
}

TEST(Config, LoadConfigReadsAFileAndResolvesRelativePaths) {
  const std::filesystem::path dir = custos::testing::TempDir("custos-config");
  const std::string path = (dir / "config.yaml").string();
  std::ofstream(path) << kCamera << "store: {sqlite: data/events.db}\n";
  absl::StatusOr<Config> config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->base_dir, dir.string());
  EXPECT_EQ(ResolvePath(*config, config->store.sqlite), (dir / "data/events.db").string());
  EXPECT_EQ(ResolvePath(*config, "/abs/clip.mp4"), "/abs/clip.mp4");
  EXPECT_EQ(ResolvePath(*config, "rtsp://host/s"), "rtsp://host/s");

  std::ofstream(path) << "cameras:\n  - id: a\n    zonez: []\n";
  EXPECT_THAT(std::string(LoadConfig(path).status().message()),
              HasSubstr(path + ":3:5: unknown key 'zonez'"));

  EXPECT_EQ(LoadConfig((dir / "missing.yaml").string()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadConfig(dir.string()).status().code(), absl::StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

TEST(Config, AcceptedInputKeepsItsOrder) {
  absl::StatusOr<Config> config =
      ParseConfig("cameras:\n  - {id: b, url: x}\n  - {id: a, url: y}\n", "c.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->cameras[0].id, "b");
  EXPECT_EQ(config->cameras[1].id, "a");
  EXPECT_THAT(std::string(RtspTransportName(RtspTransport::kUdp)), Not(HasSubstr("tcp")));
}

}  // namespace
}  // namespace custos::config
