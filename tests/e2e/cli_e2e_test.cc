// End-to-end tests of the `custos` CLI on real data: what a user runs, checked on its outputs.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/videoio.hpp>
#include <set>
#include <sstream>

#include "core/testing.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace custos {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the custos binary with `args` (already shell-quoted where needed).
CommandResult Custos(const std::string& args) {
  const fs::path err_file =
      fs::temp_directory_path() / ("custos-e2e-err-" + std::to_string(getpid()));
  const std::string cmd = std::string(CUSTOS_BINARY) + " " + args + " 2>" + err_file.string();
  CommandResult run;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) run.out.append(buf.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  run.err.assign(std::istreambuf_iterator<char>(err), {});
  fs::remove(err_file);
  return run;
}

std::vector<json> ReadJsonLines(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

TEST(CliDetect, FindsVehiclesAndPeopleInRealPhotos) {
  CUSTOS_REQUIRE_DATA(car1, testing::SharedData("plates/us/car1.jpg"));
  CUSTOS_REQUIRE_DATA(car11, testing::SharedData("plates/us/car11.jpg"));
  CUSTOS_REQUIRE_DATA(person, testing::SharedData("faces/obama_and_biden.jpg"));
  const CommandResult run = Custos("detect --json " + car1 + " " + car11 + " " + person);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json out = json::parse(run.out);
  ASSERT_EQ(out.size(), 3u);
  std::vector<std::multiset<std::string>> labels(3);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i]["file"], i == 0 ? car1 : i == 1 ? car11 : person);
    for (const json& d : out[i]["detections"]) {
      labels[i].insert(d["label"].get<std::string>());
      ASSERT_EQ(d["box"].size(), 4u);
      EXPECT_GE(d["score"].get<double>(), 0.4);
      EXPECT_GT(d["box"][2].get<double>(), 0);
    }
  }
  EXPECT_GE(labels[0].count("car") + labels[0].count("truck"), 1u);
  EXPECT_GE(labels[1].count("car") + labels[1].count("truck"), 1u);
  // Two men in front, a child and a half-visible woman at the right edge behind them.
  EXPECT_GE(labels[2].count("person"), 2u);
  EXPECT_LE(labels[2].count("person"), 4u);
}

TEST(CliDetect, UnreadableImageIsReportedNotFatal) {
  CUSTOS_REQUIRE_DATA(car1, testing::SharedData("plates/us/car1.jpg"));
  const CommandResult run = Custos("detect --json /nonexistent.jpg " + car1);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("/nonexistent.jpg: cannot read image"), std::string::npos) << run.err;
  const json out = json::parse(run.out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].contains("error"));
  EXPECT_FALSE(out[1]["detections"].empty());
}

