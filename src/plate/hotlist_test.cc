// Hotlist rules: legal basis, four eyes through the policy engine, expiry on the clock,
// withdrawal, confusion-tolerant matching, and an audit record for every step.
#include "plate/hotlist.h"

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
constexpr int64_t kDay = 24 * kHour;

const auth::Principal kAdmin{auth::Principal::Kind::kUser, 1, "root", auth::Role::kAdmin};
const auth::Principal kIvy{auth::Principal::Kind::kUser, 2, "ivy", auth::Role::kInvestigator};
const auth::Principal kSam{auth::Principal::Kind::kUser, 3, "sam", auth::Role::kSupervisor};
const auth::Principal kSue{auth::Principal::Kind::kUser, 4, "sue", auth::Role::kSupervisor};
const auth::Principal kOtto{auth::Principal::Kind::kUser, 5, "otto", auth::Role::kOperator};

PlateRead ReadOf(const std::string& text, std::vector<PlateCandidate> others = {}) {
  PlateRead r;
  r.text = text;
  r.confidence = 0.9f;
  r.candidates = {{text, 0.9f}};
  for (PlateCandidate& c : others) r.candidates.push_back(std::move(c));
  return r;
}

class HotlistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("custos-hotlist");
    policy::PolicyEngineOptions popts;
    popts.path = (dir_ / "policy.db").string();
    popts.cameras = {{"gate", std::nullopt, {}}};
    auto engine = policy::PolicyEngine::Create(popts, {&clock_, &auditor_, nullptr});
    ASSERT_TRUE(engine.ok()) << engine.status();
    policy_ = *std::move(engine);
    AddBasis("HL-1", {policy::Act::kPlateHotlist}, kT0 + 20 * kDay);
    AddBasis("WL-1", {policy::Act::kWatchlistEntry}, kT0 + 20 * kDay);
    auto store = HotlistStore::Create({.path = (dir_ / "hotlist.db").string()},
                                      {&clock_, policy_.get(), &auditor_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override {
    store_.reset();
    policy_.reset();
    fs::remove_all(dir_);
  }

  void AddBasis(const std::string& reference, std::vector<policy::Act> acts, int64_t expires_ms) {
    policy::LegalBasis basis;
    basis.reference = reference;
    basis.type = policy::LegalBasisType::kCourtOrder;
    basis.issuing_authority = "Amtsgericht Musterstadt";
    basis.scope.acts = std::move(acts);
    basis.valid_from_ms = kT0 - kDay;
    basis.expires_ms = expires_ms;
    auto added = policy_->AddLegalBasis(kAdmin, basis);
    ASSERT_TRUE(added.ok()) << added.status();
  }

  HotlistSpec Spec(const std::string& plate = "AB0123") {
    return {.plate = plate,
            .label = "stolen van, case 4711",
            .reason = "reported stolen 2026-11-25",
            .legal_basis_ref = "HL-1"};
  }

  std::vector<std::string> Matches(const PlateRead& read) {
    auto matches = store_->Match(read);
    EXPECT_TRUE(matches.ok()) << matches.status();
    std::vector<std::string> out;
    if (matches.ok()) {
      for (const HotlistMatch& m : *matches) out.push_back(m.entry.spec.plate);
    }
    return out;
  }

  bool Recorded(policy::PolicyAction action, policy::PolicyResult result) {
    for (const policy::PolicyChange& c : auditor_.records()) {
      if (c.action == action && c.result == result) return true;
    }
    return false;
  }

  fs::path dir_;
  FakeClock clock_{kT0};
  policy::InMemoryPolicyAuditor auditor_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::unique_ptr<HotlistStore> store_;
};

TEST_F(HotlistTest, MatchesOnlyAfterASecondPersonApproved) {
  auto entry = store_->Propose(kIvy, Spec("ab-0123"));
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->spec.plate, "AB0123");
  EXPECT_EQ(entry->status, HotlistStatus::kPending);
  EXPECT_EQ(entry->spec.expires_ms, kT0 + 7 * kDay);  // The default expiry.
  EXPECT_TRUE(Recorded(policy::PolicyAction::kHotlistPropose, policy::PolicyResult::kOk));
  EXPECT_TRUE(Matches(ReadOf("AB0123")).empty());  // Pending: no match.

  // The proposer cannot approve (an investigator may not; a supervisor proposing may not
  // approve their own), nor an operator.
  EXPECT_EQ(store_->Approve(kIvy, entry->id).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Approve(kOtto, entry->id).status().code(), absl::StatusCode::kPermissionDenied);
  auto own = store_->Propose(kSam, Spec("XY9999"));
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(store_->Approve(kSam, own->id).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Matches(ReadOf("XY9999")).empty());

  auto approved = store_->Approve(kSam, entry->id);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->status, HotlistStatus::kActive);
  EXPECT_EQ(approved->decided_by, "sam");
  EXPECT_THAT(Matches(ReadOf("AB0123")), ::testing::ElementsAre("AB0123"));
  EXPECT_TRUE(Matches(ReadOf("CD4567")).empty());
}

