// Policy changes reach the tamper-evident log, and the public statistics count the log.
#include "server/transparency.h"

#include <filesystem>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::server {
namespace {

using nlohmann::json;

const auth::Principal kAdmin{auth::Principal::Kind::kUser, 1, "ada", auth::Role::kAdmin};
const auth::Principal kInvestigator{auth::Principal::Kind::kUser, 2, "ivy",
                                    auth::Role::kInvestigator};

TEST(Transparency, PolicyChangesAndRefusalsAreInTheAuditLogAndCountedPerMonth) {
  const std::filesystem::path dir = testing::TempDir("custos-transparency");
  FakeClock clock(1'790'000'000'000);  // 2026-09-21.
  absl::StatusOr<std::unique_ptr<audit::AuditLog>> log =
      audit::AuditLog::Open({.data_dir = dir.string(), .origin = "", .clock = &clock});
  ASSERT_TRUE(log.ok()) << log.status();
  AuditLogPolicyAuditor auditor(log->get());
  policy::PolicyEngineOptions options;
  options.path = ":memory:";
  absl::StatusOr<std::unique_ptr<policy::PolicyEngine>> engine = policy::PolicyEngine::Create(
      options, {.clock = &clock, .auditor = &auditor, .segments = nullptr});
  ASSERT_TRUE(engine.ok()) << engine.status();

  policy::LegalBasis basis;
  basis.reference = "Case 4";
  basis.type = policy::LegalBasisType::kCase;
  basis.issuing_authority = "Prosecutor";
  basis.valid_from_ms = clock.WallMs() - 1;
  basis.expires_ms = clock.WallMs() + 86'400'000;
  ASSERT_TRUE((*engine)->AddLegalBasis(kAdmin, basis).ok());
  policy::ApprovalRequestSpec spec;
  spec.kind = policy::ApprovalKind::kUnblurredExport;
  spec.object_id = "gate/1-2";
  spec.legal_basis_ref = "Case 4";
  spec.reason = "court request";
  ASSERT_TRUE((*engine)->RequestApproval(kInvestigator, spec).ok());
  spec.legal_basis_ref = "No such case";
  EXPECT_FALSE((*engine)->RequestApproval(kInvestigator, spec).ok());

  // A retention receipt of 3 items, a month later.
  clock.AdvanceMs(31LL * 86'400'000);
  audit::AuditEntry deletion;
  deletion.actor = "retention";
  deletion.role = "system";
  deletion.action = "retention_delete";
  deletion.result = "ok";
  deletion.details = {{"count", 3}};
  ASSERT_TRUE((*log)->Append(deletion).ok());
  // The plate module's records, through the same auditor: a purge of 4 reads and 1 hit, and
  // a hit rejected as a misread.
  policy::PolicyChange purge;
  purge.time_ms = clock.WallMs();
  purge.actor = "retention";
  purge.action = policy::PolicyAction::kPlateReadsPurge;
  purge.object = "plates";
  purge.details = R"({"reads":4,"hits":1,"before_ms":1})";
  ASSERT_TRUE(auditor.Record(purge).ok());
  for (policy::PolicyAction action :
       {policy::PolicyAction::kPlateHitRecord, policy::PolicyAction::kPlateHitReject}) {
    policy::PolicyChange hit;
    hit.time_ms = clock.WallMs();
    hit.actor = "otto";
    hit.action = action;
    hit.object = "01HIT";
    ASSERT_TRUE(auditor.Record(hit).ok());
  }
  ASSERT_TRUE((*log)->Checkpoint().ok());

  PublicStatistics stats({.audit = log->get(),
                          .policy = engine->get(),
                          .clock = &clock,
                          .cameras = 2,
                          .cameras_recording = 1,
                          .watchlist_size = [] { return int64_t{5}; }});
  absl::StatusOr<json> doc = stats.Json();
  ASSERT_TRUE(doc.ok()) << doc.status();
  const json& months = (*doc)["months"];
  ASSERT_EQ(months.size(), 2u) << doc->dump();
  EXPECT_EQ(months[0]["month"], "2026-10");
  EXPECT_EQ(months[0]["deletions"], 3 + 4 + 1);
  EXPECT_EQ(months[0]["plate_hits"], 1);
  EXPECT_EQ(months[0]["false_plate_hits"], 1);
  EXPECT_EQ(months[0]["confirmed_plate_hits"], 0);
  EXPECT_EQ(months[1]["month"], "2026-09");
  EXPECT_EQ(months[1]["approvals_requested"], 1);
  EXPECT_EQ(months[1]["refusals"], 1);
  EXPECT_EQ((*doc)["current"]["cameras"], 2);
  EXPECT_EQ((*doc)["current"]["watchlist_entries"], 5);
  EXPECT_EQ((*doc)["current"]["legal_bases_in_force"], 0);  // Expired after a day.
  EXPECT_EQ((*doc)["checkpoint"]["size"], (*log)->size());

  // The policy records are entries of the log, with their details as stored text.
  absl::StatusOr<std::vector<audit::StoredEntry>> entries = (*log)->ScanForStatistics(0, 10);
  ASSERT_TRUE(entries.ok());
  const json first = json::parse((*entries)[0].json);
  EXPECT_EQ(first["action"], "legal_basis.add");
  EXPECT_EQ(first["actor"], "ada");
  EXPECT_EQ(first["legal_basis"], "Case 4");
  EXPECT_THAT(first["details"]["record"].get<std::string>(), ::testing::HasSubstr("Prosecutor"));

  // Counted once: a second call scans only what is new.
  ASSERT_TRUE((*log)->Append(deletion).ok());
  doc = stats.Json();
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["months"][0]["deletions"], 3 + 4 + 1 + 3);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace custos::server
