// The `custos` command-line tool's subcommands. Each returns the process exit status and
// writes errors to stderr as "custos <command>: <message>".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace custos::cli {

struct ModelFlags {
  std::string manifest;    // models/manifest.yaml by default
  std::string models_dir;  // var/models by default
  std::string model = "nanodet-coco";
};

struct DetectFlags {
  ModelFlags model;
  std::vector<std::string> images;
  bool json = false;
  float threshold = 0.4f;
  std::vector<std::string> labels;  // Empty: person and vehicles. "all": every model class.
};
int RunDetect(const DetectFlags& flags);

int RunModelsList(const ModelFlags& flags, bool json);
int RunModelsVerify(const ModelFlags& flags, const std::vector<std::string>& names);

struct AnalyzeFlags {
  ModelFlags model;
  std::string input;        // File path or URL.
  std::string config;       // Optional YAML config.
  std::string camera;       // Camera id of the config to use (default: the first, or "cli").
  std::string json_events;  // JSON-lines output file ("-" for stdout).
  std::string annotate;     // Annotated MP4 output.
  std::string db;           // SQLite event store.
  std::string snapshots;    // Folder for best snapshots of each track.
  double fps = 0;           // Override the detect fps (0: config or 5).
  int height = 0;           // Override the detect height (0: config or 360).
  bool progress = true;
  bool full_frame = false;  // Detect on every full frame instead of motion regions.
};
int RunAnalyze(const AnalyzeFlags& flags);

struct ServeFlags {
  ModelFlags model;
  std::string config;    // Required.
  std::string data_dir;  // Overrides server.data_dir.
  std::string bind;      // Overrides server.bind.
  int port = -1;         // Overrides server.port; 0 picks a free port.
  std::string web_root;  // Overrides server.web_root.
};
int RunServe(const ServeFlags& flags);

struct DemoFlags {
  ModelFlags model;
  std::string config;    // Default: examples/demo.yaml of the source tree.
  std::string data_dir;  // Default: var/demo of the source tree.
  int port = 8080;       // 0 picks a free port.
  bool no_rtsp = false;  // Play the files directly instead of through an RTSP server.
};
int RunDemo(const DemoFlags& flags);

// `custos audit checkpoint|prove|consistency|verify|key` (docs/audit.md). Exit 0 on success,
// 1 when the log does not verify or cannot be read, 2 for bad input.
struct AuditFlags {
  std::string data_dir;        // Required: the log is in DATA_DIR/audit.
  std::string out;             // checkpoint: also write the checkpoint to this file.
  uint64_t entry = 0;          // prove: the entry's index.
  uint64_t size = 0;           // prove / consistency: the (newer) checkpoint's size; 0 latest.
  uint64_t from = 0;           // consistency: the older checkpoint's size.
  std::string entry_out;       // prove: write the entry's canonical JSON here.
  std::string checkpoint_out;  // prove: write the checkpoint proved against here.
  std::string checkpoint;      // verify: a checkpoint kept outside, to check the log against.
};
int RunAuditCheckpoint(const AuditFlags& flags);
int RunAuditProve(const AuditFlags& flags);
int RunAuditConsistency(const AuditFlags& flags);
int RunAuditVerify(const AuditFlags& flags);
int RunAuditKey(const AuditFlags& flags);

}  // namespace custos::cli
