// HTML to PDF through headless Chromium, spawned without a shell (posix_spawn) in its own
// process group, with a private throw-away profile, no sandbox (it prints a local file that
// Custos wrote, which holds no script and whose Content-Security-Policy forbids scripts and
// external resources), and a time limit. (--blink-settings=scriptEnabled=false would be
// stricter, but headless Chromium then silently prints nothing.)
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace custos::transparency {

struct PdfOptions {
  // The Chromium executable; "": $CUSTOS_CHROMIUM, else the first of chromium,
  // chromium-browser, google-chrome-stable, google-chrome on $PATH.
  std::string chromium;
  int64_t timeout_ms = 120'000;  // The browser is killed after this long.
};

// The Chromium to use. Errors: kFailedPrecondition saying how to install it (the message
// starts with "the PDF needs Chromium").
absl::StatusOr<std::string> FindChromium(const PdfOptions& options = {});

// Prints `html_path` to `pdf_path` (A4, the page's own @page rules, no browser header or
// footer). The PDF is written to a temporary file beside `pdf_path` and renamed once it is
// complete and starts with "%PDF", so `pdf_path` never holds a partial file.
// Errors: kFailedPrecondition (no Chromium, see FindChromium); kNotFound (no html_path);
// kDeadlineExceeded (Chromium took longer than timeout_ms); kInternal (Chromium failed: the
// message has the end of its output); kUnavailable (cannot spawn, cannot write pdf_path).
absl::Status WritePdf(const std::string& html_path, const std::string& pdf_path,
                      const PdfOptions& options = {});

}  // namespace custos::transparency
