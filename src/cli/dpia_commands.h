// `custos dpia` (docs/dpia.md): writes the data-protection impact assessment draft generated
// from the live configuration (and the policy state and audit log of a data directory) as
// Markdown, HTML and, through headless Chromium, PDF. Errors go to `err` as
// "custos dpia: <message>".
#pragma once

#include <iostream>
#include <string>

namespace custos::cli {

struct DpiaFlags {
  std::string config;    // Required: the YAML configuration.
  std::string data_dir;  // Optional: the server's data directory (policy.db, audit/).
  std::string out;       // Required: folder for dpia.md, dpia.html, dpia.pdf (created).
  bool no_pdf = false;   // Write only the Markdown and HTML.
  std::string manifest;  // Model manifest; "" = models/manifest.yaml when it exists.
  std::string chromium;  // Chromium executable; "" = $CUSTOS_CHROMIUM or PATH.
};

// Prints the path of each file written. Exit 0 on success; 2 for bad input (configuration,
// missing data directory, bad manifest); 1 when something fails at run time — among them a
// missing Chromium, in which case dpia.md and dpia.html are still written and the message
// says so. A dpia.pdf left in OUT by an earlier run is removed first, so OUT never holds a
// PDF of another configuration.
int RunDpia(const DpiaFlags& flags, std::ostream& out = std::cout, std::ostream& err = std::cerr);

}  // namespace custos::cli