TEST_F(HotlistTest, ToleratesTheConfiguredNumberOfOcrConfusions) {
  HotlistSpec strict = Spec("AB0123");
  strict.max_confusions = 0;
  auto a = store_->Propose(kIvy, strict);
  HotlistSpec loose = Spec("XY8123");
  loose.max_confusions = 2;
  auto b = store_->Propose(kIvy, loose);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(store_->Approve(kSam, a->id).ok());
  ASSERT_TRUE(store_->Approve(kSue, b->id).ok());

  EXPECT_TRUE(Matches(ReadOf("ABO123")).empty());  // One confusion, none allowed.
  EXPECT_THAT(Matches(ReadOf("XYB1Z3")), ::testing::ElementsAre("XY8123"));  // Two.
  EXPECT_TRUE(Matches(ReadOf("XYB1ZE")).empty());                            // 3 vs E: no.
  // A lower-ranked candidate of the read can match.
  auto matches = store_->Match(ReadOf("ABQ128", {{"AB0123", 0.4f}}));
  ASSERT_TRUE(matches.ok());
  ASSERT_EQ(matches->size(), 1u);
  EXPECT_EQ((*matches)[0].text, "AB0123");
  EXPECT_EQ((*matches)[0].distance, 0);
  EXPECT_EQ((*matches)[0].keep_until_ms, kT0 + 20 * kDay);  // The legal basis's expiry.
}

TEST_F(HotlistTest, StopsAtExpiryAndWhenWithdrawn) {
  HotlistSpec spec = Spec();
  spec.expires_ms = kT0 + 2 * kDay;
  auto entry = store_->Propose(kIvy, spec);
  ASSERT_TRUE(entry.ok());
  ASSERT_TRUE(store_->Approve(kSam, entry->id).ok());
  clock_.AdvanceMs(2 * kDay - 1);
  EXPECT_THAT(Matches(ReadOf("AB0123")), ::testing::ElementsAre("AB0123"));
  clock_.AdvanceMs(1);
  EXPECT_TRUE(Matches(ReadOf("AB0123")).empty());
  auto expired = store_->Get(entry->id);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->status, HotlistStatus::kExpired);
  EXPECT_EQ(store_->Withdraw(kIvy, entry->id, "done").status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto second = store_->Propose(kIvy, Spec("CD4567"));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(store_->Approve(kSam, second->id).ok());
  EXPECT_EQ(store_->Withdraw(kOtto, second->id, "not mine").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Recorded(policy::PolicyAction::kHotlistWithdraw, policy::PolicyResult::kDenied));
  EXPECT_EQ(store_->Withdraw(kIvy, second->id, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto withdrawn = store_->Withdraw(kIvy, second->id, "vehicle recovered");
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status();
  EXPECT_EQ(withdrawn->status, HotlistStatus::kWithdrawn);
  EXPECT_TRUE(Matches(ReadOf("CD4567")).empty());
  EXPECT_TRUE(Recorded(policy::PolicyAction::kHotlistWithdraw, policy::PolicyResult::kOk));
}

TEST_F(HotlistTest, StopsWhenTheLegalBasisIsRevoked) {
  auto entry = store_->Propose(kIvy, Spec());
  ASSERT_TRUE(entry.ok());
  ASSERT_TRUE(store_->Approve(kSam, entry->id).ok());
  EXPECT_FALSE(Matches(ReadOf("AB0123")).empty());
  ASSERT_TRUE(policy_->RevokeLegalBasis(kAdmin, "HL-1", "order lifted").ok());
  EXPECT_TRUE(Matches(ReadOf("AB0123")).empty());
}

TEST_F(HotlistTest, ProposalsNeedALegalBasisForHotlistsAndSaneInput) {
  HotlistSpec spec = Spec();
  spec.legal_basis_ref = "WL-1";  // In force, but for watchlists.
  EXPECT_EQ(store_->Propose(kIvy, spec).status().code(), absl::StatusCode::kPermissionDenied);
  spec.legal_basis_ref = "NOPE";
  EXPECT_EQ(store_->Propose(kIvy, spec).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Propose(kOtto, Spec()).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Recorded(policy::PolicyAction::kHotlistPropose, policy::PolicyResult::kDenied));
  spec = Spec("A");
  EXPECT_EQ(store_->Propose(kIvy, spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec = Spec();
  spec.max_confusions = 3;
  EXPECT_EQ(store_->Propose(kIvy, spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec = Spec();
  spec.expires_ms = kT0 + 31 * kDay;
  auto far = store_->Propose(kIvy, spec);
  EXPECT_EQ(far.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(far.status().message(), HasSubstr("30 days"));
  spec.expires_ms = kT0 + 25 * kDay;  // Within 30 days but after the basis ends.
  EXPECT_THAT(store_->Propose(kIvy, spec).status().message(), HasSubstr("HL-1"));
  spec = Spec();
  spec.label = "";
  EXPECT_EQ(store_->Propose(kIvy, spec).status().code(), absl::StatusCode::kInvalidArgument);
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(HotlistTest, RejectedEntriesNeverMatch) {
  auto entry = store_->Propose(kIvy, Spec());
  ASSERT_TRUE(entry.ok());
  auto rejected = store_->Reject(kSam, entry->id, "no evidence the van is stolen");
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->status, HotlistStatus::kRejected);
  EXPECT_TRUE(Matches(ReadOf("AB0123")).empty());
  EXPECT_EQ(store_->Approve(kSue, entry->id).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace custos::plate
