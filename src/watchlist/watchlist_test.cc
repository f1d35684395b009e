// The watchlist's rules with a fake face source (no models): legal basis, four eyes, expiry,
// withdrawal, authorisations and protected assemblies, sealing at rest, auditing, the vote,
// and the match store.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "watchlist/enrolment.h"
#include "watchlist/match_store.h"
#include "watchlist/track_face_recognizer.h"
#include "watchlist/watchlist_matcher.h"
#include "watchlist/watchlist_store.h"

namespace custos::watchlist {
namespace {

namespace fs = std::filesystem;
using policy::PolicyAction;
using policy::PolicyResult;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'795'651'200'000;  // 2026-11-26 00:00 UTC.
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

const auth::Principal kAdmin{auth::Principal::Kind::kUser, 1, "root", auth::Role::kAdmin};
const auth::Principal kIvy{auth::Principal::Kind::kUser, 2, "ivy", auth::Role::kInvestigator};
const auth::Principal kSam{auth::Principal::Kind::kUser, 3, "sam", auth::Role::kSupervisor};
const auth::Principal kSue{auth::Principal::Kind::kUser, 4, "sue", auth::Role::kSupervisor};
const auth::Principal kOtto{auth::Principal::Kind::kUser, 5, "otto", auth::Role::kOperator};
const auth::Principal kVic{auth::Principal::Kind::kUser, 6, "vic", auth::Role::kViewer};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

face::Embedding RandomUnit(uint32_t seed, int dim = 128) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0, 1);
  face::Embedding e(static_cast<size_t>(dim));
  float norm = 0;
  for (float& v : e) {
    v = n(rng);
    norm += v * v;
  }
  for (float& v : e) v /= std::sqrt(norm);
  return e;
}

// `base` moved a little: cosine similarity about 0.97 to it.
face::Embedding Near(const face::Embedding& base, uint32_t seed) {
  face::Embedding noise = RandomUnit(seed, static_cast<int>(base.size()));
  face::Embedding e(base.size());
  float norm = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    e[i] = base[i] + 0.25f * noise[i];
    norm += e[i] * e[i];
  }
  for (float& v : e) v /= std::sqrt(norm);
  return e;
}

// Answers every image with one configured face; counts calls (face detection runs).
class FakeFaceSource final : public FaceSource {
 public:
  absl::StatusOr<std::optional<face::AnalyzedFace>> LargestFace(const cv::Mat& image) override {
    ++calls;
    if (!face) return std::nullopt;
    face::AnalyzedFace f = *face;
    f.detection.box =
        cv::Rect2f(2, 2, static_cast<float>(image.cols) - 4, static_cast<float>(image.rows) / 2);
    return f;
  }
  // A frontal, sharp face with `embedding` (empty: failed the gate).
  void Set(face::Embedding embedding, bool passed = true) {
    face::AnalyzedFace f;
    f.detection.score = 0.9f;
    f.quality = {120, 200, 0.05f, 0.45f, passed, passed ? "" : "blurred"};
    f.embedding = passed ? std::move(embedding) : face::Embedding{};
    face = f;
  }
  int calls = 0;
  std::optional<face::AnalyzedFace> face;
};

class WatchlistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("custos-watchlist");
    policy::PolicyEngineOptions popts;
    popts.path = (dir_ / "policy.db").string();
    popts.cameras = {{"gate", std::nullopt, {"square", "road"}}, {"yard", std::nullopt, {}}};
    auto engine = policy::PolicyEngine::Create(popts, {&clock_, &auditor_, nullptr});
    ASSERT_TRUE(engine.ok()) << engine.status();
    policy_ = *std::move(engine);
    AddBasis("WL-1", {policy::Act::kWatchlistEntry}, kT0 + 60 * kDay);
    options_.path = (dir_ / "watchlist.db").string();
    options_.key_path = (dir_ / "keys" / "watchlist.key").string();
    OpenStore();
  }
  void TearDown() override {
    recognizer_.reset();
    matcher_.reset();
    matches_.reset();
    store_.reset();
    policy_.reset();
    fs::remove_all(dir_);
  }

  void OpenStore() {
    matcher_.reset();
    store_.reset();
    auto store = WatchlistStore::Create(options_, {&clock_, policy_.get(), &auditor_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto matcher = WatchlistMatcher::Create({}, store_.get());
    ASSERT_TRUE(matcher.ok()) << matcher.status();
    matcher_ = *std::move(matcher);
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

  // Face recognition on at `cameras` over [start, end), approved by sam.
  void Authorise(std::vector<std::string> cameras, int64_t start_ms, int64_t end_ms) {
    if (!policy_->FindLegalBasis("FR-1")) {
      AddBasis("FR-1", {policy::Act::kFaceRecognition}, kT0 + 60 * kDay);
    }
    auto request = policy_->RequestApproval(
        kAdmin, {policy::ApprovalKind::kFaceAuthorisation, "search", "FR-1", "", "manhunt"});
    ASSERT_TRUE(request.ok()) << request.status();
    ASSERT_TRUE(policy_->Approve(kSam, request->id).ok());
    policy::FaceAuthorisation a;
    a.name = "search";
    a.legal_basis_ref = "FR-1";
    a.approval_id = request->id;
    a.cameras = std::move(cameras);
    a.start_ms = start_ms;
    a.end_ms = end_ms;
    a.purpose = policy::FacePurpose::kWantedPerson;
    a.issuing_authority = "Amtsgericht Musterstadt";
    a.expires_ms = end_ms + kDay;
    auto added = policy_->AddFaceAuthorisation(kAdmin, a);
    ASSERT_TRUE(added.ok()) << added.status();
  }

  ProposalSpec Spec(const std::string& label = "Case 114 - J. Doe") {
    ProposalSpec spec;
    spec.label = label;
    spec.category = SubjectCategory::kWantedSuspect;
    spec.legal_basis_ref = "WL-1";
    spec.reason = "arrest warrant 12 Gs 345/26";
    return spec;
  }

  // Proposed by ivy, approved by sam: active.
  WatchlistEntry Enrol(const face::Embedding& embedding) {
    auto entry = store_->Propose(kIvy, Spec(), {embedding});
    EXPECT_TRUE(entry.ok()) << entry.status();
    if (!entry.ok()) return {};
    auto active = store_->Approve(kSam, entry->id);
    EXPECT_TRUE(active.ok()) << active.status();
    return active.ok() ? *active : *entry;
  }

  std::optional<WatchlistHit> MatchAt(const face::Embedding& probe, int64_t time_ms) {
    auto hit = matcher_->Match(probe, time_ms);
    EXPECT_TRUE(hit.ok()) << hit.status();
    return hit.ok() ? *hit : std::nullopt;
  }

  std::vector<policy::PolicyChange> Records(PolicyAction action) {
    std::vector<policy::PolicyChange> out;
    for (const auto& r : auditor_.records()) {
      if (r.action == action) out.push_back(r);
    }
    return out;
  }

  void MakeRecognizer(RecognizerOptions options = {}) {
    auto r = TrackFaceRecognizer::Create(options, policy_.get(), matcher_.get(), &faces_);
    ASSERT_TRUE(r.ok()) << r.status();
    recognizer_ = *std::move(r);
  }

  // A 640x360 grey frame with one person box.
  std::vector<FaceMatch> Frame(int64_t time_ms, const std::string& camera = "gate",
                               std::optional<std::vector<std::string>> zones = std::nullopt) {
    const cv::Mat frame(360, 640, CV_8UC3, cv::Scalar(120, 130, 140));
    const std::vector<PersonTrack> tracks = {{7, {200, 40, 120, 300}, false, std::move(zones)}};
    auto out = recognizer_->ProcessFrame(camera, time_ms, frame, tracks);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : std::vector<FaceMatch>{};
  }

  fs::path dir_;
  FakeClock clock_{kT0};
  policy::InMemoryPolicyAuditor auditor_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  WatchlistOptions options_;
  std::unique_ptr<WatchlistStore> store_;
  std::unique_ptr<WatchlistMatcher> matcher_;
  std::unique_ptr<MatchStore> matches_;
  FakeFaceSource faces_;
  std::unique_ptr<TrackFaceRecognizer> recognizer_;
};

// ---- Entries: legal basis, four eyes, expiry, withdrawal ----

TEST_F(WatchlistTest, ProposingNeedsALegalBasisInForce) {
  ProposalSpec spec = Spec();
  spec.legal_basis_ref = "nope";
  auto entry = store_->Propose(kIvy, spec, {RandomUnit(1)});
  ASSERT_EQ(entry.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(entry.status().message(), HasSubstr("no legal basis with reference 'nope'"));
  spec.legal_basis_ref = "";
  entry = store_->Propose(kIvy, spec, {RandomUnit(1)});
  EXPECT_THAT(entry.status().message(), HasSubstr("needs a legal basis"));
  // A basis for plate queries only does not cover enrolment.
  AddBasis("PQ-1", {policy::Act::kPlateQuery}, kT0 + kDay);
  spec.legal_basis_ref = "PQ-1";
  entry = store_->Propose(kIvy, spec, {RandomUnit(1)});
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kPermissionDenied);
  auto all = store_->List();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  EXPECT_TRUE(policy_->ListApprovals().empty());
  // Each refusal is on record (by the policy engine).
  EXPECT_EQ(Records(PolicyAction::kLegalBasisCheck).size(), 3u);
}

TEST_F(WatchlistTest, OnlyInvestigatorsAndSupervisorsMayPropose) {
  auto entry = store_->Propose(kOtto, Spec(), {RandomUnit(1)});
  ASSERT_EQ(entry.status().code(), absl::StatusCode::kPermissionDenied);
  const auto refused = Records(PolicyAction::kWatchlistPropose);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].result, PolicyResult::kDenied);
  EXPECT_EQ(refused[0].actor, "otto");
}

