// `custos dpia --config FILE [--data-dir DIR] --out DIR [--no-pdf]` (docs/dpia.md).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cli/dpia_commands.h"
#include "infer/model_manifest.h"
#include "transparency/dpia.h"
#include "transparency/markdown_html.h"
#include "transparency/pdf.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

int Report(std::ostream& err, const absl::Status& status, int code) {
  err << "custos dpia: " << status.message() << "\n";
  return code;
}

// Bad input is exit 2 (docs/cli.md); everything else a run-time failure.
int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
      return 2;
    default:
      return 1;
  }
}

// Writes `text` to `path` through a temporary file and a rename.
absl::Status WriteFile(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".partial";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    file << text;
    file.flush();
    if (!file) {
      return absl::UnavailableError(
          absl::StrCat("cannot write ", tmp.string(), "; check the folder and free space"));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

int RunDpia(const DpiaFlags& flags, std::ostream& out, std::ostream& err) {
  if (flags.config.empty()) {
    return Report(err, absl::InvalidArgumentError("--config FILE is required"), 2);
  }
  if (flags.out.empty()) {
    return Report(err, absl::InvalidArgumentError("--out DIR is required"), 2);
  }
  transparency::GatherOptions options;
  options.config_path = flags.config;
  options.data_dir = flags.data_dir;
  // The manifest lets the configuration be validated as `custos serve` does and the detector
  // be described; without one (an installation without the source tree) both are skipped.
  std::error_code ec;
  const std::string manifest =
      flags.manifest.empty() ? infer::DefaultManifestPath() : flags.manifest;
  if (!flags.manifest.empty() || fs::exists(manifest, ec)) {
    absl::StatusOr<std::vector<infer::ModelSpec>> models =
        infer::LoadManifest(manifest, infer::DefaultModelsDir());
    if (!models.ok()) return Report(err, models.status(), 2);
    options.models = *std::move(models);
  }
  absl::StatusOr<transparency::DpiaInput> input = transparency::GatherDpiaInput(options);
  if (!input.ok()) return Report(err, input.status(), ExitCodeFor(input.status()));
  // `custos serve` does not start without the face detector that masks live view and
  // exports (src/cli/common.h LoadMaskingModel), so a running server always blurs.
  input->face_blurring_available = true;

  const fs::path dir(flags.out);
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) {
    return Report(err,
                  absl::UnavailableError(absl::StrCat("cannot create output folder ", flags.out,
                                                      "; check the path and its permissions")),
                  1);
  }
  const fs::path md_path = dir / "dpia.md";
  const fs::path html_path = dir / "dpia.html";
  const fs::path pdf_path = dir / "dpia.pdf";
  // A PDF of an earlier run must not sit beside a draft of another configuration.
  fs::remove(pdf_path, ec);

  const std::string markdown = transparency::RenderDpiaMarkdown(*input);
  const std::string title = absl::StrCat("DPIA draft: ", input->config.server.site_name, " (",
                                         input->config_sha256.substr(0, 12), ")");
  if (absl::Status s = WriteFile(md_path, markdown); !s.ok()) return Report(err, s, 1);
  out << "wrote " << md_path.string() << "\n";
  if (absl::Status s = WriteFile(html_path, transparency::RenderDpiaHtml(markdown, title));
      !s.ok()) {
    return Report(err, s, 1);
  }
  out << "wrote " << html_path.string() << "\n";
  if (flags.no_pdf) return 0;

  transparency::PdfOptions pdf;
  pdf.chromium = flags.chromium;
  if (absl::Status s = transparency::WritePdf(html_path.string(), pdf_path.string(), pdf);
      !s.ok()) {
    return Report(err,
                  absl::Status(s.code(), absl::StrCat(s.message(), " (", md_path.string(), " and ",
                                                      html_path.string(), " were written)")),
                  1);
  }
  out << "wrote " << pdf_path.string() << "\n";
  return 0;
}

}  // namespace custos::cli
