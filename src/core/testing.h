// Test helpers: locating the shared real-data folder and skipping cleanly without it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace custos::testing {

// Path of `relative` under the shared test-data folder: $CUSTOS_TEST_DATA if set, else
// ../shared/data next to the source tree. nullopt when the file is absent.
std::optional<std::string> SharedData(const std::string& relative);

// Path of `relative` under the project's var/ folder (vtest.avi and provisioned models live
// there after tools/setup.sh); nullopt when absent.
std::optional<std::string> VarData(const std::string& relative);

// A fresh empty temporary directory, removed by the caller (or left for the OS).
std::filesystem::path TempDir(const std::string& prefix);

}  // namespace custos::testing

// Skips the current test with a clear message when a data file is missing.
#define CUSTOS_REQUIRE_DATA(var, expr)                                     \
  auto var##_opt = (expr);                                                 \
  if (!var##_opt)                                                          \
    GTEST_SKIP() << "test data missing: " #expr                            \
                 << " (see ../shared/data/PROVENANCE.md, tools/setup.sh)"; \
  const std::string var = *var##_opt
