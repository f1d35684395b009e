// Plate reads at rest: short retention on the clock, queries by pattern and confusion,
// hits kept as their legal basis says, verdicts audited.
#include "plate/plate_store.h"

#include <filesystem>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::plate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'795'651'200'000;  // 2026-11-26 00:00 UTC.
constexpr int64_t kHour = 3'600'000;

const auth::Principal kOtto{auth::Principal::Kind::kUser, 5, "otto", auth::Role::kOperator};
const auth::Principal kVic{auth::Principal::Kind::kUser, 6, "vic", auth::Role::kViewer};

// A minimal JPEG-framed byte string (the store checks the markers, not the picture).
const std::string kJpeg = std::string("\xFF\xD8\xFF\xE0 plate \xFF\xD9", 13);

StoredRead Read(const std::string& plate, int64_t time_ms, const std::string& camera = "gate") {
  StoredRead r;
  r.camera = camera;
  r.time_ms = time_ms;
  r.plate = plate;
  r.confidence = 0.9f;
  r.candidates = {{plate, 0.9f}};
  r.label = "car";
  r.track_id = 7;
  r.frames = 4;
  r.box = BoxF{10, 20, 120, 30};
  r.crop_jpeg = kJpeg;
  return r;
}

class PlateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("custos-plates");
    options_.path = (dir_ / "plates.db").string();
    auto store = PlateStore::Create(options_, {&clock_, &auditor_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::vector<std::string> Plates(const ReadQuery& q) {
    auto reads = store_->Query(q);
    EXPECT_TRUE(reads.ok()) << reads.status();
    std::vector<std::string> out;
    if (reads.ok()) {
      for (const StoredRead& r : *reads) out.push_back(r.plate);
    }
    return out;
  }

  fs::path dir_;
  FakeClock clock_{kT0};
  policy::InMemoryPolicyAuditor auditor_;
  PlateStoreOptions options_;
  std::unique_ptr<PlateStore> store_;
};

TEST_F(PlateStoreTest, ReadsExpireOnSchedule) {
  auto stored = store_->AddRead(Read("ABC1234", kT0));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->expires_ms, kT0 + 72 * kHour);
  ASSERT_TRUE(store_->AddRead(Read("XYZ9876", kT0 + 10 * kHour)).ok());

  clock_.AdvanceMs(72 * kHour - 1);
  auto purged = store_->Purge();
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(purged->reads, 0);
  EXPECT_TRUE(store_->GetRead(stored->id).ok());
  EXPECT_TRUE(auditor_.records().empty());  // Nothing erased, nothing recorded.

  clock_.AdvanceMs(1);  // 72 h after the first read.
  purged = store_->Purge();
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(purged->reads, 1);
  EXPECT_EQ(store_->GetRead(stored->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Plates({.to_ms = clock_.WallMs()}), ::testing::ElementsAre("XYZ9876"));
  ASSERT_EQ(auditor_.records().size(), 1u);
  EXPECT_EQ(auditor_.records()[0].action, policy::PolicyAction::kPlateReadsPurge);
  EXPECT_THAT(auditor_.records()[0].details, HasSubstr("\"reads\":1"));

  clock_.AdvanceMs(10 * kHour);
  ASSERT_TRUE(store_->Purge().ok());
  EXPECT_TRUE(Plates({}).empty());
}

TEST_F(PlateStoreTest, RetentionComesFromTheOptions) {
  store_.reset();
  options_.read_retention_ms = 24 * kHour;
  auto store = PlateStore::Create(options_, {&clock_, &auditor_});
  ASSERT_TRUE(store.ok()) << store.status();
  auto read = (*store)->AddRead(Read("ABC1234", kT0));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->expires_ms, kT0 + 24 * kHour);
  options_.read_retention_ms = 0;
  EXPECT_EQ(PlateStore::Create(options_, {&clock_, &auditor_}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PlateStoreTest, QueriesByPatternConfusionsCameraAndTime) {
  ASSERT_TRUE(store_->AddRead(Read("ABC1234", kT0 - 3 * kHour)).ok());
  ASSERT_TRUE(store_->AddRead(Read("ABC1Z34", kT0 - 2 * kHour, "yard")).ok());
  StoredRead other = Read("XYZ7777", kT0 - kHour);
  other.candidates.push_back({"XYZ7771", 0.3f});
  ASSERT_TRUE(store_->AddRead(other).ok());

  EXPECT_THAT(Plates({.pattern = "ABC1234"}), ::testing::ElementsAre("ABC1234"));
  EXPECT_THAT(Plates({.pattern = "ABC1234", .max_confusions = 1}),
              ::testing::ElementsAre("ABC1Z34", "ABC1234"));  // Newest first.
  EXPECT_THAT(Plates({.pattern = "AB?1234"}), ::testing::ElementsAre("ABC1234"));
  EXPECT_THAT(Plates({.pattern = "AB?1?34"}), ::testing::ElementsAre("ABC1Z34", "ABC1234"));
  EXPECT_THAT(Plates({.pattern = "*1234", .camera = "gate"}), ::testing::ElementsAre("ABC1234"));
  EXPECT_THAT(Plates({.pattern = "XYZ7771"}), ::testing::ElementsAre("XYZ7777"));  // Candidate.
  EXPECT_THAT(Plates({.from_ms = kT0 - 2 * kHour - 1, .to_ms = kT0 - kHour - 1}),
              ::testing::ElementsAre("ABC1Z34"));
  EXPECT_THAT(Plates({.limit = 1}), ::testing::ElementsAre("XYZ7777"));

  EXPECT_EQ(store_->Query({.pattern = "*"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Query({.pattern = "AB", .max_confusions = 3}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Query({.from_ms = kT0, .to_ms = kT0 - 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PlateStoreTest, RefusesReadsWithoutPlateOrWithABadCrop) {
  StoredRead r = Read("--", kT0);
  EXPECT_EQ(store_->AddRead(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Read("ABC123", kT0);
  r.crop_jpeg = "not a jpeg";
  EXPECT_EQ(store_->AddRead(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PlateStoreTest, HitsOutliveTheirReadUntilTheLegalBasisEnds) {
  auto read = store_->AddRead(Read("ABC1234", kT0));
  ASSERT_TRUE(read.ok());
  StoredHit hit;
  hit.read = *read;
  hit.entry_id = "01HOTLIST";
  hit.entry_plate = "ABC1234";
  hit.entry_label = "stolen car";
  hit.legal_basis_ref = "HL-1";
  hit.keep_until_ms = kT0 + 10 * 24 * kHour;
  auto stored = store_->AddHit(hit);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(auditor_.records().size(), 1u);
  EXPECT_EQ(auditor_.records()[0].action, policy::PolicyAction::kPlateHitRecord);
  auto listed = store_->ListHits({});  // No filter: every hit.
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].status, HitStatus::kLead);

  clock_.AdvanceMs(73 * kHour);
  ASSERT_TRUE(store_->Purge().ok());
  EXPECT_FALSE(store_->GetRead(read->id).ok());
  auto kept = store_->GetHit(stored->id);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->read.plate, "ABC1234");
  EXPECT_EQ(kept->read.crop_jpeg, kJpeg);

  clock_.AdvanceMs(8 * 24 * kHour);
  auto purged = store_->Purge();
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(purged->hits, 1);
  EXPECT_EQ(store_->GetHit(stored->id).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PlateStoreTest, VerdictsAreAuditedAndFinal) {
  auto read = store_->AddRead(Read("ABC1234", kT0));
  ASSERT_TRUE(read.ok());
  StoredHit hit;
  hit.read = *read;
  hit.entry_id = "01HOTLIST";
  hit.keep_until_ms = kT0 + 24 * kHour;
  auto stored = store_->AddHit(hit);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(store_->RejectHit(kVic, stored->id, "wrong car").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->RejectHit(kOtto, stored->id, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto rejected = store_->RejectHit(kOtto, stored->id, "a taxi, not the stolen van");
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->status, HitStatus::kRejected);
  EXPECT_EQ(store_->ConfirmHit(kOtto, stored->id, "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto hits = store_->ListHits({.status = HitStatus::kRejected});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].decided_by, "otto");
  EXPECT_EQ(auditor_.records().back().action, policy::PolicyAction::kPlateHitReject);
}

TEST_F(PlateStoreTest, NothingChangesWhenTheAuditLogRefuses) {
  auto read = store_->AddRead(Read("ABC1234", kT0));
  ASSERT_TRUE(read.ok());
  auditor_.FailWith(absl::UnavailableError("audit log down"));
  StoredHit hit;
  hit.read = *read;
  hit.entry_id = "01HOTLIST";
  hit.keep_until_ms = kT0 + 24 * kHour;
  EXPECT_FALSE(store_->AddHit(hit).ok());
  auditor_.FailWith(absl::OkStatus());
  auto hits = store_->ListHits({});
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE(hits->empty());
}

}  // namespace
}  // namespace custos::plate