TEST_F(WatchlistTest, BadEnrolmentEmbeddingsAreRefusedWithTheReason) {
  auto entry = store_->Propose(kIvy, Spec(), {});
  EXPECT_THAT(entry.status().message(), HasSubstr("at least one enrolment face"));
  entry = store_->Propose(kIvy, Spec(), {face::Embedding(64, 0.1f)});
  EXPECT_THAT(entry.status().message(), HasSubstr("has 64 values; the embedder gives 128"));
  entry = store_->Propose(kIvy, Spec(), {face::Embedding(128, 0.0f)});
  EXPECT_THAT(entry.status().message(), HasSubstr("zero vector"));
}

TEST_F(WatchlistTest, APendingEntryMatchesOnlyAfterADifferentSupervisorApproves) {
  const face::Embedding person = RandomUnit(1);
  // Proposed by a supervisor, who then tries to approve it himself.
  auto entry = store_->Propose(kSam, Spec(), {person});
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->status, EntryStatus::kPending);
  EXPECT_FALSE(MatchAt(Near(person, 2), kT0));

  auto self = store_->Approve(kSam, entry->id);
  ASSERT_EQ(self.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(self.status().message(), HasSubstr("you made this request yourself"));
  // An investigator may not approve either; activating without an approval is refused.
  EXPECT_EQ(store_->Approve(kIvy, entry->id).status().code(), absl::StatusCode::kPermissionDenied);
  auto early = store_->Activate(kSam, entry->id);
  ASSERT_EQ(early.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(early.status().message(), HasSubstr("cannot be activated"));
  EXPECT_EQ(store_->Get(entry->id)->status, EntryStatus::kPending);
  EXPECT_FALSE(MatchAt(Near(person, 2), kT0));

  auto approved = store_->Approve(kSue, entry->id);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->status, EntryStatus::kActive);
  EXPECT_EQ(approved->decided_by, "sue");
  std::optional<WatchlistHit> hit = MatchAt(Near(person, 2), kT0);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->entry_id, entry->id);
  EXPECT_GE(hit->score, 0.9f);
  // Someone else does not match.
  EXPECT_FALSE(MatchAt(RandomUnit(3), kT0));
  // A decided request cannot be approved again.
  EXPECT_EQ(store_->Approve(kSue, entry->id).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(WatchlistTest, AnEntryStopsMatchingTheMomentItExpires) {
  const face::Embedding person = RandomUnit(1);
  ProposalSpec spec = Spec();
  spec.expires_ms = kT0 + 2 * kDay;
  auto entry = store_->Propose(kIvy, spec, {person});
  ASSERT_TRUE(entry.ok()) << entry.status();
  ASSERT_TRUE(store_->Approve(kSam, entry->id).ok());
  clock_.AdvanceMs(2 * kDay - 1);
  EXPECT_TRUE(MatchAt(Near(person, 2), clock_.WallMs()));
  clock_.AdvanceMs(1);  // No sweeper ran: the matcher checks the clock.
  EXPECT_FALSE(MatchAt(Near(person, 2), clock_.WallMs()));
  EXPECT_EQ(StatusAt(*store_->Get(entry->id), clock_.WallMs()), EntryStatus::kExpired);
  // A frame stamped after the expiry does not match either, even if the clock lags.
  clock_.AdvanceMs(-kDay);
  EXPECT_FALSE(MatchAt(Near(person, 2), kT0 + 2 * kDay));
  clock_.AdvanceMs(kDay);
  // Retention erases the expired templates, on record.
  auto erased = store_->EraseExpired();
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, 1);
  EXPECT_EQ(store_->Get(entry->id)->embeddings, 0);
  EXPECT_EQ(Records(PolicyAction::kWatchlistErase).size(), 1u);
  EXPECT_EQ(*store_->EraseExpired(), 0);  // Nothing left: nothing recorded.
  EXPECT_EQ(Records(PolicyAction::kWatchlistErase).size(), 1u);
}