TEST(CliModels, ListsAndVerifiesTheProvisionedModels) {
  const CommandResult list = Custos("models list --json");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const json models = json::parse(list.out);
  ASSERT_FALSE(models.empty());
  EXPECT_EQ(models[0]["name"], "nanodet-coco");
  EXPECT_EQ(models[0]["state"], "ok");
  const CommandResult verify = Custos("models verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("nanodet-coco: ok"), std::string::npos);
}

TEST(CliModels, AModelWithTheWrongChecksumIsRefused) {
  const fs::path models = fs::path(CUSTOS_SOURCE_DIR) / "var" / "models";
  if (!fs::exists(models / "nanodet-coco.bin")) GTEST_SKIP() << "models not provisioned";
  const fs::path dir = testing::TempDir("e2e-models");
  fs::copy_file(models / "nanodet-coco.xml", dir / "nanodet-coco.xml");
  fs::copy_file(models / "nanodet-coco.bin", dir / "nanodet-coco.bin");
  {
    std::fstream f(dir / "nanodet-coco.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12345);
    f.put('\x7f');
  }
  const CommandResult verify = Custos("models verify --models-dir " + dir.string());
  EXPECT_EQ(verify.exit_code, 3);
  EXPECT_NE(verify.err.find("refusing to load"), std::string::npos) << verify.err;
  CUSTOS_REQUIRE_DATA(car1, testing::SharedData("plates/us/car1.jpg"));
  const CommandResult detect = Custos("detect --models-dir " + dir.string() + " " + car1);
  EXPECT_EQ(detect.exit_code, 3);
  EXPECT_NE(detect.err.find("SHA-256"), std::string::npos) << detect.err;
  fs::remove_all(dir);
}

// The person video: six people walk in one at a time, stand a while, and walk out (counted by
// eye from a contact sheet of one frame per second).
TEST(CliAnalyze, OneTrackPerPersonWhoWalksThroughAndBoxesFollowThem) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData("video/one-by-one-person-detection.mp4"));
  const fs::path dir = testing::TempDir("e2e-analyze");
  const fs::path events_path = dir / "events.jsonl";
  const fs::path annotated = dir / "annotated.mp4";
  const CommandResult run =
      Custos("analyze " + video + " --no-progress --json-events " + events_path.string() +
             " --annotate " + annotated.string() + " --db " + (dir / "events.db").string() +
             " --snapshots " + (dir / "snaps").string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<json> events = ReadJsonLines(events_path);
  std::vector<json> ends, starts;
  for (const json& e : events) {
    if (e["type"] == "track_end" && e["label"] == "person") ends.push_back(e);
    if (e["type"] == "track_start" && e["label"] == "person") starts.push_back(e);
  }
  EXPECT_EQ(ends.size(), 6u) << run.out;
  EXPECT_EQ(starts.size(), ends.size());
  // Each person is in view for at least ten seconds; fragments would be shorter.
  for (const json& e : ends) {
    EXPECT_GE(e["dwell_ms"].get<int64_t>(), 8000) << e.dump();
    EXPECT_TRUE(e.contains("track_id"));
    ASSERT_TRUE(e.contains("snapshot")) << e.dump();
    EXPECT_TRUE(fs::exists(dir / "snaps" / e["snapshot"].get<std::string>())) << e.dump();
  }
  // The summary counts the tracks per class.
  EXPECT_NE(run.out.find("person"), std::string::npos) << run.out;

  // The annotated video: same length at the analytics rate, with each new track's box drawn
  // where the event says it is.
  cv::VideoCapture cap(annotated.string());
  ASSERT_TRUE(cap.isOpened());
  const double frames = cap.get(cv::CAP_PROP_FRAME_COUNT);
  EXPECT_NEAR(frames, 697, 15);
  int checked = 0;
  for (const json& s : starts) {
    const double pos_ms = s["pts_ms"].get<double>();
    cap.set(cv::CAP_PROP_POS_MSEC, pos_ms);
    cv::Mat frame;
    ASSERT_TRUE(cap.read(frame));
    const auto box = s["box"];
    const int x0 = static_cast<int>(box[0].get<double>()),
              y0 = static_cast<int>(box[1].get<double>());
    const int x1 = x0 + static_cast<int>(box[2].get<double>());
    // Count box-coloured pixels along the top edge.
    int coloured = 0, total = 0;
    for (int x = std::max(0, x0 + 2); x < std::min(frame.cols, x1 - 2); ++x) {
      for (int dy = -2; dy <= 2; ++dy) {
        const int y = std::clamp(y0 + dy, 0, frame.rows - 1);
        const cv::Vec3b p = frame.at<cv::Vec3b>(y, x);
        ++total;
        // Track boxes are drawn in saturated colours; the scene is white walls and wood.
        const int hi = std::max({p[0], p[1], p[2]}), lo = std::min({p[0], p[1], p[2]});
        if (hi - lo > 120) ++coloured;
      }
    }
    EXPECT_GT(coloured, total / 6) << "no box drawn at " << box.dump() << " t=" << pos_ms;
    ++checked;
  }
  EXPECT_GE(checked, 6);
  fs::remove_all(dir);
}

TEST(CliAnalyze, AnalysesTheCameraOfAConfigWhenNoInputIsGiven) {
  CUSTOS_REQUIRE_DATA(vtest, testing::VarData("data/vtest.avi"));
  const std::string config = std::string(CUSTOS_SOURCE_DIR) + "/examples/vtest.yaml";
  const CommandResult run = Custos("analyze --config " + config + " --fps 1 --no-progress");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // The sample street has pedestrians crossing the configured line.
  EXPECT_NE(run.out.find("person"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("crossing"), std::string::npos) << run.out;
  const CommandResult nothing = Custos("analyze --no-progress");
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_NE(nothing.err.find("nothing to analyse"), std::string::npos) << nothing.err;
}

TEST(CliAnalyze, MissingVideoGivesAClearError) {
  const CommandResult run = Custos("analyze /nonexistent/video.mp4 --no-progress");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("not found"), std::string::npos) << run.err;
}

TEST(CliAnalyze, CorruptVideoGivesAClearError) {
  const fs::path dir = testing::TempDir("e2e-corrupt");
  {
    std::ofstream f(dir / "junk.mp4", std::ios::binary);
    for (int i = 0; i < 100000; ++i) f.put(static_cast<char>((i * 7919) % 251));
  }
  const CommandResult run = Custos("analyze " + (dir / "junk.mp4").string() + " --no-progress");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("junk.mp4"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("Segmentation"), std::string::npos);
  fs::remove_all(dir);
}

TEST(CliAnalyze, TruncatedVideoIsAnalysedUpToWhereItBreaks) {
  CUSTOS_REQUIRE_DATA(video, testing::SharedData("video/one-by-one-person-detection.mp4"));
  // An MPEG-TS copy cut in half: the first half is still playable.
  const fs::path dir = testing::TempDir("e2e-truncated");
  const fs::path ts = dir / "cut.ts";
  const std::string remux =
      "ffmpeg -loglevel error -y -i " + video + " -c copy -t 60 " + ts.string();
  ASSERT_EQ(std::system(remux.c_str()), 0);
  fs::resize_file(ts, fs::file_size(ts) / 2);
  const CommandResult run = Custos("analyze " + ts.string() + " --no-progress --json-events " +
                                   (dir / "e.jsonl").string());
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_FALSE(ReadJsonLines(dir / "e.jsonl").empty());
  fs::remove_all(dir);
}

TEST(CliAnalyze, MalformedConfigReportsTheLine) {
  const fs::path dir = testing::TempDir("e2e-config");
  std::ofstream(dir / "bad.yaml") << "cameras:\n  - id: a\n    url: x.mp4\n    zones: [\n";
  std::ofstream(dir / "unknown.yaml") << "cameras:\n  - id: a\n    url: x.mp4\n    zonez: []\n";
  const CommandResult bad =
      Custos("analyze x.mp4 --no-progress --config " + (dir / "bad.yaml").string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.yaml:"), std::string::npos) << bad.err;
  const CommandResult unknown =
      Custos("analyze x.mp4 --no-progress --config " + (dir / "unknown.yaml").string());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown.yaml:4"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("zonez"), std::string::npos) << unknown.err;
  fs::remove_all(dir);
}

TEST(CliAnalyze, UnreachableRtspUrlFailsWithinSeconds) {
  const auto start = std::chrono::steady_clock::now();
  // Port 9 (discard) on loopback: nothing listens there.
  const CommandResult run = Custos("analyze rtsp://127.0.0.1:9/none --no-progress");
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("127.0.0.1"), std::string::npos) << run.err;
  EXPECT_LT(seconds, 60);
}

}  // namespace
}  // namespace custos
