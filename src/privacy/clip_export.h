// Exporting a clip for handing out: decode, obscure every face and licence plate, draw the
// export watermark, encode H.264 (libx264) into a fast-start MP4, hash it. The input is a clip
// cut by record::WriteClip (any MP4 / video file FFmpeg reads). See docs/privacy.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "face/face_detector.h"
#include "plate/text_detector.h"
#include "privacy/face_masker.h"
#include "privacy/plate_masker.h"

namespace custos::privacy {

struct ExportOptions {
  // Drawn on every frame ("CUSTOS EXPORT <id>") and meant to be the audit entry's object.
  // Required; see ValidateExportId (watermark.h).
  std::string export_id;
  // false: the "unblurred but watermarked" export. Only for exports a supervisor approved
  // under a legal basis (DESIGN.md §1.5); the API checks that, not this function. No
  // detector is needed then, and plates are not masked either.
  bool blur_faces = true;
  FaceMaskerOptions masker;
  // Licence plates are obscured as well (DESIGN.md §1.5; the server's privacy.mask_plates),
  // found by the text detector on one frame per plates.sample_interval_ms of the input
  // (plate_masker.h). Only with blur_faces.
  bool mask_plates = true;
  PlateMaskerOptions plates;
  // UTC ms of the input's first frame (record::ClipInfo::start_ms): the watermark shows each
  // frame's wall-clock time. -1: it shows the time since the clip's start instead.
  int64_t start_utc_ms = -1;
  // libx264 settings: constant rate factor (0-51; 23 is x264's default, visually close to the
  // source for CCTV) and preset (ultrafast ... placebo). Output is yuv420p, High profile.
  int crf = 23;
  std::string preset = "veryfast";
  // Encoder threads; 0 lets x264 decide (one per core).
  int encoder_threads = 0;
  // fsync the export before it gets its final name.
  bool sync = true;
  // Called after every frame written, with the frames written so far and the input's frame
  // count (estimated from its duration when the file does not say; 0 if unknown). On the
  // exporting thread: keep it short.
  std::function<void(int64_t frames_done, int64_t frames_total)> progress;
  // When set and true, the export stops with kCancelled (checked once per frame).
  const std::atomic<bool>* cancel = nullptr;
};

struct ExportResult {
  std::string sha256_hex;      // SHA-256 of the output file, lower-case hex.
  int64_t bytes = 0;           // Size of the output file.
  int64_t frames_in = 0;       // Frames decoded from the input.
  int64_t frames_out = 0;      // Frames encoded (equal unless timestamps repeated).
  int64_t frames_damaged = 0;  // Decoded with errors (concealed by the decoder), still exported.
  int64_t duration_ms = 0;     // Of the output's timeline (first pts to last pts + duration).
  int64_t faces_detected = 0;  // Detections (after merging whole frame and tiles) over all frames.
  int64_t frames_with_faces = 0;       // Frames with at least one detection.
  int64_t plate_frames_sampled = 0;    // Frames the text detector ran on (mask_plates).
  int64_t plates_detected = 0;         // Plate-like text lines found on them.
  int64_t frames_with_plates = 0;      // Sampled frames with at least one.
  int64_t plate_regions_obscured = 0;  // Plate regions obscured, held ones included.
  int64_t regions_obscured = 0;        // Regions obscured (faces and plates), held ones included.
  int64_t frames_obscured = 0;         // Frames in which at least one region was obscured.
  int width = 0, height = 0;           // Of the output.
};

// Writes `input_path`'s video (its best video stream; audio and other streams are left out)
// to `output_path` as described above, keeping each frame's timestamp. The output is written
// to output_path + ".part", synced, hashed and renamed; on any failure nothing is left at
// either path. The detectors (not owned; shared, thread-safe): `faces` is required when
// blur_faces, `text` when blur_faces and mask_plates (fail-closed: no export then).
//
// Errors:
//   kInvalidArgument    bad options (export id, CRF, preset, maskers), no face detector
//                       while blurring or no text detector while masking plates; the input
//                       is not a video FFmpeg can decode
//   kNotFound           the input does not exist
//   kPermissionDenied   the input cannot be read or the output cannot be written
//   kDataLoss           the input is damaged: unreadable packets, or it ends before the
//                       frames its index lists (a truncated file)
//   kAlreadyExists      output_path exists: choose another name or remove it
//   kFailedPrecondition the folder of output_path does not exist
//   kResourceExhausted  the disk is full, or out of memory
//   kCancelled          options.cancel was set
//   kInternal           the encoder, the face or the text detector failed
struct MaskDetectors {
  face::FaceDetector* faces = nullptr;
  plate::TextDetector* text = nullptr;
};
absl::StatusOr<ExportResult> ExportClip(const std::string& input_path,
                                        const std::string& output_path,
                                        const MaskDetectors& detectors,
                                        const ExportOptions& options);

}  // namespace custos::privacy
