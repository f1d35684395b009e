#include "policy/policy_engine.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::policy {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr int64_t kT0 = 1'795'651'200'000;  // 2026-11-26 00:00 UTC.
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

const auth::Principal kAdmin{auth::Principal::Kind::kUser, 1, "root", auth::Role::kAdmin};
const auth::Principal kIvy{auth::Principal::Kind::kUser, 2, "ivy", auth::Role::kInvestigator};
const auth::Principal kSam{auth::Principal::Kind::kUser, 3, "sam", auth::Role::kSupervisor};
const auth::Principal kSue{auth::Principal::Kind::kUser, 4, "sue", auth::Role::kSupervisor};
const auth::Principal kOtto{auth::Principal::Kind::kUser, 5, "otto", auth::Role::kOperator};
const auth::Principal kBot{auth::Principal::Kind::kApiToken, 0, "token:bot",
                           auth::Role::kSupervisor};
const auth::Principal kNobody{};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every row of every table of the policy database, as text, read with a separate connection.
std::string DumpTables(const fs::path& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::string out;
  for (const char* table :
       {"legal_bases", "face_authorisations", "protected_assemblies", "approvals", "evidence_holds",
        "hold_segments", "retention_overrides"}) {
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = std::string("SELECT * FROM ") + table;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << table;
    out += std::string(table) + ":\n";
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        out += text ? reinterpret_cast<const char*>(text) : "NULL";
        out += "|";
      }
      out += "\n";
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

void RawExec(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

class PolicyEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("custos-policy");
    options_.path = (dir_ / "policy.db").string();
    CameraInfo gate{"gate", config::Location{52.5200, 13.4050}, {"square", "road"}};
    CameraInfo yard{"yard", config::Location{52.6000, 13.5000}, {}};
    CameraInfo mobile{"mobile", std::nullopt, {}};
    options_.cameras = {gate, yard, mobile};
    absl::StatusOr<std::unique_ptr<record::SegmentIndex>> index =
        record::SegmentIndex::Open(dir_.string());
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    Open();
  }
  void TearDown() override {
    engine_.reset();
    index_.reset();
    fs::remove_all(dir_);
  }

  void Open() {
    engine_.reset();
    absl::StatusOr<std::unique_ptr<PolicyEngine>> engine =
        PolicyEngine::Create(options_, {&clock_, &auditor_, index_.get()});
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  LegalBasis Basis(const std::string& reference, std::vector<Act> acts = {},
                   std::vector<std::string> cameras = {}, int64_t expires_ms = kT0 + 30 * kDay) {
    LegalBasis basis;
    basis.reference = reference;
    basis.type = LegalBasisType::kCourtOrder;
    basis.issuing_authority = "Amtsgericht Musterstadt";
    basis.scope.description = "Search for a missing child";
    basis.scope.cameras = std::move(cameras);
    basis.scope.acts = std::move(acts);
    basis.valid_from_ms = kT0 - kDay;
    basis.expires_ms = expires_ms;
    return basis;
  }

  void AddBasis(const LegalBasis& basis) {
    absl::StatusOr<LegalBasis> added = engine_->AddLegalBasis(kAdmin, basis);
    ASSERT_TRUE(added.ok()) << added.status();
  }

  // A request by `requester`, approved by sam.
  std::string Approved(ApprovalKind kind, const std::string& object, const std::string& basis,
                       const auth::Principal& requester = kIvy) {
    absl::StatusOr<ApprovalRequest> request =
        engine_->RequestApproval(requester, {kind, object, basis, "", "needed for the case"});
    EXPECT_TRUE(request.ok()) << request.status();
    if (!request.ok()) return "";
    absl::StatusOr<ApprovalRequest> approved = engine_->Approve(kSam, request->id);
    EXPECT_TRUE(approved.ok()) << approved.status();
    return request->id;
  }

  FaceAuthorisation Face(const std::string& name, const std::string& basis,
                         std::vector<std::string> cameras, int64_t start_ms, int64_t end_ms) {
    FaceAuthorisation a;
    a.name = name;
    a.legal_basis_ref = basis;
    a.cameras = std::move(cameras);
    a.start_ms = start_ms;
    a.end_ms = end_ms;
    a.purpose = FacePurpose::kMissingPerson;
    a.issuing_authority = "Amtsgericht Musterstadt";
    a.expires_ms = end_ms + kDay;
    return a;
  }

  // Adds basis "FR-1" (face recognition) and an approved authorisation "search" for
  // `cameras` over [start_ms, end_ms).
  FaceAuthorisation AddFace(std::vector<std::string> cameras, int64_t start_ms, int64_t end_ms,
                            std::optional<int64_t> expires_ms = std::nullopt) {
    if (!engine_->FindLegalBasis("FR-1")) AddBasis(Basis("FR-1", {Act::kFaceRecognition}));
    FaceAuthorisation a = Face("search", "FR-1", std::move(cameras), start_ms, end_ms);
    if (expires_ms) a.expires_ms = *expires_ms;
    a.approval_id = Approved(ApprovalKind::kFaceAuthorisation, "search", "FR-1", kAdmin);
    absl::StatusOr<FaceAuthorisation> added = engine_->AddFaceAuthorisation(kAdmin, a);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : a;
  }

  Decision FaceAt(const std::string& camera, int64_t time_ms,
                  std::optional<std::vector<std::string>> zones = std::nullopt) {
    return engine_->FaceRecognitionAllowed({camera, time_ms, std::move(zones)});
  }

  int64_t AddSegment(const std::string& camera, int64_t start_ms, int64_t end_ms) {
    record::Segment s;
    s.camera = camera;
    s.path = "recordings/" + camera + "/" + std::to_string(start_ms) + ".mp4";
    s.start_ms = start_ms;
    s.end_ms = end_ms;
    s.bytes = 1000;
    s.state = record::SegmentState::kClosed;
    absl::StatusOr<int64_t> id = index_->Add(s);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : 0;
  }

  record::Segment SegmentById(int64_t id) {
    absl::StatusOr<std::vector<record::Segment>> all = index_->All();
    EXPECT_TRUE(all.ok());
    for (const record::Segment& s : *all) {
      if (s.id == id) return s;
    }
    ADD_FAILURE() << "no segment " << id;
    return {};
  }

  fs::path dir_;
  FakeClock clock_{kT0};
  InMemoryPolicyAuditor auditor_;
  PolicyEngineOptions options_;
  std::unique_ptr<record::SegmentIndex> index_;
  std::unique_ptr<PolicyEngine> engine_;
};

// ---- Legal bases ----

TEST_F(PolicyEngineTest, RequestWithoutLegalBasisIsRefusedWithItsReason) {
  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "", "", "suspect seen at the gate"});
  ASSERT_EQ(request.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(request.status().message(),
              HasSubstr("enrolling a person on a watchlist needs a legal basis"));
  ASSERT_THAT(auditor_.records(), SizeIs(1));
  const PolicyChange record = auditor_.records()[0];
  EXPECT_EQ(record.action, PolicyAction::kApprovalRequest);
  EXPECT_EQ(record.result, PolicyResult::kDenied);
  EXPECT_EQ(record.actor, "ivy");
  EXPECT_EQ(record.role, auth::Role::kInvestigator);
  EXPECT_EQ(record.reason, request.status().message());
  EXPECT_TRUE(engine_->ListApprovals().empty());

  request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26", "", "suspect seen"});
  ASSERT_EQ(request.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(request.status().message(),
              HasSubstr("no legal basis with reference 'AZ 1/26' is registered"));
}

TEST_F(PolicyEngineTest, ExpiredLegalBasisIsRefusedWithItsOwnReason) {
  AddBasis(Basis("AZ 1/26", {}, {}, kT0 + kHour));
  clock_.AdvanceMs(kHour - 1);
  EXPECT_TRUE(engine_->CheckLegalBasis(kIvy, "AZ 1/26", Act::kPlateQuery, "gate").allowed);
  clock_.AdvanceMs(1);
  Decision d = engine_->CheckLegalBasis(kIvy, "AZ 1/26", Act::kPlateQuery, "gate");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule_id, "legal_basis.expired");
  EXPECT_THAT(d.reason, HasSubstr("legal basis 'AZ 1/26' expired on 2026-11-26 01:00 UTC"));
  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26", "", "suspect"});
  EXPECT_EQ(request.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(request.status().message(), HasSubstr("expired"));
}

TEST_F(PolicyEngineTest, NotYetValidLegalBasisIsRefused) {
  LegalBasis basis = Basis("AZ 1/26");
  basis.valid_from_ms = kT0 + kHour;
  AddBasis(basis);
  Decision d = engine_->CheckLegalBasis(kIvy, "AZ 1/26", Act::kPlateQuery);
  EXPECT_EQ(d.rule_id, "legal_basis.not_yet_valid");
  clock_.AdvanceMs(kHour);
  EXPECT_TRUE(engine_->CheckLegalBasis(kIvy, "AZ 1/26", Act::kPlateQuery).allowed);
}

TEST_F(PolicyEngineTest, RevokedLegalBasisIsRefusedWithItsOwnReason) {
  AddBasis(Basis("AZ 1/26"));
  ASSERT_TRUE(engine_->RevokeLegalBasis(kAdmin, "AZ 1/26", "order lifted on appeal").ok());
  Decision d = engine_->CheckLegalBasis(kIvy, "AZ 1/26", Act::kPlateQuery);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule_id, "legal_basis.revoked");
  EXPECT_THAT(d.reason, HasSubstr("was revoked on 2026-11-26 00:00 UTC by root (order lifted"));
  EXPECT_EQ(engine_->RevokeLegalBasis(kAdmin, "AZ 1/26", "again").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->RevokeLegalBasis(kAdmin, "AZ 9/26", "x").code(), absl::StatusCode::kNotFound);
  // A revoked reference stays taken.
  EXPECT_EQ(engine_->AddLegalBasis(kAdmin, Basis("AZ 1/26")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(PolicyEngineTest, OutOfScopeLegalBasisIsRefusedWithItsOwnReason) {
  AddBasis(Basis("PLATES", {Act::kPlateQuery}));
  AddBasis(Basis("GATE", {}, {"gate"}));
  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "PLATES", "", "suspect"});
  ASSERT_EQ(request.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(request.status().message(),
              HasSubstr("legal basis 'PLATES' covers only querying plate reads, not enrolling a "
                        "person on a watchlist"));

  Decision d = engine_->CheckLegalBasis(kIvy, "GATE", Act::kPlateQuery, "yard");
  EXPECT_EQ(d.rule_id, "legal_basis.out_of_scope");
  EXPECT_THAT(d.reason, HasSubstr("does not cover camera 'yard' (it covers only 'gate')"));
  d = engine_->CheckLegalBasis(kIvy, "GATE", Act::kPlateQuery);
  EXPECT_THAT(d.reason, HasSubstr("covers only cameras 'gate'; limit the request"));
  d = engine_->CheckLegalBasis(kIvy, "GATE", Act::kPlateQuery, "gate");
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ(d.rule_id, "legal_basis.in_force");
}

TEST_F(PolicyEngineTest, CheckLegalBasisAuditsRefusalsOnly) {
  AddBasis(Basis("AZ 1/26"));
  auditor_.Clear();
  EXPECT_TRUE(engine_->CheckLegalBasis(kIvy, "AZ 1/26", Act::kPlateQuery, "gate").allowed);
  EXPECT_TRUE(auditor_.records().empty());
  EXPECT_FALSE(engine_->CheckLegalBasis(kIvy, "nope", Act::kPlateQuery, "gate").allowed);
  ASSERT_THAT(auditor_.records(), SizeIs(1));
  const PolicyChange r = auditor_.records()[0];
  EXPECT_EQ(r.action, PolicyAction::kLegalBasisCheck);
  EXPECT_EQ(r.result, PolicyResult::kDenied);
  EXPECT_EQ(r.object, "plate_query camera=gate");
  EXPECT_EQ(r.legal_basis_ref, "nope");
  EXPECT_EQ(r.purpose, "plate_query");
}

TEST_F(PolicyEngineTest, OnlyAdministratorsManagePolicies) {
  absl::StatusOr<LegalBasis> added = engine_->AddLegalBasis(kSam, Basis("AZ 1/26"));
  EXPECT_EQ(added.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(added.status().message(), HasSubstr("the supervisor role may not"));
  EXPECT_EQ(engine_->AddLegalBasis(kNobody, Basis("AZ 1/26")).status().code(),
            absl::StatusCode::kUnauthenticated);
  ASSERT_THAT(auditor_.records(), SizeIs(2));
  EXPECT_EQ(auditor_.records()[0].result, PolicyResult::kDenied);
  EXPECT_EQ(auditor_.records()[0].action, PolicyAction::kLegalBasisAdd);
  EXPECT_TRUE(engine_->ListLegalBases().empty());
  EXPECT_EQ(engine_->SetRetention(kSam, "gate", retention::DataKind::kVideo, kDay).code(),
            absl::StatusCode::kPermissionDenied);
}

// ---- Four eyes ----

TEST_F(PolicyEngineTest, ApprovalByTheRequesterIsRefused) {
  AddBasis(Basis("AZ 1/26"));
  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kSam, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26", "", "suspect"});
  ASSERT_TRUE(request.ok()) << request.status();
  absl::StatusOr<ApprovalRequest> approved = engine_->Approve(kSam, request->id);
  ASSERT_EQ(approved.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(approved.status().message(),
              HasSubstr("you made this request yourself; four eyes: a different supervisor"));
  // The same person under another spelling of the name.
  auth::Principal sam_upper = kSam;
  sam_upper.name = "SAM";
  EXPECT_EQ(engine_->Approve(sam_upper, request->id).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(engine_->Reject(kSam, request->id, "changed my mind").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(engine_->Status(request->id)->status, ApprovalStatus::kPending);
  EXPECT_EQ(auditor_.records().back().action, PolicyAction::kApprovalReject);
  EXPECT_EQ(auditor_.records().back().result, PolicyResult::kDenied);
}

TEST_F(PolicyEngineTest, ApprovalByANonSupervisorIsRefused) {
  AddBasis(Basis("AZ 1/26"));
  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kUnblurredExport, "export-7", "AZ 1/26", "gate", "for court"});
  ASSERT_TRUE(request.ok()) << request.status();
  for (const auth::Principal& who : {kOtto, kAdmin, kIvy}) {
    absl::StatusOr<ApprovalRequest> approved = engine_->Approve(who, request->id);
    EXPECT_EQ(approved.status().code(), absl::StatusCode::kPermissionDenied) << who.name;
  }
  absl::StatusOr<ApprovalRequest> by_otto = engine_->Approve(kOtto, request->id);
  EXPECT_THAT(
      by_otto.status().message(),
      HasSubstr("the operator role may not approve unblurred exports; a supervisor must decide"));
  absl::StatusOr<ApprovalRequest> by_token = engine_->Approve(kBot, request->id);
  EXPECT_EQ(by_token.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(by_token.status().message(), HasSubstr("API token"));
  EXPECT_EQ(engine_->Approve(kNobody, request->id).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(engine_->Status(request->id)->status, ApprovalStatus::kPending);
}

TEST_F(PolicyEngineTest, ApprovalByADifferentSupervisorIsAccepted) {
  AddBasis(Basis("AZ 1/26"));
  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26", "", "suspect"});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->expires_ms, kT0 + 7 * kDay);
  EXPECT_EQ(engine_->CheckApproval(request->id, ApprovalKind::kWatchlistEntry, "entry-1").rule_id,
            "approval.pending");
  clock_.AdvanceMs(kMinute);
  absl::StatusOr<ApprovalRequest> approved = engine_->Approve(kSam, request->id);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->status, ApprovalStatus::kApproved);
  EXPECT_EQ(approved->decided_by, "sam");
  EXPECT_EQ(approved->decided_ms, kT0 + kMinute);
  EXPECT_EQ(engine_->Status(request->id)->status, ApprovalStatus::kApproved);
  Decision d = engine_->CheckApproval(request->id, ApprovalKind::kWatchlistEntry, "entry-1");
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_THAT(d.reason, HasSubstr("approved by sam on 2026-11-26 00:01 UTC"));
  EXPECT_EQ(engine_->CheckApproval(request->id, ApprovalKind::kWatchlistEntry, "entry-2").rule_id,
            "approval.mismatch");
  EXPECT_EQ(engine_->CheckApproval(request->id, ApprovalKind::kUnblurredExport, "entry-1").rule_id,
            "approval.mismatch");
}

TEST_F(PolicyEngineTest, DoubleDecisionIsRefused) {
  AddBasis(Basis("AZ 1/26"));
  const std::string id = Approved(ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26");
  absl::StatusOr<ApprovalRequest> again = engine_->Approve(kSue, id);
  ASSERT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("was already approved by sam"));
  EXPECT_EQ(engine_->Reject(kSue, id, "no").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->Status(id)->status, ApprovalStatus::kApproved);

  absl::StatusOr<ApprovalRequest> second = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-2", "AZ 1/26", "", "suspect"});
  ASSERT_TRUE(second.ok());
  absl::StatusOr<ApprovalRequest> rejected = engine_->Reject(kSue, second->id, "not enough");
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->decision_reason, "not enough");
  EXPECT_EQ(engine_->Approve(kSam, second->id).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(engine_->CheckApproval(second->id, ApprovalKind::kWatchlistEntry, "entry-2").reason,
              HasSubstr("was rejected by sue"));
  EXPECT_EQ(engine_->Reject(kSue, "01XYZ", "no").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PolicyEngineTest, ExpiredRequestCannotBeDecided) {
  AddBasis(Basis("AZ 1/26"));
  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26", "", "suspect"});
  ASSERT_TRUE(request.ok());
  clock_.AdvanceMs(7 * kDay);
  absl::StatusOr<ApprovalRequest> approved = engine_->Approve(kSam, request->id);
  ASSERT_EQ(approved.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(approved.status().message(), HasSubstr("expired on 2026-12-03 00:00 UTC"));
  EXPECT_EQ(engine_->Status(request->id)->status, ApprovalStatus::kExpired);
  EXPECT_THAT(engine_->ListApprovals(ApprovalStatus::kExpired), SizeIs(1));
  EXPECT_THAT(engine_->ListApprovals(ApprovalStatus::kPending), SizeIs(0));
}

TEST_F(PolicyEngineTest, ApprovalIsRefusedWhenTheLegalBasisWasRevokedMeanwhile) {
  AddBasis(Basis("AZ 1/26"));
  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26", "", "suspect"});
  ASSERT_TRUE(request.ok());
  ASSERT_TRUE(engine_->RevokeLegalBasis(kAdmin, "AZ 1/26", "lifted").ok());
  absl::StatusOr<ApprovalRequest> approved = engine_->Approve(kSam, request->id);
  ASSERT_EQ(approved.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(approved.status().message(),
              HasSubstr("the request cannot be approved: legal basis 'AZ 1/26' was revoked"));
}

// ---- Face recognition ----

TEST_F(PolicyEngineTest, FaceRecognitionIsOffWithoutAuthorisation) {
  Decision d = FaceAt("gate", kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule_id, "face.no_authorisation");
  EXPECT_EQ(d.reason,
            "face recognition is off at camera 'gate' on 2026-11-26 00:00 UTC: no "
            "face-recognition authorisation covers this camera; face recognition is off by "
            "default");
  EXPECT_EQ(FaceAt("nowhere", kT0).rule_id, "face.unknown_camera");
  EXPECT_EQ(FaceAt("Not An Id", kT0).rule_id, "face.unknown_camera");
}

TEST_F(PolicyEngineTest, FaceRecognitionIsOnExactlyFromWindowStartAndOffAtWindowEnd) {
  const int64_t start = kT0 + kHour;
  const int64_t end = kT0 + 2 * kHour;
  AddFace({"gate"}, start, end);
  clock_.AdvanceMs(kHour - 1);
  Decision d = FaceAt("gate", clock_.WallMs());
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("authorisation 'search' starts on 2026-11-26 01:00 UTC"));
  clock_.AdvanceMs(1);
  d = FaceAt("gate", clock_.WallMs());
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ(d.rule_id, "face.authorised");
  EXPECT_THAT(d.reason, HasSubstr("purpose missing_person, legal basis 'FR-1'"));
  clock_.AdvanceMs(kHour - 1);
  EXPECT_TRUE(FaceAt("gate", clock_.WallMs()).allowed);
  clock_.AdvanceMs(1);
  d = FaceAt("gate", clock_.WallMs());
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("authorisation 'search' ended on 2026-11-26 02:00 UTC"));
}

TEST_F(PolicyEngineTest, FaceRecognitionIsOffAtCamerasOutsideTheAuthorisation) {
  AddFace({"gate"}, kT0, kT0 + kHour);
  EXPECT_TRUE(FaceAt("gate", kT0).allowed);
  Decision d = FaceAt("yard", kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("no face-recognition authorisation covers this camera"));
}

TEST_F(PolicyEngineTest, FaceRecognitionIsOffAfterTheAuthorisationExpires) {
  AddFace({"gate"}, kT0, kT0 + 2 * kHour, kT0 + kHour);
  EXPECT_TRUE(FaceAt("gate", kT0 + kHour - 1).allowed);
  Decision d = FaceAt("gate", kT0 + kHour);
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("authorisation 'search' expired on 2026-11-26 01:00 UTC"));
}

TEST_F(PolicyEngineTest, FaceRecognitionIsOffAfterItsLegalBasisExpiresOrIsRevoked) {
  AddBasis(Basis("FR-1", {Act::kFaceRecognition}, {}, kT0 + kHour));
  AddFace({"gate"}, kT0, kT0 + kDay);
  EXPECT_TRUE(FaceAt("gate", kT0 + kHour - 1).allowed);
  Decision d = FaceAt("gate", kT0 + kHour);
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("authorisation 'search': legal basis 'FR-1' expired on"));

  ASSERT_TRUE(engine_->RevokeLegalBasis(kAdmin, "FR-1", "quashed").ok());
  d = FaceAt("gate", kT0 + kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("legal basis 'FR-1' was revoked"));
}

TEST_F(PolicyEngineTest, RevokedAuthorisationTurnsFaceRecognitionOff) {
  FaceAuthorisation a = AddFace({"gate"}, kT0, kT0 + kDay);
  ASSERT_TRUE(engine_->RevokeFaceAuthorisation(kAdmin, a.id, "person found").ok());
  Decision d = FaceAt("gate", kT0 + kMinute);
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("authorisation 'search' was revoked"));
}

TEST_F(PolicyEngineTest, ProtectedAssemblyOverridesAuthorisationInItsZoneAndWindow) {
  AddFace({"gate", "yard"}, kT0, kT0 + kDay);
  ProtectedAssembly march;
  march.name = "May Day march";
  march.kind = AssemblyKind::kDemonstration;
  march.targets = {{"gate", "square"}};
  march.start_ms = kT0 + 12 * kHour;
  march.end_ms = kT0 + 18 * kHour;
  absl::StatusOr<ProtectedAssembly> added = engine_->AddProtectedAssembly(kAdmin, march);
  ASSERT_TRUE(added.ok()) << added.status();

  const std::vector<std::string> square = {"square"};
  EXPECT_TRUE(FaceAt("gate", march.start_ms - 1, square).allowed);
  Decision d = FaceAt("gate", march.start_ms + 3 * kMinute, square);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule_id, "face.protected_assembly");
  EXPECT_EQ(d.reason,
            "face recognition is off at camera 'gate' on 2026-11-26 12:03 UTC: protected "
            "assembly 'May Day march' (zone 'square', 12:00-18:00)");
  EXPECT_FALSE(FaceAt("gate", march.start_ms, square).allowed);
  // Outside the zone, or asked per zone in none, the authorisation applies.
  EXPECT_TRUE(FaceAt("gate", march.start_ms, std::vector<std::string>{"road"}).allowed);
  EXPECT_TRUE(FaceAt("gate", march.start_ms, std::vector<std::string>{}).allowed);
  // Asked for the whole view, a protected zone turns it off.
  EXPECT_FALSE(FaceAt("gate", march.start_ms).allowed);
  EXPECT_TRUE(FaceAt("yard", march.start_ms).allowed);
  EXPECT_FALSE(FaceAt("gate", march.end_ms - 1, square).allowed);
  EXPECT_TRUE(FaceAt("gate", march.end_ms, square).allowed);

  ASSERT_TRUE(engine_->RevokeProtectedAssembly(kAdmin, added->id, "march cancelled").ok());
  EXPECT_TRUE(FaceAt("gate", march.start_ms, square).allowed);
}

TEST_F(PolicyEngineTest, ProtectedAssemblyByAreaCoversCamerasInsideAndThoseWithoutLocation) {
  AddFace({"gate", "yard", "mobile"}, kT0, kT0 + kDay);
  ProtectedAssembly worship;
  worship.name = "Friday prayers";
  worship.kind = AssemblyKind::kWorship;
  worship.area = GeoArea{{}, config::Location{52.5205, 13.4055}, 500};
  worship.start_ms = kT0;
  worship.end_ms = kT0 + kHour;
  ASSERT_TRUE(engine_->AddProtectedAssembly(kAdmin, worship).ok());
  Decision d = FaceAt("gate", kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("protected assembly 'Friday prayers' (area, 00:00-01:00)"));
  EXPECT_TRUE(FaceAt("yard", kT0).allowed);
  d = FaceAt("mobile", kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("has no configured location"));

  ProtectedAssembly polling;
  polling.name = "Polling station";
  polling.kind = AssemblyKind::kPolling;
  polling.area =
      GeoArea{{{52.59, 13.49}, {52.59, 13.51}, {52.61, 13.51}, {52.61, 13.49}}, std::nullopt, 0};
  polling.start_ms = kT0;
  polling.end_ms = kT0 + kHour;
  ASSERT_TRUE(engine_->AddProtectedAssembly(kAdmin, polling).ok());
  EXPECT_FALSE(FaceAt("yard", kT0).allowed);
}

TEST_F(PolicyEngineTest, FaceAuthorisationNeedsAnApprovedRequestAndALegalBasis) {
  AddBasis(Basis("FR-1", {Act::kFaceRecognition}));
  AddBasis(Basis("PLATES", {Act::kPlateQuery}));
  AddBasis(Basis("FR-GATE", {Act::kFaceRecognition}, {"gate"}));
  FaceAuthorisation a = Face("search", "FR-1", {"gate"}, kT0, kT0 + kHour);

  absl::StatusOr<FaceAuthorisation> added = engine_->AddFaceAuthorisation(kAdmin, a);
  ASSERT_EQ(added.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(added.status().message(), HasSubstr("needs a four-eyes approval"));

  absl::StatusOr<ApprovalRequest> pending = engine_->RequestApproval(
      kAdmin, {ApprovalKind::kFaceAuthorisation, "search", "FR-1", "", "missing child"});
  ASSERT_TRUE(pending.ok()) << pending.status();
  a.approval_id = pending->id;
  added = engine_->AddFaceAuthorisation(kAdmin, a);
  EXPECT_THAT(added.status().message(), HasSubstr("still waiting for a supervisor's decision"));

  ASSERT_TRUE(engine_->Approve(kSam, pending->id).ok());
  FaceAuthorisation other = a;
  other.name = "other";
  added = engine_->AddFaceAuthorisation(kAdmin, other);
  EXPECT_THAT(added.status().message(), HasSubstr("approves 'search', not 'other'"));

  FaceAuthorisation wrong_basis = a;
  wrong_basis.legal_basis_ref = "PLATES";
  added = engine_->AddFaceAuthorisation(kAdmin, wrong_basis);
  EXPECT_THAT(added.status().message(), HasSubstr("covers only querying plate reads"));

  FaceAuthorisation everywhere = Face("everywhere", "FR-GATE", {}, kT0, kT0 + kHour);
  everywhere.all_cameras = true;
  everywhere.approval_id =
      Approved(ApprovalKind::kFaceAuthorisation, "everywhere", "FR-GATE", kAdmin);
  added = engine_->AddFaceAuthorisation(kAdmin, everywhere);
  EXPECT_THAT(added.status().message(), HasSubstr("covers only cameras 'gate'"));

  added = engine_->AddFaceAuthorisation(kSam, a);
  EXPECT_EQ(added.status().code(), absl::StatusCode::kPermissionDenied);

  added = engine_->AddFaceAuthorisation(kAdmin, a);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(engine_->AddFaceAuthorisation(kAdmin, a).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(engine_->ListFaceAuthorisations(), SizeIs(1));
}

// ---- Evidence holds ----

TEST_F(PolicyEngineTest, EvidenceHoldNeedsApprovalAndLegalBasisAndSetsTheHold) {
  const int64_t s1 = AddSegment("gate", kT0 - 3 * kHour, kT0 - 2 * kHour);
  const int64_t s2 = AddSegment("gate", kT0 - 2 * kHour, kT0 - kHour);
  const int64_t s3 = AddSegment("yard", kT0 - 2 * kHour, kT0 - kHour);
  AddBasis(Basis("AZ 1/26"));
  EvidenceHoldSpec spec;
  spec.camera = "gate";
  spec.from_ms = kT0 - 150 * kMinute;
  spec.to_ms = kT0 - 90 * kMinute;
  spec.case_reference = "CASE-42";

  absl::StatusOr<EvidenceHold> hold = engine_->PlaceEvidenceHold(kIvy, spec);
  ASSERT_EQ(hold.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(hold.status().message(), HasSubstr("placing an evidence hold needs a legal basis"));
  spec.legal_basis_ref = "AZ 1/26";
  hold = engine_->PlaceEvidenceHold(kIvy, spec);
  ASSERT_EQ(hold.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(hold.status().message(), HasSubstr("needs a four-eyes approval"));
  EXPECT_FALSE(SegmentById(s1).evidence_hold);

  spec.approval_id = Approved(ApprovalKind::kEvidenceHold, "CASE-42", "AZ 1/26");
  EXPECT_EQ(engine_->PlaceEvidenceHold(kOtto, spec).status().code(),
            absl::StatusCode::kPermissionDenied);
  hold = engine_->PlaceEvidenceHold(kIvy, spec);
  ASSERT_TRUE(hold.ok()) << hold.status();
  EXPECT_EQ(hold->segments, (std::vector<int64_t>{s1, s2}));
  EXPECT_TRUE(SegmentById(s1).evidence_hold);
  EXPECT_THAT(SegmentById(s1).hold_reason, HasSubstr("case CASE-42; legal basis AZ 1/26"));
  EXPECT_TRUE(SegmentById(s2).evidence_hold);
  EXPECT_FALSE(SegmentById(s3).evidence_hold);

  // Investigators may not release; supervisors may, with a reason.
  EXPECT_EQ(engine_->ReleaseEvidenceHold(kIvy, hold->id, "case closed").code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(engine_->ReleaseEvidenceHold(kSue, hold->id, "case closed").ok());
  EXPECT_FALSE(SegmentById(s1).evidence_hold);
  EXPECT_FALSE(SegmentById(s2).evidence_hold);
  EXPECT_EQ(engine_->ReleaseEvidenceHold(kSue, hold->id, "again").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PolicyEngineTest, EvidenceHoldIsRefusedForCamerasOutsideItsLegalBasis) {
  const int64_t segment = AddSegment("gate", kT0 - kHour, kT0 - kMinute);
  AddBasis(Basis("YARD", {Act::kEvidenceHold}, {"yard"}));
  EvidenceHoldSpec spec;
  spec.segment_ids = {segment};
  spec.legal_basis_ref = "YARD";
  spec.case_reference = "CASE-42";
  spec.approval_id = Approved(ApprovalKind::kEvidenceHold, "CASE-42", "YARD");
  absl::StatusOr<EvidenceHold> hold = engine_->PlaceEvidenceHold(kIvy, spec);
  ASSERT_EQ(hold.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(hold.status().message(), HasSubstr("does not cover camera 'gate'"));
  EXPECT_FALSE(SegmentById(segment).evidence_hold);
  EXPECT_TRUE(engine_->ListEvidenceHolds().empty());
}

TEST_F(PolicyEngineTest, ReleasingAHoldKeepsSegmentsOtherHoldsKeep) {
  const int64_t s1 = AddSegment("gate", kT0 - 2 * kHour, kT0 - kHour);
  const int64_t s2 = AddSegment("gate", kT0 - kHour, kT0 - kMinute);
  const int64_t manual = AddSegment("yard", kT0 - kHour, kT0 - kMinute);
  ASSERT_TRUE(index_->SetEvidenceHold(manual, true, "held by hand").ok());
  AddBasis(Basis("AZ 1/26"));
  const std::string approval = Approved(ApprovalKind::kEvidenceHold, "CASE-42", "AZ 1/26");
  EvidenceHoldSpec a;
  a.segment_ids = {s1, s2, manual};
  a.legal_basis_ref = "AZ 1/26";
  a.case_reference = "CASE-42";
  a.approval_id = approval;
  absl::StatusOr<EvidenceHold> first = engine_->PlaceEvidenceHold(kIvy, a);
  ASSERT_TRUE(first.ok()) << first.status();
  EvidenceHoldSpec b = a;
  b.segment_ids = {s2};
  absl::StatusOr<EvidenceHold> second = engine_->PlaceEvidenceHold(kSam, b);
  ASSERT_TRUE(second.ok()) << second.status();

  ASSERT_TRUE(engine_->ReleaseEvidenceHold(kSue, first->id, "partly done").ok());
  EXPECT_FALSE(SegmentById(s1).evidence_hold);
  EXPECT_TRUE(SegmentById(s2).evidence_hold);
  EXPECT_TRUE(SegmentById(manual).evidence_hold);
  EXPECT_EQ(SegmentById(manual).hold_reason, "held by hand");
  ASSERT_TRUE(engine_->ReleaseEvidenceHold(kSue, second->id, "done").ok());
  EXPECT_FALSE(SegmentById(s2).evidence_hold);
  EXPECT_TRUE(SegmentById(manual).evidence_hold);

  b.segment_ids = {9999};
  EXPECT_EQ(engine_->PlaceEvidenceHold(kIvy, b).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PolicyEngineTest, EvidenceHoldIsRefusedWithoutARecordingsIndexOrForFutureFootage) {
  AddBasis(Basis("AZ 1/26"));
  EvidenceHoldSpec spec;
  spec.camera = "gate";
  spec.from_ms = kT0 - kHour;
  spec.to_ms = kT0 + kHour;
  spec.legal_basis_ref = "AZ 1/26";
  spec.case_reference = "CASE-42";
  spec.approval_id = Approved(ApprovalKind::kEvidenceHold, "CASE-42", "AZ 1/26");
  absl::StatusOr<EvidenceHold> hold = engine_->PlaceEvidenceHold(kIvy, spec);
  EXPECT_EQ(hold.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(hold.status().message(), HasSubstr("ends in the future"));

  engine_.reset();
  absl::StatusOr<std::unique_ptr<PolicyEngine>> without =
      PolicyEngine::Create(options_, {&clock_, &auditor_, nullptr});
  ASSERT_TRUE(without.ok());
  spec.to_ms = kT0;
  hold = (*without)->PlaceEvidenceHold(kIvy, spec);
  EXPECT_EQ(hold.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(hold.status().message(), HasSubstr("no recordings index"));
}

// ---- Retention ----

TEST_F(PolicyEngineTest, RetentionOverridesBecomeCameraRetention) {
  ASSERT_TRUE(engine_->SetRetention(kAdmin, "gate", retention::DataKind::kVideo, 7 * kDay).ok());
  ASSERT_TRUE(engine_->SetRetention(kAdmin, "gate", retention::DataKind::kEvents, 60 * kDay).ok());
  ASSERT_TRUE(engine_->SetRetention(kAdmin, "gate", retention::DataKind::kVideo, 14 * kDay).ok());
  std::map<std::string, retention::CameraRetention> overrides = engine_->RetentionOverrides();
  ASSERT_EQ(overrides.size(), 1u);
  EXPECT_EQ(overrides["gate"].video_max_age_ms, 14 * kDay);
  EXPECT_EQ(overrides["gate"].events_max_age_ms, 60 * kDay);
  EXPECT_FALSE(overrides["gate"].snapshots_max_age_ms.has_value());

  absl::Status longer =
      engine_->SetRetention(kAdmin, "gate", retention::DataKind::kSnapshots, 90 * kDay);
  EXPECT_EQ(longer.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(longer.message(), HasSubstr("a snapshot never outlives its event"));

  ASSERT_TRUE(engine_->ClearRetention(kAdmin, "gate", retention::DataKind::kVideo).ok());
  EXPECT_FALSE(engine_->RetentionOverrides()["gate"].video_max_age_ms.has_value());
  EXPECT_EQ(engine_->ClearRetention(kAdmin, "gate", retention::DataKind::kVideo).code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(engine_->ClearRetention(kAdmin, "gate", retention::DataKind::kEvents).ok());
  EXPECT_TRUE(engine_->RetentionOverrides().empty());
}

// ---- Auditing ----

TEST_F(PolicyEngineTest, EveryChangeProducesExactlyOneAuditRecordWithTheRightFields) {
  size_t seen = 0;
  auto expect_one = [&](PolicyAction action, const std::string& actor) -> PolicyChange {
    std::vector<PolicyChange> records = auditor_.records();
    EXPECT_EQ(records.size(), seen + 1) << PolicyActionName(action);
    seen = records.size();
    if (records.empty()) return {};
    const PolicyChange& r = records.back();
    EXPECT_EQ(r.action, action);
    EXPECT_EQ(r.result, PolicyResult::kOk);
    EXPECT_EQ(r.actor, actor);
    EXPECT_EQ(r.time_ms, clock_.WallMs());
    return r;
  };

  AddBasis(Basis("AZ 1/26"));
  PolicyChange r = expect_one(PolicyAction::kLegalBasisAdd, "root");
  EXPECT_EQ(r.role, auth::Role::kAdmin);
  EXPECT_EQ(r.object, "AZ 1/26");
  EXPECT_EQ(r.legal_basis_ref, "AZ 1/26");
  EXPECT_EQ(r.purpose, "court_order");
  EXPECT_THAT(r.details, HasSubstr("\"issuing_authority\":\"Amtsgericht Musterstadt\""));

  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kAdmin, {ApprovalKind::kFaceAuthorisation, "search", "AZ 1/26", "", "missing child"});
  ASSERT_TRUE(request.ok());
  r = expect_one(PolicyAction::kApprovalRequest, "root");
  EXPECT_EQ(r.object, request->id);
  EXPECT_EQ(r.purpose, "face_authorisation");
  EXPECT_EQ(r.reason, "missing child");
  ASSERT_TRUE(engine_->Approve(kSam, request->id).ok());
  r = expect_one(PolicyAction::kApprovalApprove, "sam");
  EXPECT_EQ(r.role, auth::Role::kSupervisor);
  EXPECT_EQ(r.legal_basis_ref, "AZ 1/26");

  FaceAuthorisation face = Face("search", "AZ 1/26", {"gate"}, kT0, kT0 + kHour);
  face.approval_id = request->id;
  absl::StatusOr<FaceAuthorisation> added = engine_->AddFaceAuthorisation(kAdmin, face);
  ASSERT_TRUE(added.ok()) << added.status();
  r = expect_one(PolicyAction::kFaceAuthorisationAdd, "root");
  EXPECT_EQ(r.object, added->id);
  EXPECT_EQ(r.purpose, "missing_person");
  ASSERT_TRUE(engine_->RevokeFaceAuthorisation(kAdmin, added->id, "found").ok());
  r = expect_one(PolicyAction::kFaceAuthorisationRevoke, "root");
  EXPECT_EQ(r.reason, "found");

  ProtectedAssembly march;
  march.name = "May Day march";
  march.targets = {{"gate", ""}};
  march.start_ms = kT0;
  march.end_ms = kT0 + kHour;
  absl::StatusOr<ProtectedAssembly> assembly = engine_->AddProtectedAssembly(kAdmin, march);
  ASSERT_TRUE(assembly.ok());
  r = expect_one(PolicyAction::kAssemblyAdd, "root");
  EXPECT_EQ(r.purpose, "demonstration");
  ASSERT_TRUE(engine_->RevokeProtectedAssembly(kAdmin, assembly->id, "cancelled").ok());
  expect_one(PolicyAction::kAssemblyRevoke, "root");

  absl::StatusOr<ApprovalRequest> rejected_request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26", "", "suspect"});
  ASSERT_TRUE(rejected_request.ok());
  expect_one(PolicyAction::kApprovalRequest, "ivy");
  ASSERT_TRUE(engine_->Reject(kSue, rejected_request->id, "thin evidence").ok());
  r = expect_one(PolicyAction::kApprovalReject, "sue");
  EXPECT_EQ(r.reason, "thin evidence");

  ASSERT_TRUE(engine_->SetRetention(kAdmin, "gate", retention::DataKind::kVideo, kDay).ok());
  r = expect_one(PolicyAction::kRetentionSet, "root");
  EXPECT_EQ(r.object, "gate/video");
  ASSERT_TRUE(engine_->ClearRetention(kAdmin, "gate", retention::DataKind::kVideo).ok());
  expect_one(PolicyAction::kRetentionClear, "root");

  AddSegment("gate", kT0 - kHour, kT0 - kMinute);
  EvidenceHoldSpec spec;
  spec.camera = "gate";
  spec.from_ms = kT0 - kHour;
  spec.to_ms = kT0;
  spec.legal_basis_ref = "AZ 1/26";
  spec.case_reference = "CASE-42";
  absl::StatusOr<ApprovalRequest> hold_request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kEvidenceHold, "CASE-42", "AZ 1/26", "gate", "footage of the theft"});
  ASSERT_TRUE(hold_request.ok());
  expect_one(PolicyAction::kApprovalRequest, "ivy");
  ASSERT_TRUE(engine_->Approve(kSam, hold_request->id).ok());
  expect_one(PolicyAction::kApprovalApprove, "sam");
  spec.approval_id = hold_request->id;
  absl::StatusOr<EvidenceHold> hold = engine_->PlaceEvidenceHold(kIvy, spec);
  ASSERT_TRUE(hold.ok()) << hold.status();
  r = expect_one(PolicyAction::kEvidenceHoldPlace, "ivy");
  EXPECT_EQ(r.object, hold->id);
  EXPECT_EQ(r.purpose, "CASE-42");
  ASSERT_TRUE(engine_->ReleaseEvidenceHold(kSam, hold->id, "closed").ok());
  expect_one(PolicyAction::kEvidenceHoldRelease, "sam");

  ASSERT_TRUE(engine_->RevokeLegalBasis(kAdmin, "AZ 1/26", "lifted").ok());
  expect_one(PolicyAction::kLegalBasisRevoke, "root");
}

TEST_F(PolicyEngineTest, FailingAuditorMakesTheChangeNotHappen) {
  AddBasis(Basis("AZ 1/26"));
  const std::string face_approval =
      Approved(ApprovalKind::kFaceAuthorisation, "search", "AZ 1/26", kAdmin);
  const std::string hold_approval = Approved(ApprovalKind::kEvidenceHold, "CASE-42", "AZ 1/26");
  absl::StatusOr<ApprovalRequest> pending = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26", "", "suspect"});
  ASSERT_TRUE(pending.ok());
  const int64_t segment = AddSegment("gate", kT0 - kHour, kT0 - kMinute);
  const std::string before = DumpTables(options_.path);
  const size_t records_before = auditor_.records().size();

  auditor_.FailWith(absl::UnavailableError("audit log down"));
  auto expect_refused = [&](const absl::Status& status, const char* what) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << what;
    EXPECT_THAT(status.message(), HasSubstr("nothing was changed")) << what;
    EXPECT_THAT(status.message(), HasSubstr("audit log down")) << what;
  };
  expect_refused(engine_->AddLegalBasis(kAdmin, Basis("AZ 2/26")).status(), "add basis");
  expect_refused(engine_->RevokeLegalBasis(kAdmin, "AZ 1/26", "x"), "revoke basis");
  FaceAuthorisation face = Face("search", "AZ 1/26", {"gate"}, kT0, kT0 + kHour);
  face.approval_id = face_approval;
  expect_refused(engine_->AddFaceAuthorisation(kAdmin, face).status(), "add face");
  ProtectedAssembly march;
  march.name = "march";
  march.targets = {{"gate", ""}};
  march.start_ms = kT0;
  march.end_ms = kT0 + kHour;
  expect_refused(engine_->AddProtectedAssembly(kAdmin, march).status(), "add assembly");
  expect_refused(engine_
                     ->RequestApproval(
                         kIvy, {ApprovalKind::kWatchlistEntry, "entry-2", "AZ 1/26", "", "suspect"})
                     .status(),
                 "request");
  expect_refused(engine_->Approve(kSam, pending->id).status(), "approve");
  expect_refused(engine_->Reject(kSam, pending->id, "no").status(), "reject");
  expect_refused(engine_->SetRetention(kAdmin, "gate", retention::DataKind::kVideo, kDay),
                 "retention");
  EvidenceHoldSpec spec;
  spec.segment_ids = {segment};
  spec.legal_basis_ref = "AZ 1/26";
  spec.case_reference = "CASE-42";
  spec.approval_id = hold_approval;
  expect_refused(engine_->PlaceEvidenceHold(kIvy, spec).status(), "hold");
  EXPECT_FALSE(SegmentById(segment).evidence_hold);

  EXPECT_EQ(DumpTables(options_.path), before);
  EXPECT_EQ(auditor_.records().size(), records_before);
  EXPECT_THAT(engine_->ListLegalBases(), SizeIs(1));
  EXPECT_TRUE(engine_->ListFaceAuthorisations().empty());
  EXPECT_TRUE(engine_->ListProtectedAssemblies().empty());
  EXPECT_EQ(engine_->Status(pending->id)->status, ApprovalStatus::kPending);
  EXPECT_TRUE(engine_->RetentionOverrides().empty());
  EXPECT_TRUE(engine_->ListEvidenceHolds().empty());
  EXPECT_FALSE(FaceAt("gate", kT0).allowed);

  // Once the audit log is back, the hold goes through; its release fails closed too.
  auditor_.FailWith(absl::OkStatus());
  absl::StatusOr<EvidenceHold> hold = engine_->PlaceEvidenceHold(kIvy, spec);
  ASSERT_TRUE(hold.ok()) << hold.status();
  auditor_.FailWith(absl::UnavailableError("audit log down"));
  expect_refused(engine_->ReleaseEvidenceHold(kSam, hold->id, "closed"), "release");
  EXPECT_TRUE(SegmentById(segment).evidence_hold);
  EXPECT_EQ(engine_->ListEvidenceHolds()[0].released_ms, 0);

  // Refusals stand even when their record cannot be written.
  EXPECT_FALSE(engine_->CheckLegalBasis(kIvy, "nope", Act::kPlateQuery).allowed);
  EXPECT_EQ(engine_->refusal_audit_failures(), 1);
}

// ---- Persistence ----

TEST_F(PolicyEngineTest, EverythingIsStillThereAfterReopening) {
  FaceAuthorisation face = AddFace({"gate"}, kT0, kT0 + kDay);
  ProtectedAssembly march;
  march.name = "May Day march";
  march.targets = {{"gate", "square"}};
  march.area = GeoArea{{}, config::Location{52.0, 13.0}, 100};
  march.start_ms = kT0 + 12 * kHour;
  march.end_ms = kT0 + 18 * kHour;
  ASSERT_TRUE(engine_->AddProtectedAssembly(kAdmin, march).ok());
  ASSERT_TRUE(engine_->SetRetention(kAdmin, "yard", retention::DataKind::kVideo, 2 * kDay).ok());
  const int64_t segment = AddSegment("gate", kT0 - kHour, kT0 - kMinute);
  EvidenceHoldSpec spec;
  spec.segment_ids = {segment};
  spec.legal_basis_ref = "FR-1";
  spec.case_reference = "CASE-42";
  AddBasis(Basis("HOLD", {Act::kEvidenceHold}));
  spec.legal_basis_ref = "HOLD";
  spec.approval_id = Approved(ApprovalKind::kEvidenceHold, "CASE-42", "HOLD");
  absl::StatusOr<EvidenceHold> hold = engine_->PlaceEvidenceHold(kIvy, spec);
  ASSERT_TRUE(hold.ok()) << hold.status();
  const std::string before = DumpTables(options_.path);

  Open();
  EXPECT_EQ(DumpTables(options_.path), before);
  ASSERT_THAT(engine_->ListLegalBases(), SizeIs(2));
  EXPECT_EQ(engine_->FindLegalBasis("FR-1")->scope.acts, std::vector<Act>{Act::kFaceRecognition});
  EXPECT_EQ(engine_->FindLegalBasis("FR-1")->created_by, "root");
  ASSERT_THAT(engine_->ListFaceAuthorisations(), SizeIs(1));
  EXPECT_EQ(engine_->ListFaceAuthorisations()[0].id, face.id);
  EXPECT_EQ(engine_->ListFaceAuthorisations()[0].cameras, std::vector<std::string>{"gate"});
  ASSERT_THAT(engine_->ListProtectedAssemblies(), SizeIs(1));
  EXPECT_EQ(engine_->ListProtectedAssemblies()[0].area->circle_radius_m, 100);
  EXPECT_THAT(engine_->ListApprovals(ApprovalStatus::kApproved), SizeIs(2));
  EXPECT_EQ(engine_->RetentionOverrides()["yard"].video_max_age_ms, 2 * kDay);
  ASSERT_THAT(engine_->ListEvidenceHolds(), SizeIs(1));
  EXPECT_EQ(engine_->ListEvidenceHolds()[0].segments, std::vector<int64_t>{segment});
  EXPECT_TRUE(FaceAt("gate", kT0).allowed);
  EXPECT_FALSE(FaceAt("gate", kT0 + 12 * kHour, std::vector<std::string>{"square"}).allowed);
  // The engine remembers that it set the index's hold, so a release after reopening clears it.
  ASSERT_TRUE(engine_->ReleaseEvidenceHold(kSam, hold->id, "closed").ok());
  EXPECT_FALSE(SegmentById(segment).evidence_hold);
}

TEST_F(PolicyEngineTest, DatabaseOfANewerSchemaIsRefusedUntouched) {
  AddBasis(Basis("AZ 1/26"));
  engine_.reset();
  RawExec(options_.path, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA user_version = 99");
  const std::string bytes = ReadFile(options_.path);
  absl::StatusOr<std::unique_ptr<PolicyEngine>> engine =
      PolicyEngine::Create(options_, {&clock_, &auditor_, index_.get()});
  ASSERT_EQ(engine.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(engine.status().message(), HasSubstr("schema version 99"));
  EXPECT_THAT(engine.status().message(), HasSubstr("was not changed"));
  EXPECT_EQ(ReadFile(options_.path), bytes);
}

TEST_F(PolicyEngineTest, DatabaseOfAnotherApplicationIsRefused) {
  engine_.reset();
  const fs::path other = dir_ / "other.db";
  RawExec(other, "CREATE TABLE t (x)");
  options_.path = other.string();
  absl::StatusOr<std::unique_ptr<PolicyEngine>> engine =
      PolicyEngine::Create(options_, {&clock_, &auditor_, index_.get()});
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(engine.status().message(), HasSubstr("not a Custos policy database"));
}

// ---- Bad input ----

TEST_F(PolicyEngineTest, BadInputIsRefusedWithWhatToFix) {
  auto expect_invalid = [](const absl::Status& status, const std::string& fix) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(status.message(), HasSubstr(fix));
  };
  LegalBasis basis = Basis("");
  expect_invalid(engine_->AddLegalBasis(kAdmin, basis).status(), "reference is empty; give one");
  basis = Basis(std::string(1 << 20, 'x'));
  expect_invalid(engine_->AddLegalBasis(kAdmin, basis).status(),
                 "reference is 1048576 bytes long; shorten it to at most 200");
  basis = Basis("AZ\n1");
  expect_invalid(engine_->AddLegalBasis(kAdmin, basis).status(), "control characters");
  basis = Basis("AZ \xff");
  expect_invalid(engine_->AddLegalBasis(kAdmin, basis).status(), "not valid UTF-8");
  basis = Basis("AZ 1/26");
  basis.valid_from_ms = basis.expires_ms;
  expect_invalid(engine_->AddLegalBasis(kAdmin, basis).status(),
                 "ends (2026-12-26 00:00 UTC) before or when it starts");
  basis = Basis("AZ 1/26", {}, {"Gate 1"});
  expect_invalid(engine_->AddLegalBasis(kAdmin, basis).status(),
                 "scope camera 1 'Gate 1' is not a camera id: use 1 to 64 of a-z");
  basis = Basis("AZ 1/26", {}, {"tower"});
  expect_invalid(engine_->AddLegalBasis(kAdmin, basis).status(),
                 "'tower' is not a configured camera; known cameras: 'gate', 'mobile', 'yard'");
  basis = Basis("AZ 1/26", {}, {}, kT0 - 1);
  expect_invalid(engine_->AddLegalBasis(kAdmin, basis).status(), "cannot be registered");
  AddBasis(Basis("AZ 1/26"));

  FaceAuthorisation face = Face("search", "AZ 1/26", {"gate"}, kT0 + kHour, kT0);
  expect_invalid(engine_->AddFaceAuthorisation(kAdmin, face).status(), "before or when it starts");
  face = Face("search", "AZ 1/26", {}, kT0, kT0 + kHour);
  expect_invalid(engine_->AddFaceAuthorisation(kAdmin, face).status(),
                 "either all_cameras or a list of cameras");
  face = Face("search", "AZ 1/26", {"gate", "../etc"}, kT0, kT0 + kHour);
  expect_invalid(engine_->AddFaceAuthorisation(kAdmin, face).status(),
                 "camera 2 '../etc' is not a camera id");

  ProtectedAssembly march;
  march.name = "march";
  march.start_ms = kT0;
  march.end_ms = kT0 + kHour;
  expect_invalid(engine_->AddProtectedAssembly(kAdmin, march).status(), "covers nothing");
  march.targets = {{"gate", "market"}};
  expect_invalid(engine_->AddProtectedAssembly(kAdmin, march).status(),
                 "camera 'gate' has no zone 'market'; its zones are 'square', 'road'");
  march.targets = {};
  march.area = GeoArea{{{52, 13}, {52, 14}}, std::nullopt, 0};
  expect_invalid(engine_->AddProtectedAssembly(kAdmin, march).status(),
                 "polygon has 2 corners; give 3 to");
  march.area = GeoArea{{}, config::Location{52, 13}, 0};
  expect_invalid(engine_->AddProtectedAssembly(kAdmin, march).status(), "radius is 0 m");
  march.area = GeoArea{{}, config::Location{95, 13}, 10};
  expect_invalid(engine_->AddProtectedAssembly(kAdmin, march).status(), "is not a WGS84 position");

  expect_invalid(
      engine_->RequestApproval(kIvy, {ApprovalKind::kWatchlistEntry, "", "AZ 1/26", "", "suspect"})
          .status(),
      "object_id is empty");
  expect_invalid(engine_
                     ->RequestApproval(kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26",
                                              "", std::string(5000, 'r')})
                     .status(),
                 "reason is 5000 bytes long");
  absl::StatusOr<ApprovalRequest> request = engine_->RequestApproval(
      kIvy, {ApprovalKind::kWatchlistEntry, "entry-1", "AZ 1/26", "", "suspect"});
  ASSERT_TRUE(request.ok());
  expect_invalid(engine_->Reject(kSam, request->id, "").status(), "reason is empty");
  expect_invalid(engine_->RevokeLegalBasis(kAdmin, "AZ 1/26", "  "), "reason is blank");

  expect_invalid(engine_->SetRetention(kAdmin, "gate", retention::DataKind::kVideo, 0),
                 "max_age_ms is 0; give between 3600000 (1 hour)");
  expect_invalid(engine_->SetRetention(kAdmin, "Gate", retention::DataKind::kVideo, kDay),
                 "is not a camera id");

  EvidenceHoldSpec spec;
  spec.case_reference = "CASE-42";
  expect_invalid(engine_->PlaceEvidenceHold(kIvy, spec).status(),
                 "either segment ids or a camera with a time range");
  spec.camera = "gate";
  spec.from_ms = kT0 - kHour;
  spec.to_ms = kT0 - 2 * kHour;
  expect_invalid(engine_->PlaceEvidenceHold(kIvy, spec).status(), "before or when it starts");

  PolicyEngineOptions bad = options_;
  bad.path = "";
  EXPECT_EQ(PolicyEngine::Create(bad, {&clock_, &auditor_, nullptr}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PolicyEngine::Create(options_, {&clock_, nullptr, nullptr}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing invalid was stored.
  EXPECT_THAT(engine_->ListLegalBases(), SizeIs(1));
  EXPECT_TRUE(engine_->ListProtectedAssemblies().empty());
}

// ---- Threads ----

TEST_F(PolicyEngineTest, ChecksRunConcurrentlyWithChanges) {
  AddFace({"gate", "yard"}, kT0, kT0 + kDay);
  std::atomic<bool> stop{false};
  std::atomic<int> checks{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        FaceAt("yard", kT0 + kMinute);
        engine_->CheckApproval("x", ApprovalKind::kEvidenceHold, "y");
        ++checks;
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    ProtectedAssembly a;
    a.name = "assembly " + std::to_string(i);
    a.targets = {{"gate", ""}};
    a.start_ms = kT0;
    a.end_ms = kT0 + kHour;
    ASSERT_TRUE(engine_->AddProtectedAssembly(kAdmin, a).ok());
  }
  while (checks.load() < 100) std::this_thread::yield();
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_GT(checks.load(), 0);
  EXPECT_FALSE(FaceAt("gate", kT0 + kMinute).allowed);
  EXPECT_TRUE(FaceAt("yard", kT0 + kMinute).allowed);
}

}  // namespace
}  // namespace custos::policy
