#include "retention/receipt_log.h"

#include <filesystem>
#include <fstream>

#include "core/testing.h"
#include "gtest/gtest.h"

namespace custos::retention {
namespace {

namespace fs = std::filesystem;

DeletionReceipt SampleReceipt(const std::string& id) {
  DeletionReceipt r;
  r.id = id;
  r.time_ms = 1'700'000'000'000;
  r.rule = "video-age camera=gate-2 max_age_h=72";
  r.kind = DataKind::kVideo;
  r.camera = "gate-2";
  r.count = 2;
  r.bytes = 300;
  r.oldest_ms = 1000;
  r.newest_ms = 2000;
  r.items = {"recordings/gate-2/a.mp4", "recordings/gate-2/\"b\".mp4"};
  return r;
}

TEST(ReceiptLog, RoundTripsAReceiptThroughJson) {
  const DeletionReceipt r = SampleReceipt("01HZZZZZZZZZZZZZZZZZZZZZZZ");
  const std::string line = ReceiptToJson(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  absl::StatusOr<DeletionReceipt> back = ReceiptFromJson(line);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->rule, r.rule);
  EXPECT_EQ(back->kind, DataKind::kVideo);
  EXPECT_EQ(back->count, 2);
  EXPECT_EQ(back->bytes, 300);
  EXPECT_EQ(back->items, r.items);
  EXPECT_EQ(ReceiptFromJson("{\"id\": 3}").status().code(), absl::StatusCode::kDataLoss);
}

TEST(ReceiptLog, SkipsATornLastLineAndStartsTheNextReceiptOnAFreshLine) {
  const fs::path dir = custos::testing::TempDir("receipt_log");
  ReceiptLog log((dir / "receipts.jsonl").string());
  ASSERT_TRUE(log.Append(SampleReceipt("A")).ok());
  {
    std::ofstream torn(log.path(), std::ios::app);
    torn << "{\"id\": \"torn\", \"time_";  // A crash in the middle of a write.
  }
  ASSERT_TRUE(log.Append(SampleReceipt("B")).ok());
  absl::StatusOr<std::vector<DeletionReceipt>> all = log.ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "A");
  EXPECT_EQ((*all)[1].id, "B");
  EXPECT_TRUE(*log.Contains("B"));
  EXPECT_FALSE(*log.Contains("torn"));
  fs::remove_all(dir);
}

TEST(ReceiptLog, AMissingFileHasNoReceipts) {
  ReceiptLog log("/nonexistent/custos/receipts.jsonl");
  absl::StatusOr<std::vector<DeletionReceipt>> all = log.ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->empty());
}

}  // namespace
}  // namespace custos::retention
