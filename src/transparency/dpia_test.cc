#include "transparency/dpia.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/merkle.h"
#include "core/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/policy_engine.h"
#include "transparency/markdown_html.h"
#include "transparency/pdf.h"

namespace custos::transparency {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kT0 = 1'795'651'200'000;  // 2026-11-26 00:00 UTC.
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

const auth::Principal kAdmin{auth::Principal::Kind::kUser, 1, "root", auth::Role::kAdmin};
const auth::Principal kSam{auth::Principal::Kind::kUser, 3, "sam", auth::Role::kSupervisor};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The row of the per-camera table (section 5) for `id`.
std::string CameraRow(const std::string& markdown, const std::string& id) {
  const std::string start = "| `" + id + "` |";
  const size_t section = markdown.find("## 5. Cameras");
  if (section == std::string::npos) return "";
  const size_t row = markdown.find(start, section);
  if (row == std::string::npos) return "";
  return markdown.substr(row, markdown.find('\n', row) - row);
}

TEST(Dpia, DemoConfigDraftNamesEveryCameraItsPurposeAndRetention) {
  const std::string path = std::string(CUSTOS_SOURCE_DIR) + "/examples/demo.yaml";
  FakeClock clock(kT0 + 3 * kHour + 25 * 60'000);
  GatherOptions options;
  options.config_path = path;
  options.clock = &clock;
  absl::StatusOr<DpiaInput> input = GatherDpiaInput(options);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->config_sha256, audit::HashToHex(audit::Sha256(ReadFile(path))));
  const std::string md = RenderDpiaMarkdown(*input);

  for (const std::string& title : DpiaSectionTitles()) {
    EXPECT_THAT(md, HasSubstr("\n## " + title + "\n")) << title;
  }
  EXPECT_THAT(md, HasSubstr("2026-11-26T03:25:00.000Z"));
  EXPECT_THAT(md, HasSubstr(input->config_sha256));
  EXPECT_THAT(md, HasSubstr("Custos demo"));
  EXPECT_THAT(md, HasSubstr("Custos demo (sample videos)"));  // server.operator
  ASSERT_EQ(input->config.cameras.size(), 3u);
  for (const config::CameraConfig& camera : input->config.cameras) {
    const std::string row = CameraRow(md, camera.id);
    ASSERT_FALSE(row.empty()) << camera.id;
    EXPECT_THAT(row, HasSubstr(camera.purpose));
    EXPECT_THAT(row, HasSubstr("72 h (3 days)"));  // retention.video_hours of demo.yaml
    EXPECT_THAT(row, HasSubstr("30 days"));        // the events default
    EXPECT_THAT(row, HasSubstr("continuous"));
    // No data directory: no authorisation is known, so face recognition is shown off.
    EXPECT_THAT(row, HasSubstr("**off** unless the server's policy database holds"));
    EXPECT_THAT(row, Not(HasSubstr("**on**")));
  }
  // The road camera reads plates: said in the description, the data kinds and its row.
  EXPECT_THAT(CameraRow(md, "road"), HasSubstr("yes: reads kept 72 h (3 days)"));
  EXPECT_THAT(CameraRow(md, "plaza"), HasSubstr("off (not configured)"));
  EXPECT_THAT(md, HasSubstr("plate reading: at `road`."));
  EXPECT_THAT(md, HasSubstr("| plate reads | plate text"));
  EXPECT_THAT(md, Not(HasSubstr("no plate reader is configured")));
  EXPECT_THAT(md, HasSubstr("faces, the head end of people and licence plates obscured"));
  EXPECT_THAT(CameraRow(md, "plaza"), HasSubstr("`crossing`"));
  EXPECT_THAT(CameraRow(md, "plaza"), HasSubstr("loitering after 20 s"));
  EXPECT_THAT(md, HasSubstr("TODO(DPO)"));
  EXPECT_THAT(md, HasSubstr("no data directory given"));
  EXPECT_THAT(md, HasSubstr("Not read: no data directory was given"));
}

TEST(Dpia, RenderingIsAFunctionOfTheInput) {
  FakeClock clock(kT0);
  GatherOptions options;
  options.config_path = std::string(CUSTOS_SOURCE_DIR) + "/examples/demo.yaml";
  options.clock = &clock;
  absl::StatusOr<DpiaInput> input = GatherDpiaInput(options);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(RenderDpiaMarkdown(*input), RenderDpiaMarkdown(*input));
  DpiaInput changed = *input;
  changed.config.cameras[0].purpose = "Counting bicycles on the bridge";
  changed.config.retention.video_hours = 36;
  const std::string md = RenderDpiaMarkdown(changed);
  EXPECT_THAT(CameraRow(md, "plaza"), HasSubstr("Counting bicycles on the bridge"));
  EXPECT_THAT(CameraRow(md, "plaza"), HasSubstr("36 h"));
  EXPECT_THAT(md, Not(HasSubstr("pedestrian counts")));

  // Blurring and plate reading as configured.
  changed.face_blurring_available = true;
  EXPECT_THAT(RenderDpiaMarkdown(changed), HasSubstr("Faces and licence plates are blurred"));
  ASSERT_EQ(changed.config.cameras[2].id, "road");
  changed.config.cameras[2].read_plates = false;
  EXPECT_THAT(RenderDpiaMarkdown(changed), Not(HasSubstr("Licence plates are read on")));
  EXPECT_THAT(RenderDpiaMarkdown(changed), HasSubstr("no plate reader is configured"));
  changed.config.privacy.mask_plates = false;
  changed.config.cameras[0].read_plates = true;
  changed.config.retention.plate_reads_hours = 48;
  const std::string plates = RenderDpiaMarkdown(changed);
  EXPECT_THAT(plates, HasSubstr("Licence plates are **not** blurred"));
  EXPECT_THAT(plates, HasSubstr("Licence plates are read on plaza; reads are kept 48 h"));
}

class DpiaWithPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("custos-dpia");
    data_dir_ = dir_ / "data";
    fs::create_directories(data_dir_);
    config_path_ = dir_ / "city.yaml";
    WriteFile(config_path_, R"(cameras:
  - id: gate
    name: North gate
    url: rtsp://192.0.2.10/stream
    purpose: Search for missing persons at the station gate
    location: {lat: 52.52, lon: 13.405}
    zones:
      - name: square
        polygon: [[0, 0], [1, 0], [1, 1]]
  - id: yard
    name: Depot yard | night <shift>
    url: rtsp://192.0.2.11/stream
    purpose: Protection of the bus depot against theft
    location: {lat: 52.6, lon: 13.5}
    record: {mode: events}
    retention: {video_hours: 48}
  - id: lobby
    url: rtsp://192.0.2.12/stream
    record: {mode: off}
retention:
  video_hours: 96
  events_days: 14
server:
  site_name: Example City video protection
  operator: City of Example, Public Order Office
)");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A policy database with a face authorisation for `gate`, a protected assembly at `yard`
  // and a retention override for `yard`, written by the engine as the server would.
  void WritePolicy() {
    absl::StatusOr<config::Config> config = config::LoadConfig(config_path_.string());
    ASSERT_TRUE(config.ok()) << config.status();
    policy::InMemoryPolicyAuditor auditor;
    policy::PolicyEngineOptions options;
    options.path = (data_dir_ / "policy.db").string();
    options.cameras = policy::CamerasFromConfig(*config);
    absl::StatusOr<std::unique_ptr<policy::PolicyEngine>> engine =
        policy::PolicyEngine::Create(options, {&clock_, &auditor, nullptr});
    ASSERT_TRUE(engine.ok()) << engine.status();
    policy::LegalBasis basis;
    basis.reference = "AG Example 12 Gs 345/26";
    basis.type = policy::LegalBasisType::kCourtOrder;
    basis.issuing_authority = "Amtsgericht Example";
    basis.scope.cameras = {"gate"};
    basis.scope.acts = {policy::Act::kFaceRecognition};
    basis.valid_from_ms = kT0 - kDay;
    basis.expires_ms = kT0 + 30 * kDay;
    ASSERT_TRUE((*engine)->AddLegalBasis(kAdmin, basis).ok());
    absl::StatusOr<policy::ApprovalRequest> request = (*engine)->RequestApproval(
        kAdmin, {policy::ApprovalKind::kFaceAuthorisation, "missing child search", basis.reference,
                 "gate", "child missing since yesterday"});
    ASSERT_TRUE(request.ok()) << request.status();
    ASSERT_TRUE((*engine)->Approve(kSam, request->id).ok());
    policy::FaceAuthorisation face;
    face.name = "missing child search";
    face.legal_basis_ref = basis.reference;
    face.approval_id = request->id;
    face.cameras = {"gate"};
    face.start_ms = kT0;
    face.end_ms = kT0 + 2 * kDay;
    face.purpose = policy::FacePurpose::kMissingPerson;
    face.issuing_authority = "Amtsgericht Example";
    face.expires_ms = kT0 + 3 * kDay;
    absl::StatusOr<policy::FaceAuthorisation> added = (*engine)->AddFaceAuthorisation(kAdmin, face);
    ASSERT_TRUE(added.ok()) << added.status();
    policy::ProtectedAssembly march;
    march.name = "May Day march";
    march.kind = policy::AssemblyKind::kDemonstration;
    march.targets = {{"yard", ""}};
    march.start_ms = kT0 + 5 * kDay;
    march.end_ms = kT0 + 5 * kDay + 6 * kHour;
    ASSERT_TRUE((*engine)->AddProtectedAssembly(kAdmin, march).ok());
    ASSERT_TRUE(
        (*engine)->SetRetention(kAdmin, "yard", retention::DataKind::kVideo, 24 * kHour).ok());
  }

