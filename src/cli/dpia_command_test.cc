#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/dpia_commands.h"
#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kDemo = std::string(CUSTOS_SOURCE_DIR) + "/examples/demo.yaml";

TEST(DpiaCommand, WritesMarkdownAndHtmlAndPrintsTheirPaths) {
  const fs::path dir = custos::testing::TempDir("custos-dpia-cli");
  {
    std::ofstream stale(dir / "dpia.pdf");  // Of an earlier run: must not survive.
    stale << "%PDF-old";
  }
  DpiaFlags flags;
  flags.config = kDemo;
  flags.out = dir.string();
  flags.no_pdf = true;
  std::ostringstream out, err;
  EXPECT_EQ(RunDpia(flags, out, err), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr((dir / "dpia.md").string()));
  EXPECT_THAT(out.str(), HasSubstr((dir / "dpia.html").string()));
  EXPECT_TRUE(fs::file_size(dir / "dpia.md") > 1000);
  EXPECT_TRUE(fs::file_size(dir / "dpia.html") > 1000);
  EXPECT_FALSE(fs::exists(dir / "dpia.pdf"));
  fs::remove_all(dir);
}

TEST(DpiaCommand, BadConfigExitsWithTwoAndTheLoadersMessage) {
  const fs::path dir = custos::testing::TempDir("custos-dpia-cli");
  {
    std::ofstream bad(dir / "bad.yaml");
    bad << "cameras:\n  - id: Gate!\n    url: x.mp4\n";
  }
  DpiaFlags flags;
  flags.config = (dir / "bad.yaml").string();
  flags.out = (dir / "out").string();
  std::ostringstream out, err;
  EXPECT_EQ(RunDpia(flags, out, err), 2);
  EXPECT_THAT(err.str(), HasSubstr("custos dpia: "));
  EXPECT_THAT(err.str(), HasSubstr("bad.yaml:2:"));
  EXPECT_FALSE(fs::exists(dir / "out"));
  flags.config = (dir / "missing.yaml").string();
  EXPECT_EQ(RunDpia(flags, out, err), 2);
  flags.config = kDemo;
  flags.data_dir = (dir / "no-such-data").string();
  EXPECT_EQ(RunDpia(flags, out, err), 2);
  EXPECT_THAT(err.str(), HasSubstr("does not exist"));
  fs::remove_all(dir);
}

TEST(DpiaCommand, WithoutChromiumKeepsMarkdownAndHtmlAndSaysWhy) {
  const fs::path dir = custos::testing::TempDir("custos-dpia-cli");
  DpiaFlags flags;
  flags.config = kDemo;
  flags.out = dir.string();
  flags.chromium = "/nonexistent/chromium";
  std::ostringstream out, err;
  EXPECT_EQ(RunDpia(flags, out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("the PDF needs Chromium"));
  EXPECT_THAT(err.str(), HasSubstr("were written"));
  EXPECT_TRUE(fs::exists(dir / "dpia.md"));
  EXPECT_TRUE(fs::exists(dir / "dpia.html"));
  EXPECT_FALSE(fs::exists(dir / "dpia.pdf"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::cli