TEST_F(WatchlistTest, ExpiryDefaultsToThirtyDaysAndIsCapped) {
  auto entry = store_->Propose(kIvy, Spec(), {RandomUnit(1)});
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->expires_ms, kT0 + 30 * kDay);
  ProposalSpec spec = Spec();
  spec.expires_ms = kT0 + 91 * kDay;
  EXPECT_THAT(store_->Propose(kIvy, spec, {RandomUnit(1)}).status().message(),
              HasSubstr("more than 90 days away"));
  spec.expires_ms = kT0 + 61 * kDay;  // The basis expires at 60 days.
  EXPECT_THAT(store_->Propose(kIvy, spec, {RandomUnit(1)}).status().message(),
              HasSubstr("after legal basis 'WL-1' expires"));
  spec.expires_ms = kT0 - 1;
  EXPECT_THAT(store_->Propose(kIvy, spec, {RandomUnit(1)}).status().message(),
              HasSubstr("not in the future"));
  // The default never outlives a shorter basis.
  AddBasis("WL-2", {policy::Act::kWatchlistEntry}, kT0 + 10 * kDay);
  spec = Spec();
  spec.legal_basis_ref = "WL-2";
  entry = store_->Propose(kIvy, spec, {RandomUnit(1)});
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->expires_ms, kT0 + 10 * kDay);
}