  absl::StatusOr<DpiaInput> Gather() {
    GatherOptions options;
    options.config_path = config_path_.string();
    options.data_dir = data_dir_.string();
    options.clock = &clock_;
    return GatherDpiaInput(options);
  }

  FakeClock clock_{kT0 + kHour};
  fs::path dir_;
  fs::path data_dir_;
  fs::path config_path_;
};

TEST_F(DpiaWithPolicyTest, FaceRecognitionIsOnOnlyWhereAnAuthorisationIsInForce) {
  WritePolicy();
  const std::string policy_before = ReadFile(data_dir_ / "policy.db");
  absl::StatusOr<DpiaInput> input = Gather();
  ASSERT_TRUE(input.ok()) << input.status();
  ASSERT_TRUE(input->policy.has_value());
  const std::string md = RenderDpiaMarkdown(*input);

  const std::string gate = CameraRow(md, "gate");
  const std::string yard = CameraRow(md, "yard");
  const std::string lobby = CameraRow(md, "lobby");
  ASSERT_FALSE(gate.empty());
  ASSERT_FALSE(yard.empty());
  ASSERT_FALSE(lobby.empty());
  EXPECT_THAT(gate, HasSubstr("**on**"));
  EXPECT_THAT(gate, HasSubstr("missing child search"));
  EXPECT_THAT(gate, HasSubstr("AG Example 12 Gs 345/26"));  // Its legal basis.
  EXPECT_THAT(yard, HasSubstr("**off**"));
  EXPECT_THAT(yard, Not(HasSubstr("**on**")));
  EXPECT_THAT(lobby, HasSubstr("**off**"));
  EXPECT_THAT(lobby, Not(HasSubstr("**on**")));

  // Purposes and retention of each camera: the camera's own setting, the policy override,
  // the configuration default; a camera without a purpose is an open point.
  EXPECT_THAT(gate, HasSubstr("Search for missing persons at the station gate"));
  EXPECT_THAT(gate, HasSubstr("96 h (4 days) (configuration default)"));
  EXPECT_THAT(gate, HasSubstr("14 days"));
  EXPECT_THAT(yard, HasSubstr("Protection of the bus depot against theft"));
  EXPECT_THAT(yard, HasSubstr("24 h (policy override)"));
  EXPECT_THAT(yard, HasSubstr("only while objects are tracked"));
  EXPECT_THAT(lobby, HasSubstr("not recorded"));
  EXPECT_THAT(lobby, HasSubstr("TODO(DPO):** none stated"));
  EXPECT_THAT(md, HasSubstr("camera `lobby` has no purpose"));
  // A name with table and HTML syntax stays inside its cell.
  EXPECT_THAT(yard, HasSubstr("Depot yard \\| night \\<shift\\>"));

  // Safeguards in force come from the policy state.
  EXPECT_THAT(md, HasSubstr("May Day march"));
  EXPECT_THAT(md, HasSubstr("upcoming"));
  EXPECT_THAT(md, HasSubstr("Override for camera `yard`: video 1 day"));
  EXPECT_THAT(md, HasSubstr("| face_authorisation | 0 | 1 | 0 | 0 |"));
  EXPECT_THAT(md, HasSubstr("on now at `gate`"));
  EXPECT_THAT(md, HasSubstr("City of Example, Public Order Office"));
  // Reading changed nothing.
  EXPECT_EQ(ReadFile(data_dir_ / "policy.db"), policy_before);
}

