// custos: the command-line entry point. Subcommands are wired here; their work lives in
// commands.h so the CLI stays a thin layer (docs/cli.md).
#include <cstdio>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "cli/dpia_commands.h"
#include "cli/face_commands.h"
#include "cli/plate_commands.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  using custos::cli::ModelFlags;
  CLI::App app{"Custos: accountable video analytics (docs/cli.md)", "custos"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("custos 0.1.0"));
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();

  ModelFlags model;
  auto add_model_flags = [&model](CLI::App* cmd) {
    cmd->add_option("--manifest", model.manifest, "model manifest (default models/manifest.yaml)");
    cmd->add_option("--models-dir", model.models_dir,
                    "folder with model files (default var/models)");
    cmd->add_option("--model", model.model, "detector model name")->capture_default_str();
  };

  custos::cli::DetectFlags detect;
  CLI::App* detect_cmd = app.add_subcommand("detect", "detect objects in images");
  detect_cmd->add_option("images", detect.images, "image files")->required();
  detect_cmd->add_flag("--json", detect.json, "print JSON");
  detect_cmd->add_option("--threshold", detect.threshold, "minimum score")->capture_default_str();
  detect_cmd
      ->add_option("--labels", detect.labels,
                   "labels to report (default: person and vehicles; 'all' for every class)")
      ->delimiter(',');
  add_model_flags(detect_cmd);

  CLI::App* models_cmd = app.add_subcommand("models", "list and verify the models of the manifest");
  models_cmd->require_subcommand(1);
  bool models_json = false;
  CLI::App* list_cmd = models_cmd->add_subcommand("list", "list models");
  list_cmd->add_flag("--json", models_json, "print JSON");
  add_model_flags(list_cmd);
  std::vector<std::string> verify_names;
  CLI::App* verify_cmd = models_cmd->add_subcommand("verify", "check model files' SHA-256");
  verify_cmd->add_option("names", verify_names, "models to verify (default: all)");
  add_model_flags(verify_cmd);

  custos::cli::AnalyzeFlags analyze;
  CLI::App* analyze_cmd =
      app.add_subcommand("analyze", "run the analytics pipeline over a video file or stream");
  analyze_cmd->add_option("input", analyze.input,
                          "video file or rtsp/http URL (default: the camera's url in --config)");
  analyze_cmd->add_option("--config", analyze.config, "YAML config (zones, lines, detector...)");
  analyze_cmd->add_option("--camera", analyze.camera, "camera id of the config to apply");
  analyze_cmd->add_option("--json-events", analyze.json_events,
                          "write events as JSON lines ('-' = stdout)");
  analyze_cmd->add_option("--annotate", analyze.annotate, "write an annotated MP4");
  analyze_cmd->add_option("--db", analyze.db, "store events in this SQLite database");
  analyze_cmd->add_option("--snapshots", analyze.snapshots, "save each track's best snapshot here");
  analyze_cmd->add_option("--fps", analyze.fps, "analytics frames per second (default 5)");
  analyze_cmd->add_option("--height", analyze.height, "analytics frame height (default 360)");
  analyze_cmd->add_flag("--full-frame", analyze.full_frame,
                        "detect on every whole frame instead of motion regions");
  bool no_progress = false;
  analyze_cmd->add_flag("--no-progress", no_progress, "no progress bar");
  add_model_flags(analyze_cmd);

  custos::cli::ServeFlags serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "run the server: record and analyse every camera of the config, API and web UI");
  serve_cmd->add_option("--config", serve.config, "YAML config (cameras, server, retention)")
      ->required();
  serve_cmd->add_option("--port", serve.port, "HTTP port (default server.port; 0 = any free)");
  serve_cmd->add_option("--data-dir", serve.data_dir, "data directory (default server.data_dir)");
  serve_cmd->add_option("--bind", serve.bind, "address to listen on (default server.bind)");
  serve_cmd->add_option("--web-root", serve.web_root, "folder of the built web UI");
  add_model_flags(serve_cmd);

  custos::cli::DemoFlags demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo", "serve the sample videos as live cameras, with a first admin and investigator");
  demo_cmd->add_option("--port", demo.port, "HTTP port (0 = any free)")->capture_default_str();
  demo_cmd->add_option("--data-dir", demo.data_dir, "data directory (default var/demo)");
  demo_cmd->add_option("--config", demo.config, "config (default examples/demo.yaml)");
  demo_cmd->add_flag("--no-rtsp", demo.no_rtsp, "play the files directly, without RTSP");
  add_model_flags(demo_cmd);

  custos::cli::AuditFlags audit;
  CLI::App* audit_cmd = app.add_subcommand(
      "audit", "the tamper-evident audit log: checkpoints, proofs, verification (docs/audit.md)");
  audit_cmd->require_subcommand(1);
  auto audit_data_dir = [&audit](CLI::App* cmd) {
    cmd->add_option("--data-dir", audit.data_dir, "data directory (the log is in DIR/audit)")
        ->required();
  };
  CLI::App* audit_checkpoint_cmd =
      audit_cmd->add_subcommand("checkpoint", "sign the log's size if it grew; print it");
  audit_data_dir(audit_checkpoint_cmd);
  audit_checkpoint_cmd->add_option("--out", audit.out, "also write the checkpoint to this file");
  CLI::App* audit_prove_cmd =
      audit_cmd->add_subcommand("prove", "inclusion proof of an entry, as JSON");
  audit_prove_cmd->add_option("entry", audit.entry, "the entry's index")->required();
  audit_data_dir(audit_prove_cmd);
  audit_prove_cmd->add_option("--size", audit.size,
                              "tree size of a stored checkpoint (default latest)");
  audit_prove_cmd->add_option("--entry-out", audit.entry_out, "write the entry's bytes here");
  audit_prove_cmd->add_option("--checkpoint-out", audit.checkpoint_out,
                              "write the checkpoint here");
  CLI::App* audit_consistency_cmd = audit_cmd->add_subcommand(
      "consistency", "consistency proof between two checkpoints, as JSON");
  audit_data_dir(audit_consistency_cmd);
  audit_consistency_cmd->add_option("--from", audit.from, "the older checkpoint's size")
      ->required();
  audit_consistency_cmd->add_option("--to", audit.size,
                                    "the newer checkpoint's size (default latest)");
  CLI::App* audit_verify_cmd = audit_cmd->add_subcommand(
      "verify", "recompute and check everything stored; exit 1 naming the first problem");
  audit_data_dir(audit_verify_cmd);
  audit_verify_cmd->add_option("--checkpoint", audit.checkpoint,
                               "a checkpoint kept outside, to check the log against");
  CLI::App* audit_key_cmd = audit_cmd->add_subcommand("key", "print the public key to publish");
  audit_data_dir(audit_key_cmd);

  custos::cli::DpiaFlags dpia;
  CLI::App* dpia_cmd = app.add_subcommand(
      "dpia", "write the data-protection impact assessment draft (docs/dpia.md)");
  dpia_cmd->add_option("--config", dpia.config, "YAML config the draft describes")->required();
  dpia_cmd->add_option("--data-dir", dpia.data_dir,
                       "the server's data directory: policy state and audit log");
  dpia_cmd->add_option("--out", dpia.out, "folder for dpia.md, dpia.html, dpia.pdf")->required();
  dpia_cmd->add_flag("--no-pdf", dpia.no_pdf, "write only the Markdown and HTML");
  dpia_cmd->add_option("--manifest", dpia.manifest,
                       "model manifest (default models/manifest.yaml)");
  dpia_cmd->add_option("--chromium", dpia.chromium,
                       "Chromium executable (default $CUSTOS_CHROMIUM or PATH)");

  custos::cli::FaceModelFlags face_model;
  auto add_face_model_flags = [&face_model](CLI::App* cmd) {
    cmd->add_option("--manifest", face_model.manifest,
                    "model manifest (default models/manifest.yaml)");
    cmd->add_option("--models-dir", face_model.models_dir,
                    "folder with model files (default var/models)");
    cmd->add_option("--detector", face_model.detector, "face detector model")
        ->capture_default_str();
    cmd->add_option("--embedder", face_model.embedder, "face embedder model")
        ->capture_default_str();
  };
  CLI::App* face_cmd =
      app.add_subcommand("face", "face detection and 1:1 comparison (docs/face.md)");
  face_cmd->require_subcommand(1);
  custos::cli::FaceDetectFlags face_detect;
  CLI::App* face_detect_cmd = face_cmd->add_subcommand("detect", "faces, landmarks and quality");
  face_detect_cmd->add_option("images", face_detect.images, "image files")->required();
  face_detect_cmd->add_flag("--json", face_detect.json, "print JSON");
  add_face_model_flags(face_detect_cmd);
  custos::cli::FaceCompareFlags face_compare;
  CLI::App* face_compare_cmd =
      face_cmd->add_subcommand("compare", "compare the largest face of two images");
  face_compare_cmd->add_option("images", face_compare.images, "two image files");
  face_compare_cmd->add_option("--pairs", face_compare.pairs, "CSV with header columns a,b");
  face_compare_cmd->add_flag("--json", face_compare.json, "print JSON lines");
  face_compare_cmd->add_option("--threshold", face_compare.threshold,
                               "override the model's threshold");
  add_face_model_flags(face_compare_cmd);

  custos::cli::PlateReadFlags plate_read;
  CLI::App* plate_cmd = app.add_subcommand("plate", "licence-plate reading (docs/plates.md)");
  plate_cmd->require_subcommand(1);
  CLI::App* plate_read_cmd = plate_cmd->add_subcommand("read", "read the plates of images");
  plate_read_cmd->add_option("images", plate_read.images, "image files")->required();
  plate_read_cmd->add_option("--country", plate_read.country, "plate format: us, rs, eu, any")
      ->capture_default_str();
  plate_read_cmd->add_option("--pattern", plate_read.patterns,
                             "own plate format instead, PATTERN[:PRIOR] (repeatable)");
  plate_read_cmd->add_flag("--json", plate_read.json, "print JSON");
  plate_read_cmd->add_option("--top", plate_read.top, "candidates per plate")
      ->capture_default_str();
  plate_read_cmd->add_option("--min-confidence", plate_read.min_confidence, "drop weaker reads")
      ->capture_default_str();
  plate_read_cmd->add_option("--max-side", plate_read.max_side,
                             "detector input's longer side in pixels (default: the manifest's)");
  plate_read_cmd->add_flag("--timing", plate_read.timing, "add time_ms per file to the JSON");
  plate_read_cmd->add_option("--manifest", plate_read.manifest,
                             "model manifest (default models/manifest.yaml)");
  plate_read_cmd->add_option("--models-dir", plate_read.models_dir,
                             "folder with model files (default var/models)");
  plate_read_cmd->add_option("--detector", plate_read.detector, "text detector model")
      ->capture_default_str();
  plate_read_cmd->add_option("--recognizer", plate_read.recognizer, "text recogniser model")
      ->capture_default_str();
  plate_read_cmd
      ->add_option("--vehicle-detector", plate_read.vehicle_detector,
                   "rank reads on vehicles first ('' to disable)")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_default_logger(spdlog::stderr_color_mt("custos"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (detect_cmd->parsed()) {
    detect.model = model;
    return custos::cli::RunDetect(detect);
  }
  if (list_cmd->parsed()) return custos::cli::RunModelsList(model, models_json);
  if (verify_cmd->parsed()) return custos::cli::RunModelsVerify(model, verify_names);
  if (analyze_cmd->parsed()) {
    analyze.model = model;
    analyze.progress = !no_progress;
    return custos::cli::RunAnalyze(analyze);
  }
  if (serve_cmd->parsed()) {
    serve.model = model;
    return custos::cli::RunServe(serve);
  }
  if (demo_cmd->parsed()) {
    demo.model = model;
    return custos::cli::RunDemo(demo);
  }
  if (audit_checkpoint_cmd->parsed()) return custos::cli::RunAuditCheckpoint(audit);
  if (audit_prove_cmd->parsed()) return custos::cli::RunAuditProve(audit);
  if (audit_consistency_cmd->parsed()) return custos::cli::RunAuditConsistency(audit);
  if (audit_verify_cmd->parsed()) return custos::cli::RunAuditVerify(audit);
  if (audit_key_cmd->parsed()) return custos::cli::RunAuditKey(audit);
  if (dpia_cmd->parsed()) return custos::cli::RunDpia(dpia);
  if (face_detect_cmd->parsed()) {
    face_detect.model = face_model;
    return custos::cli::RunFaceDetect(face_detect);
  }
  if (face_compare_cmd->parsed()) {
    face_compare.model = face_model;
    return custos::cli::RunFaceCompare(face_compare);
  }
  if (plate_read_cmd->parsed()) return custos::cli::RunPlateRead(plate_read);
  return 2;
}