TEST_F(WatchlistTest, AWithdrawnEntryStopsMatchingAtOnceAndItsEmbeddingsAreErased) {
  const face::Embedding person = RandomUnit(1);
  const WatchlistEntry entry = Enrol(person);
  EXPECT_TRUE(MatchAt(Near(person, 2), kT0));
  // Operators may not withdraw; a reason is required.
  EXPECT_EQ(store_->Withdraw(kOtto, entry.id, "found").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Withdraw(kIvy, entry.id, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto withdrawn = store_->Withdraw(kIvy, entry.id, "arrested");
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status();
  EXPECT_EQ(withdrawn->status, EntryStatus::kWithdrawn);
  EXPECT_EQ(withdrawn->embeddings, 0);
  EXPECT_FALSE(MatchAt(Near(person, 2), kT0));
  EXPECT_TRUE(store_->ActiveEntries(kT0)->empty());
  EXPECT_EQ(store_->Withdraw(kSam, entry.id, "again").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(WatchlistTest, ARejectedEntryNeverMatches) {
  const face::Embedding person = RandomUnit(1);
  auto entry = store_->Propose(kIvy, Spec(), {person});
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(store_->Reject(kIvy, entry->id, "no").status().code(),
            absl::StatusCode::kPermissionDenied);
  auto rejected = store_->Reject(kSam, entry->id, "the warrant names someone else");
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->status, EntryStatus::kRejected);
  EXPECT_EQ(store_->Approve(kSue, entry->id).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(MatchAt(person, kT0));
}

TEST_F(WatchlistTest, RevokingTheLegalBasisStopsMatching) {
  const face::Embedding person = RandomUnit(1);
  Enrol(person);
  EXPECT_TRUE(MatchAt(person, kT0));
  ASSERT_TRUE(policy_->RevokeLegalBasis(kAdmin, "WL-1", "order quashed").ok());
  EXPECT_FALSE(MatchAt(person, kT0));
}

// ---- At rest ----

TEST_F(WatchlistTest, EmbeddingsAreSealedAtRestAndAWrongKeyFailsClearly) {
  const face::Embedding person = RandomUnit(1);
  const WatchlistEntry entry = Enrol(person);
  store_.reset();
  matcher_.reset();
  std::string bytes;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    bytes += ReadFile(options_.path + suffix);
  }
  ASSERT_FALSE(bytes.empty());
  // No run of 4 consecutive float32 values of the embedding appears.
  for (size_t i = 0; i + 4 <= person.size(); ++i) {
    const std::string needle(reinterpret_cast<const char*>(person.data() + i), 16);
    ASSERT_EQ(bytes.find(needle), std::string::npos) << "embedding floats at " << i;
  }
  struct stat st {};
  ASSERT_EQ(::stat(options_.key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(options_.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFile(options_.key_path).size(), 32u);

  // Reopened with its key: the entry still matches.
  OpenStore();
  EXPECT_TRUE(MatchAt(Near(person, 2), kT0));
  store_.reset();
  matcher_.reset();

  // Another key: refused, naming both files, the database untouched.
  const std::string saved = ReadFile(options_.key_path);
  fs::remove(options_.key_path);
  {
    std::ofstream out(options_.key_path, std::ios::binary);
    out << std::string(32, 'k');
  }
  fs::permissions(options_.key_path, fs::perms::owner_read | fs::perms::owner_write);
  auto wrong = WatchlistStore::Create(options_, {&clock_, policy_.get(), &auditor_});
  ASSERT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong.status().message(), HasSubstr("does not open the database"));
  EXPECT_THAT(wrong.status().message(), HasSubstr(options_.key_path));
  // A missing key is not silently replaced.
  fs::remove(options_.key_path);
  auto missing = WatchlistStore::Create(options_, {&clock_, policy_.get(), &auditor_});
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("is missing"));
  EXPECT_FALSE(fs::exists(options_.key_path));
  // A key readable by others is refused.
  {
    std::ofstream out(options_.key_path, std::ios::binary);
    out << saved;
  }
  fs::permissions(options_.key_path, fs::perms::owner_read | fs::perms::group_read);
  auto open = WatchlistStore::Create(options_, {&clock_, policy_.get(), &auditor_});
  ASSERT_EQ(open.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(open.status().message(), HasSubstr("chmod 600"));
  fs::permissions(options_.key_path, fs::perms::owner_read | fs::perms::owner_write);
  OpenStore();
  EXPECT_EQ(store_->Get(entry.id)->status, EntryStatus::kActive);
}

TEST_F(WatchlistTest, ASealedRecordMovedToAnotherEntryDoesNotOpen) {
  auto key = SecretKey::LoadOrCreate((dir_ / "k2").string(), true);
  ASSERT_TRUE(key.ok());
  const std::string sealed = key->Seal("secret", EntrySealContext("A"));
  EXPECT_EQ(*key->Open(sealed, EntrySealContext("A")), "secret");
  EXPECT_EQ(key->Open(sealed, EntrySealContext("B")).status().code(), absl::StatusCode::kDataLoss);
}

// ---- Audit ----

TEST_F(WatchlistTest, EveryStepIsAuditedAndNothingChangesWithoutItsRecord) {
  const face::Embedding person = RandomUnit(1);
  auto entry = store_->Propose(kIvy, Spec(), {person});
  ASSERT_TRUE(entry.ok());
  auto proposed = Records(PolicyAction::kWatchlistPropose);
  ASSERT_EQ(proposed.size(), 1u);
  EXPECT_EQ(proposed[0].object, entry->id);
  EXPECT_EQ(proposed[0].actor, "ivy");
  EXPECT_EQ(proposed[0].legal_basis_ref, "WL-1");
  EXPECT_EQ(proposed[0].purpose, "wanted_suspect");
  EXPECT_EQ(proposed[0].result, PolicyResult::kOk);
  // The details are metadata: no embedding values.
  EXPECT_THAT(proposed[0].details, HasSubstr("\"embeddings\":1"));
  EXPECT_EQ(proposed[0].details.find(std::to_string(person[0]).substr(0, 7)), std::string::npos);
  EXPECT_EQ(Records(PolicyAction::kApprovalRequest).size(), 1u);

  ASSERT_EQ(store_->Approve(kIvy, entry->id).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Records(PolicyAction::kApprovalApprove).back().result, PolicyResult::kDenied);
  ASSERT_TRUE(store_->Approve(kSam, entry->id).ok());
  EXPECT_EQ(Records(PolicyAction::kApprovalApprove).back().result, PolicyResult::kOk);
  ASSERT_EQ(Records(PolicyAction::kWatchlistActivate).size(), 1u);
  EXPECT_EQ(Records(PolicyAction::kWatchlistActivate)[0].actor, "sam");

  // The audit log refuses: the withdrawal does not happen.
  auditor_.FailWith(absl::UnavailableError("audit disk full"));
  auto withdrawn = store_->Withdraw(kIvy, entry->id, "arrested");
  ASSERT_EQ(withdrawn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(withdrawn.status().message(), HasSubstr("nothing was changed"));
  EXPECT_EQ(store_->Get(entry->id)->status, EntryStatus::kActive);
  EXPECT_TRUE(MatchAt(person, kT0));
  // Nor does a proposal.
  EXPECT_EQ(store_->Propose(kIvy, Spec("other"), {RandomUnit(5)}).status().code(),
            absl::StatusCode::kUnavailable);
  auditor_.FailWith(absl::OkStatus());
  EXPECT_EQ(store_->List()->size(), 1u);
  ASSERT_TRUE(store_->Withdraw(kIvy, entry->id, "arrested").ok());
  auto withdraw = Records(PolicyAction::kWatchlistWithdraw);
  ASSERT_EQ(withdraw.size(), 1u);
  EXPECT_EQ(withdraw[0].reason, "arrested");
}

// ---- Live recognition ----

TEST_F(WatchlistTest, WithoutAnAuthorisationNothingRunsNotEvenDetection) {
  const face::Embedding person = RandomUnit(1);
  Enrol(person);
  faces_.Set(Near(person, 2));
  MakeRecognizer();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(Frame(kT0 + i * 1000).empty());
  EXPECT_EQ(faces_.calls, 0);
  EXPECT_EQ(recognizer_->stats().refused_by_rule.at("face.no_authorisation"), 10);
  // An authorisation for another camera does not help.
  Authorise({"yard"}, kT0, kT0 + kDay);
  for (int i = 10; i < 20; ++i) EXPECT_TRUE(Frame(kT0 + i * 1000).empty());
  EXPECT_EQ(faces_.calls, 0);
}

TEST_F(WatchlistTest, AnAuthorisedCameraMatchesWhenTheQualityWeightedVoteDecides) {
  const face::Embedding person = RandomUnit(1);
  const WatchlistEntry entry = Enrol(person);
  Authorise({"gate"}, kT0, kT0 + kHour);
  faces_.Set(Near(person, 2));
  MakeRecognizer();
  // First attempt: one agreeing vote, not yet decided.
  EXPECT_TRUE(Frame(kT0).empty());
  EXPECT_EQ(faces_.calls, 1);
  // Within the minimum interval: no attempt.
  EXPECT_TRUE(Frame(kT0 + 100).empty());
  EXPECT_EQ(faces_.calls, 1);
  std::vector<FaceMatch> matches = Frame(kT0 + 400);
  ASSERT_EQ(matches.size(), 1u);
  const FaceMatch& m = matches[0];
  EXPECT_EQ(m.entry_id, entry.id);
  EXPECT_EQ(m.label, entry.label);
  EXPECT_EQ(m.camera, "gate");
  EXPECT_EQ(m.track_id, 7);
  EXPECT_EQ(m.agreeing, 2);
  EXPECT_GE(m.score, 0.9f);
  EXPECT_FLOAT_EQ(m.vote_share, 1.0f);
  ASSERT_GT(m.crop_jpeg.size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>(m.crop_jpeg[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(m.crop_jpeg[1]), 0xD8);
  // Decided: no further attempts on this track.
  EXPECT_TRUE(Frame(kT0 + 2000).empty());
  EXPECT_EQ(faces_.calls, 2);
  // The authorisation's window ends: off again.
  EXPECT_TRUE(Frame(kT0 + kHour).empty());
  EXPECT_EQ(faces_.calls, 2);
}

TEST_F(WatchlistTest, InsideAProtectedAssemblyFaceRecognitionIsOff) {
  const face::Embedding person = RandomUnit(1);
  Enrol(person);
  Authorise({"gate"}, kT0, kT0 + kDay);
  policy::ProtectedAssembly march;
  march.name = "May Day march";
  march.kind = policy::AssemblyKind::kDemonstration;
  march.targets = {{"gate", "square"}};
  march.start_ms = kT0;
  march.end_ms = kT0 + kHour;
  ASSERT_TRUE(policy_->AddProtectedAssembly(kAdmin, march).ok());
  faces_.Set(Near(person, 2));
  MakeRecognizer();
  // Whole view (zones unknown) and a person in the protected zone: off.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Frame(kT0 + i * 1000).empty());
  for (int i = 5; i < 10; ++i) {
    EXPECT_TRUE(Frame(kT0 + i * 1000, "gate", std::vector<std::string>{"square"}).empty());
  }
  EXPECT_EQ(faces_.calls, 0);
  EXPECT_EQ(recognizer_->stats().refused_by_rule.at("face.protected_assembly"), 10);
  // After the assembly, recognition resumes.
  EXPECT_TRUE(Frame(kT0 + kHour).empty());
  EXPECT_EQ(Frame(kT0 + kHour + 1000).size(), 1u);
}

TEST_F(WatchlistTest, AnEntryExpiredOrWithdrawnMidTrackDecidesNothing) {
  const face::Embedding person = RandomUnit(1);
  const WatchlistEntry entry = Enrol(person);
  Authorise({"gate"}, kT0, kT0 + kDay);
  faces_.Set(Near(person, 2));
  MakeRecognizer();
  EXPECT_TRUE(Frame(kT0).empty());  // One vote.
  ASSERT_TRUE(store_->Withdraw(kSam, entry.id, "found").ok());
  for (int i = 1; i < 10; ++i) EXPECT_TRUE(Frame(kT0 + i * 500).empty());
  // No active entry left: the face detector is not even run.
  EXPECT_EQ(faces_.calls, 1);
  EXPECT_EQ(recognizer_->stats().empty_watchlist_frames, 9);
}

TEST_F(WatchlistTest, AnEntryExpiringMidTrackStopsTheRecognizerAtItsExpiry) {
  const face::Embedding person = RandomUnit(1);
  ProposalSpec spec = Spec();
  spec.expires_ms = kT0 + 1000;
  auto entry = store_->Propose(kIvy, spec, {person});
  ASSERT_TRUE(entry.ok()) << entry.status();
  ASSERT_TRUE(store_->Approve(kSam, entry->id).ok());
  Authorise({"gate"}, kT0, kT0 + kDay);
  faces_.Set(Near(person, 2));
  MakeRecognizer();
  EXPECT_TRUE(Frame(kT0 + 500).empty());  // One vote, before the expiry.
  // The frame at the expiry: no active entry, nothing runs, nothing decided.
  EXPECT_TRUE(Frame(kT0 + 1000).empty());
  EXPECT_TRUE(Frame(kT0 + 1500).empty());
  EXPECT_EQ(faces_.calls, 1);
  EXPECT_EQ(recognizer_->stats().matches, 0);
}

TEST_F(WatchlistTest, FacesMatchingNobodyDecideNothingAndLowQualityFacesDoNotVote) {
  Enrol(RandomUnit(1));
  Authorise({"gate"}, kT0, kT0 + kDay);
  MakeRecognizer();
  faces_.Set(RandomUnit(9));
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(Frame(kT0 + i * 500).empty());
  EXPECT_EQ(recognizer_->stats().embedded, 8);  // max_embeddings_per_track.
  EXPECT_EQ(recognizer_->stats().candidate_hits, 0);
  // A new track whose faces fail the gate: attempts until the budget, no embeddings.
  faces_.Set({}, false);
  const cv::Mat frame(360, 640, CV_8UC3, cv::Scalar(120, 130, 140));
  for (int i = 0; i < 40; ++i) {
    const std::vector<PersonTrack> tracks = {{8, {100, 40, 120, 300}, false, std::nullopt}};
    ASSERT_TRUE(recognizer_->ProcessFrame("gate", kT0 + 20000 + i * 500, frame, tracks).ok());
  }
  EXPECT_EQ(recognizer_->stats().low_quality, 20);  // max_attempts_per_track.
  EXPECT_EQ(recognizer_->stats().embedded, 8);
}

TEST_F(WatchlistTest, AMinorityOfMatchingAttemptsDoesNotDecide) {
  const face::Embedding person = RandomUnit(1);
  Enrol(person);
  Authorise({"gate"}, kT0, kT0 + kDay);
  RecognizerOptions options;
  options.max_embeddings_per_track = 6;
  MakeRecognizer(options);
  // Four faces of someone else, then two of the enrolled person: 2 of 6 votes.
  int64_t t = kT0;
  for (int i = 0; i < 4; ++i, t += 500) {
    faces_.Set(RandomUnit(20 + i));
    EXPECT_TRUE(Frame(t).empty());
  }
  for (int i = 0; i < 2; ++i, t += 500) {
    faces_.Set(Near(person, 30 + i));
    EXPECT_TRUE(Frame(t).empty());
  }
  EXPECT_EQ(recognizer_->stats().candidate_hits, 2);
  EXPECT_EQ(recognizer_->stats().matches, 0);
}

TEST_F(WatchlistTest, EnrolmentPhotosFailingTheQualityGateAreRefusedWithTheReason) {
  const std::vector<cv::Mat> photos = {cv::Mat(200, 200, CV_8UC3, cv::Scalar(1, 2, 3))};
  faces_.Set({}, false);
  auto embeddings = EmbedEnrolmentPhotos(faces_, photos);
  ASSERT_EQ(embeddings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(embeddings.status().message(), HasSubstr("photo 1: the face fails the quality gate"));
  EXPECT_THAT(embeddings.status().message(), HasSubstr("blurred"));
  faces_.face.reset();
  EXPECT_THAT(EmbedEnrolmentPhotos(faces_, photos).status().message(), HasSubstr("no face found"));
  EXPECT_EQ(DecodePhoto("not an image").status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- Matches ----

TEST_F(WatchlistTest, MatchesAreStoredSealedAndOperatorsConfirmOrRejectThemOnRecord) {
  MatchStoreOptions mopts;
  mopts.path = (dir_ / "face_matches.db").string();
  mopts.key_path = options_.key_path;
  auto created = MatchStore::Create(mopts, {&clock_, &auditor_});
  ASSERT_TRUE(created.ok()) << created.status();
  matches_ = *std::move(created);

  std::vector<unsigned char> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", cv::Mat(40, 40, CV_8UC3, cv::Scalar(9, 99, 199)), jpeg));
  FaceMatch match;
  match.entry_id = "01ENTRY";
  match.label = "Case 114";
  match.score = 0.934f;
  match.camera = "gate";
  match.track_id = 7;
  match.time_ms = kT0;
  match.crop_jpeg.assign(jpeg.begin(), jpeg.end());
  auto a = matches_->Record(match);
  ASSERT_TRUE(a.ok()) << a.status();
  match.time_ms = kT0 + 40 * kDay;  // Next month.
  auto b = matches_->Record(match);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(Records(PolicyAction::kFaceMatchRecord).size(), 2u);
  EXPECT_EQ(Records(PolicyAction::kFaceMatchRecord)[0].actor, "system");

  // The crop is sealed: no JPEG in the file.
  const std::string bytes = ReadFile(mopts.path) + ReadFile(mopts.path + "-wal");
  EXPECT_EQ(bytes.find("\xFF\xD8\xFF"), std::string::npos);
  auto got = matches_->Get(a->id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->match.crop_jpeg, match.crop_jpeg);
  EXPECT_NEAR(got->match.score, 0.934f, 1e-4);
  EXPECT_EQ(got->status, MatchStatus::kLead);

  EXPECT_EQ(matches_->Confirm(kVic, a->id, "").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Records(PolicyAction::kFaceMatchConfirm).back().result, PolicyResult::kDenied);
  auto confirmed = matches_->Confirm(kOtto, a->id, "stopped and identified");
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(confirmed->status, MatchStatus::kConfirmed);
  EXPECT_EQ(confirmed->decided_by, "otto");
  EXPECT_EQ(matches_->Reject(kOtto, a->id, "oops").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(matches_->Reject(kOtto, b->id, "").status().code(), absl::StatusCode::kInvalidArgument);
  auditor_.FailWith(absl::UnavailableError("audit down"));
  EXPECT_EQ(matches_->Reject(kOtto, b->id, "different person").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(matches_->Get(b->id)->status, MatchStatus::kLead);
  auditor_.FailWith(absl::OkStatus());
  ASSERT_TRUE(matches_->Reject(kOtto, b->id, "different person").ok());
  EXPECT_EQ(Records(PolicyAction::kFaceMatchReject).back().reason, "different person");

  auto counts = matches_->MonthlyCounts();
  ASSERT_TRUE(counts.ok()) << counts.status();
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0].month, "2026-11");
  EXPECT_EQ((*counts)[0].matches, 1);
  EXPECT_EQ((*counts)[0].confirmed, 1);
  EXPECT_EQ((*counts)[0].rejected, 0);
  EXPECT_EQ((*counts)[1].month, "2027-01");
  EXPECT_EQ((*counts)[1].rejected, 1);
  auto leads = matches_->List({MatchStatus::kLead, "", 0, 0, 100});
  ASSERT_TRUE(leads.ok());
  EXPECT_TRUE(leads->empty());
  EXPECT_EQ(matches_->List({})->size(), 2u);
}

}  // namespace
}  // namespace custos::watchlist