TEST_F(DpiaWithPolicyTest, AuthorisationOutsideItsWindowLeavesFaceRecognitionOff) {
  WritePolicy();
  clock_.AdvanceMs(3 * kDay);  // The window [T0, T0 + 2 days) is over.
  absl::StatusOr<DpiaInput> input = Gather();
  ASSERT_TRUE(input.ok()) << input.status();
  const std::string md = RenderDpiaMarkdown(*input);
  EXPECT_THAT(CameraRow(md, "gate"), HasSubstr("**off**"));
  EXPECT_THAT(md, Not(HasSubstr("**on**")));
  EXPECT_THAT(md, HasSubstr("remote (face recognition is off at every camera)"));
}

TEST_F(DpiaWithPolicyTest, DescribesTheAuditLogAndItsLatestCheckpoint) {
  {
    audit::AuditLogOptions options;
    options.data_dir = data_dir_.string();
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<audit::AuditLog>> log = audit::AuditLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 3; ++i) {
      audit::AuditEntry entry;
      entry.actor = "admin";
      entry.role = "admin";
      entry.action = "login";
      entry.result = "ok";
      ASSERT_TRUE((*log)->Append(entry).ok());
    }
    ASSERT_TRUE((*log)->Checkpoint().ok());
  }
  absl::StatusOr<DpiaInput> input = Gather();
  ASSERT_TRUE(input.ok()) << input.status();
  ASSERT_TRUE(input->audit.has_value());
  EXPECT_EQ(input->audit->checkpoint_size, 3u);
  EXPECT_FALSE(input->policy.has_value());  // No policy.db: nothing was created.
  EXPECT_FALSE(fs::exists(data_dir_ / "policy.db"));
  const std::string md = RenderDpiaMarkdown(*input);
  EXPECT_THAT(md, HasSubstr("Latest signed checkpoint: 3 entries, root hash `" +
                            input->audit->checkpoint_root_hex + "`"));
  EXPECT_THAT(md, HasSubstr(input->audit->verifier_key));
  EXPECT_THAT(md, HasSubstr("no policy database"));
}

