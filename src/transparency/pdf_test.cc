// Prints the demo configuration's DPIA through headless Chromium. Labelled e2e: it spawns a
// browser; it skips where Chromium is not installed.
#include "transparency/pdf.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "transparency/dpia.h"
#include "transparency/markdown_html.h"

namespace custos::transparency {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Page objects of a PDF ("/Type /Page", not "/Type /Pages"); Chromium writes them uncompressed.
int CountPages(const std::string& pdf) {
  int pages = 0;
  for (size_t at = pdf.find("/Type /Page"); at != std::string::npos;
       at = pdf.find("/Type /Page", at + 1)) {
    if (pdf.compare(at, 12, "/Type /Pages") != 0) ++pages;
  }
  return pages;
}

TEST(DpiaPdf, DemoDraftPrintsToAMultiPagePdf) {
  absl::StatusOr<std::string> chromium = FindChromium();
  if (!chromium.ok()) GTEST_SKIP() << chromium.status().message();

  GatherOptions options;
  options.config_path = std::string(CUSTOS_SOURCE_DIR) + "/examples/demo.yaml";
  absl::StatusOr<DpiaInput> input = GatherDpiaInput(options);
  ASSERT_TRUE(input.ok()) << input.status();
  const fs::path dir = custos::testing::TempDir("custos-dpia-pdf");
  {
    std::ofstream html(dir / "dpia.html", std::ios::binary);
    html << RenderDpiaHtml(RenderDpiaMarkdown(*input));
  }
  absl::Status printed = WritePdf((dir / "dpia.html").string(), (dir / "dpia.pdf").string());
  ASSERT_TRUE(printed.ok()) << printed;
  const std::string pdf = ReadFile(dir / "dpia.pdf");
  EXPECT_EQ(pdf.substr(0, 5), "%PDF-");
  EXPECT_GT(pdf.size(), 20'000u);
  EXPECT_GT(CountPages(pdf), 1) << "size " << pdf.size();
  EXPECT_FALSE(fs::exists(dir / "dpia.pdf.partial"));
  fs::remove_all(dir);
}

TEST(DpiaPdf, ABrowserThatFailsLeavesNoPdf) {
  // /bin/false stands in for a Chromium that exits with an error.
  if (!fs::exists("/bin/false")) GTEST_SKIP() << "no /bin/false";
  const fs::path dir = custos::testing::TempDir("custos-dpia-pdf");
  {
    std::ofstream html(dir / "a.html", std::ios::binary);
    html << RenderDpiaHtml("# A\n");
  }
  PdfOptions options;
  options.chromium = "/bin/false";
  absl::Status printed = WritePdf((dir / "a.html").string(), (dir / "a.pdf").string(), options);
  EXPECT_EQ(printed.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(printed.message(), ::testing::HasSubstr("exited with status 1"));
  EXPECT_FALSE(fs::exists(dir / "a.pdf"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::transparency