TEST_F(DpiaWithPolicyTest, APolicyDatabaseOfAnOlderSchemaIsRefusedUntouched) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_dir_ / "policy.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "CREATE TABLE legal_bases (reference TEXT)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  const std::string before = ReadFile(data_dir_ / "policy.db");
  absl::StatusOr<DpiaInput> input = Gather();
  EXPECT_EQ(input.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(input.status().message(), HasSubstr("does not migrate it"));
  EXPECT_EQ(ReadFile(data_dir_ / "policy.db"), before);
}

TEST_F(DpiaWithPolicyTest, MissingDataDirectoryIsAClearError) {
  GatherOptions options;
  options.config_path = config_path_.string();
  options.data_dir = (dir_ / "nope").string();
  absl::StatusOr<DpiaInput> input = GatherDpiaInput(options);
  EXPECT_EQ(input.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(input.status().message(), HasSubstr("does not exist"));
}

TEST(Dpia, BadConfigGivesTheLoadersErrorWithItsLine) {
  const fs::path dir = custos::testing::TempDir("custos-dpia-bad");
  WriteFile(dir / "bad.yaml", "cameras:\n  - id: gate\n    url: x.mp4\n    purpos: typo\n");
  GatherOptions options;
  options.config_path = (dir / "bad.yaml").string();
  absl::StatusOr<DpiaInput> input = GatherDpiaInput(options);
  EXPECT_EQ(input.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(input.status().message(), HasSubstr("bad.yaml:4:5"));
  EXPECT_THAT(input.status().message(), HasSubstr("did you mean 'purpose'"));
  options.config_path = (dir / "missing.yaml").string();
  EXPECT_EQ(GatherDpiaInput(options).status().code(), absl::StatusCode::kNotFound);
  fs::remove_all(dir);
}

TEST(Pdf, WithoutChromiumTheErrorSaysThePdfNeedsIt) {
  PdfOptions options;
  options.chromium = "/nonexistent/chromium";
  absl::Status status = WritePdf("/nonexistent.html", "/tmp/never.pdf", options);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);  // The HTML is checked first.
  const fs::path dir = custos::testing::TempDir("custos-dpia-pdf");
  WriteFile(dir / "a.html", RenderDpiaHtml("# A\n"));
  status = WritePdf((dir / "a.html").string(), (dir / "a.pdf").string(), options);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("the PDF needs Chromium"));
  EXPECT_FALSE(fs::exists(dir / "a.pdf"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::transparency
