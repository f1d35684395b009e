// The watchlist with the real models (OpenVINO face detector, dlib embedder, nanodet person
// detector) on ../shared/data: enrolment from photos, matching only the enrolled person, the
// recognizer on person tracks, and the minimisation scan — the person video run through the
// pipeline and the recognizer under an active authorisation, then every file written searched
// for the embeddings the recognizer computed and for face crops.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/testing.h"
#include "face/face_analyzer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "infer/inference_service.h"
#include "infer/model_manifest.h"
#include "infer/openvino_detector.h"
#include "ingest/video_source.h"
#include "pipeline/camera_pipeline.h"
#include "watchlist/enrolment.h"
#include "watchlist/match_store.h"
#include "watchlist/track_face_recognizer.h"
#include "watchlist/watchlist_matcher.h"
#include "watchlist/watchlist_store.h"

namespace custos::watchlist {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'795'651'200'000;  // 2026-11-26 00:00 UTC.
constexpr int64_t kDay = 24 * 3'600'000LL;
constexpr char kVideo[] = "video/one-by-one-person-detection.mp4";

const auth::Principal kAdmin{auth::Principal::Kind::kUser, 1, "root", auth::Role::kAdmin};
const auth::Principal kIvy{auth::Principal::Kind::kUser, 2, "ivy", auth::Role::kInvestigator};
const auth::Principal kSam{auth::Principal::Kind::kUser, 3, "sam", auth::Role::kSupervisor};

face::FaceAnalyzer* MakeAnalyzer(const face::QualityOptions& quality) {
  face::FaceAnalyzerOptions options;
  options.quality = quality;
  auto a = face::FaceAnalyzer::Create(infer::DefaultManifestPath(), infer::DefaultModelsDir(),
                                      face::kDefaultDetector, face::kDefaultEmbedder, options);
  if (!a.ok()) {
    std::fprintf(stderr, "face models unavailable: %s\n", a.status().ToString().c_str());
    return nullptr;
  }
  return a->release();
}

// The production quality gate.
face::FaceAnalyzer* Analyzer() {
  static face::FaceAnalyzer* analyzer = MakeAnalyzer({});
  return analyzer;
}

// A gate that lets every detected face through to the embedder: the video holds no face the
// production gate accepts (docs/face.md), and the minimisation scan needs embeddings of faces
// that match nobody to search for.
face::FaceAnalyzer* PermissiveAnalyzer() {
  static face::FaceAnalyzer* analyzer = [] {
    face::QualityOptions q;
    q.min_face_px = 12;
    q.min_sharpness = 0;
    q.max_yaw = 100;
    q.min_pitch = -100;
    q.max_pitch = 100;
    q.min_eye_ratio = 0;
    return MakeAnalyzer(q);
  }();
  return analyzer;
}

#define REQUIRE_MODELS()                                                                       \
  if (!fs::exists(infer::DefaultModelsDir() + "/dlib_face_recognition_resnet_model_v1.dat") || \
      !fs::exists(infer::DefaultModelsDir() + "/mediapipe-face-full.xml"))                     \
    GTEST_SKIP() << "face models not provisioned in " << infer::DefaultModelsDir()             \
                 << " (tools/models/provision.py)";                                            \
  ASSERT_NE(Analyzer(), nullptr)

absl::StatusOr<std::unique_ptr<Detector>> LoadPersonDetector() {
  auto specs = infer::LoadManifest(infer::DefaultManifestPath(), infer::DefaultModelsDir());
  if (!specs.ok()) return specs.status();
  auto spec = infer::FindModel(*specs, "nanodet-coco");
  if (!spec.ok()) return spec.status();
  if (!fs::exists(spec->FilePath())) {
    return absl::NotFoundError("model not provisioned: " + spec->FilePath());
  }
  auto detector = infer::OpenVinoDetector::Create(*spec, {});
  if (!detector.ok()) return detector.status();
  auto service = infer::InferenceService::Create(*std::move(detector), {});
  if (!service.ok()) return service.status();
  return std::unique_ptr<Detector>(*std::move(service));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

cv::Mat Photo(const std::string& dir, const std::string& name) {
  auto image = DecodePhoto(ReadFile(fs::path(dir) / name));
  EXPECT_TRUE(image.ok()) << name << ": " << image.status();
  return image.ok() ? *image : cv::Mat();
}

// Everything the server would set up under DATA_DIR, with one authorised camera.
class WatchlistModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = custos::testing::TempDir("custos-watchlist-model");
    policy::PolicyEngineOptions popts;
    popts.path = (data_ / "policy.db").string();
    popts.cameras = {{"entrance", std::nullopt, {}}};
    auto engine = policy::PolicyEngine::Create(popts, {&clock_, &auditor_, nullptr});
    ASSERT_TRUE(engine.ok()) << engine.status();
    policy_ = *std::move(engine);
    policy::LegalBasis basis;
    basis.reference = "AG 12 Gs 345/26";
    basis.type = policy::LegalBasisType::kCourtOrder;
    basis.issuing_authority = "Amtsgericht Musterstadt";
    basis.valid_from_ms = kT0 - kDay;
    basis.expires_ms = kT0 + 60 * kDay;
    ASSERT_TRUE(policy_->AddLegalBasis(kAdmin, basis).ok());
    WatchlistOptions wopts;
    wopts.path = (data_ / "watchlist.db").string();
    wopts.key_path = (data_ / "keys" / "watchlist.key").string();
    auto store = WatchlistStore::Create(wopts, {&clock_, policy_.get(), &auditor_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    MatcherOptions mopts;
    mopts.match_threshold = Analyzer() ? Analyzer()->match_threshold() : 0.9f;
    auto matcher = WatchlistMatcher::Create(mopts, store_.get());
    ASSERT_TRUE(matcher.ok());
    matcher_ = *std::move(matcher);
    MatchStoreOptions sopts;
    sopts.path = (data_ / "face_matches.db").string();
    sopts.key_path = wopts.key_path;
    auto matches = MatchStore::Create(sopts, {&clock_, &auditor_});
    ASSERT_TRUE(matches.ok()) << matches.status();
    matches_ = *std::move(matches);
  }
  void TearDown() override {
    matches_.reset();
    matcher_.reset();
    store_.reset();
    policy_.reset();
    fs::remove_all(data_);
  }

  void Authorise(int64_t start_ms, int64_t end_ms) {
    auto request = policy_->RequestApproval(kAdmin, {policy::ApprovalKind::kFaceAuthorisation,
                                                     "search", "AG 12 Gs 345/26", "", "manhunt"});
    ASSERT_TRUE(request.ok()) << request.status();
    ASSERT_TRUE(policy_->Approve(kSam, request->id).ok());
    policy::FaceAuthorisation a;
    a.name = "search";
    a.legal_basis_ref = "AG 12 Gs 345/26";
    a.approval_id = request->id;
    a.cameras = {"entrance"};
    a.start_ms = start_ms;
    a.end_ms = end_ms;
    a.purpose = policy::FacePurpose::kWantedPerson;
    a.issuing_authority = "Amtsgericht Musterstadt";
    a.expires_ms = end_ms + kDay;
    ASSERT_TRUE(policy_->AddFaceAuthorisation(kAdmin, a).ok());
  }

  // Proposed by ivy, approved by sam.
  WatchlistEntry Enrol(const std::string& label, std::vector<face::Embedding> embeddings) {
    ProposalSpec spec;
    spec.label = label;
    spec.category = SubjectCategory::kWantedSuspect;
    spec.legal_basis_ref = "AG 12 Gs 345/26";
    spec.reason = "arrest warrant";
    auto entry = store_->Propose(kIvy, spec, embeddings);
    EXPECT_TRUE(entry.ok()) << entry.status();
    if (!entry.ok()) return {};
    auto active = store_->Approve(kSam, entry->id);
    EXPECT_TRUE(active.ok()) << active.status();
    return active.ok() ? *active : *entry;
  }

  fs::path data_;
  FakeClock clock_{kT0};
  policy::InMemoryPolicyAuditor auditor_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::unique_ptr<WatchlistStore> store_;
  std::unique_ptr<WatchlistMatcher> matcher_;
  std::unique_ptr<MatchStore> matches_;
};

TEST_F(WatchlistModelTest, EnrolsOnePersonFromPhotosAndMatchesOnlyThatPerson) {
  REQUIRE_MODELS();
  CUSTOS_REQUIRE_DATA(dir, custos::testing::SharedData("faces"));
  AnalyzerFaceSource faces(Analyzer());
  const std::vector<cv::Mat> enrol = {Photo(dir, "obama.jpg"), Photo(dir, "obama1.jpg")};
  auto embeddings = EmbedEnrolmentPhotos(faces, enrol);
  ASSERT_TRUE(embeddings.ok()) << embeddings.status();
  const WatchlistEntry entry = Enrol("Case 114 - B. O.", *embeddings);

  // A blurred photo is refused with the reason.
  cv::Mat blurred;
  cv::GaussianBlur(enrol[0], blurred, {0, 0}, 12);
  const std::vector<cv::Mat> bad = {enrol[1], blurred};
  auto refused = EmbedEnrolmentPhotos(faces, bad);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("photo 2: the face fails the quality gate"));
  EXPECT_THAT(refused.status().message(), HasSubstr("blurred"));

  std::printf("\n%-18s %7s  %s\n", "probe", "score", "hit");
  for (const char* name : {"obama2.jpg", "obama-240p.jpg", "obama-1080p.jpg", "obama_small.jpg",
                           "biden.jpg", "biden2.jpg"}) {
    auto face = Analyzer()->AnalyzeLargest(Photo(dir, name));
    ASSERT_TRUE(face.ok() && face->has_value() && (*face)->quality.passed) << name;
    float best = -1;
    for (const face::Embedding& e : *embeddings) {
      best = std::max(best, face::Similarity(e, (*face)->embedding));
    }
    auto hit = matcher_->Match((*face)->embedding, kT0);
    ASSERT_TRUE(hit.ok()) << hit.status();
    std::printf("%-18s %7.3f  %s\n", name, best, hit->has_value() ? "match" : "-");
    const bool same = std::string(name).starts_with("obama");
    EXPECT_EQ(hit->has_value(), same) << name << " score " << best;
    if (same && hit->has_value()) {
      EXPECT_EQ((*hit)->entry_id, entry.id);
    }
  }
  // The group photo: of its two faces, only Obama's (right, x ~ 1140 px) matches.
  auto group = Analyzer()->Analyze(Photo(dir, "obama_and_biden.jpg"));
  ASSERT_TRUE(group.ok());
  ASSERT_EQ(group->size(), 2u);
  int hits = 0;
  for (const face::AnalyzedFace& f : *group) {
    auto hit = matcher_->Match(f.embedding, kT0);
    ASSERT_TRUE(hit.ok());
    if (hit->has_value()) {
      ++hits;
      EXPECT_GT(f.detection.box.x, 900) << "the match is the face on the right";
    }
  }
  EXPECT_EQ(hits, 1);
}

// A frame as a street camera would see someone walking towards it: a person box whose head
// is the face of a photo (scaled to `face_px` wide), on a grey street.
cv::Mat StreetFrame(const cv::Mat& photo, const cv::Rect2f& face_box, int face_px,
                    cv::Rect& person) {
  cv::Mat frame(432, 768, CV_8UC3, cv::Scalar(110, 115, 120));
  const float m = 0.5f * face_box.width;
  const cv::Rect head_src =
      cv::Rect(static_cast<int>(face_box.x - m), static_cast<int>(face_box.y - m),
               static_cast<int>(face_box.width + 2 * m),
               static_cast<int>(face_box.height + 2 * m)) &
      cv::Rect(0, 0, photo.cols, photo.rows);
  const double scale = 2.0 * face_px / head_src.width;
  cv::Mat head;
  cv::resize(photo(head_src), head, {}, scale, scale, cv::INTER_AREA);
  const int x = 330, y = 20;
  head.copyTo(frame(cv::Rect(x, y, head.cols, head.rows)));
  const int body_w = head.cols + 30;
  cv::rectangle(frame, cv::Rect(x - 15, y + head.rows, body_w, 250), cv::Scalar(40, 40, 60),
                cv::FILLED);
  person = cv::Rect(x - 15, y - 5, body_w, head.rows + 255);
  return frame;
}

TEST_F(WatchlistModelTest, TheRecognizerRaisesOneLeadForAPersonTrackOfTheEnrolledPersonOnly) {
  REQUIRE_MODELS();
  CUSTOS_REQUIRE_DATA(dir, custos::testing::SharedData("faces"));
  AnalyzerFaceSource faces(Analyzer());
  const std::vector<cv::Mat> enrol = {Photo(dir, "obama.jpg"), Photo(dir, "obama1.jpg")};
  auto embeddings = EmbedEnrolmentPhotos(faces, enrol);
  ASSERT_TRUE(embeddings.ok()) << embeddings.status();
  const WatchlistEntry entry = Enrol("Case 114 - B. O.", *embeddings);
  Authorise(kT0, kT0 + kDay);
  auto recognizer = TrackFaceRecognizer::Create({}, policy_.get(), matcher_.get(), &faces);
  ASSERT_TRUE(recognizer.ok());

  double attempt_ms = 0;
  int frames = 0;
  std::vector<FaceMatch> all;
  int64_t t = kT0 + 1000;
  for (const auto& [name, track_id] :
       std::vector<std::pair<std::string, int64_t>>{{"biden2.jpg", 1}, {"obama2.jpg", 2}}) {
    const cv::Mat photo = Photo(dir, name);
    auto face = Analyzer()->AnalyzeLargest(photo);
    ASSERT_TRUE(face.ok() && face->has_value());
    for (int i = 0; i < 6; ++i, t += 400) {
      cv::Rect person;
      const cv::Mat frame = StreetFrame(photo, (*face)->detection.box, 70 + 5 * i, person);
      const std::vector<PersonTrack> tracks = {
          {track_id,
           {static_cast<float>(person.x), static_cast<float>(person.y),
            static_cast<float>(person.width), static_cast<float>(person.height)},
           false,
           std::nullopt}};
      const auto start = std::chrono::steady_clock::now();
      auto out = (*recognizer)->ProcessFrame("entrance", t, frame, tracks);
      attempt_ms +=
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      ++frames;
      ASSERT_TRUE(out.ok()) << out.status();
      for (FaceMatch& m : *out) all.push_back(std::move(m));
    }
  }
  const RecognizerStats& st = (*recognizer)->stats();
  // Frames without an attempt (interval, decided track) cost next to nothing.
  std::printf(
      "attempts %lld, embedded %lld, candidate hits %lld, matches %lld; %.0f ms per attempt "
      "(detect, align, embed, match), %d frames\n",
      static_cast<long long>(st.attempts), static_cast<long long>(st.embedded),
      static_cast<long long>(st.candidate_hits), static_cast<long long>(st.matches),
      attempt_ms / static_cast<double>(std::max<int64_t>(st.attempts, 1)), frames);
  ASSERT_EQ(all.size(), 1u);
  const FaceMatch& m = all[0];
  std::printf("match: score %.3f, %d of %d attempts agreeing, vote share %.2f, crop %zu bytes\n",
              m.score, m.agreeing, m.attempts, m.vote_share, m.crop_jpeg.size());
  EXPECT_EQ(m.entry_id, entry.id);
  EXPECT_EQ(m.track_id, 2);
  EXPECT_GE(m.score, 0.9f);
  const cv::Mat crop = cv::imdecode(cv::Mat(1, static_cast<int>(m.crop_jpeg.size()), CV_8UC1,
                                            const_cast<char*>(m.crop_jpeg.data())),
                                    cv::IMREAD_COLOR);
  ASSERT_FALSE(crop.empty());
  EXPECT_GT(crop.cols, 60);
  auto stored = matches_->Record(m);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(matches_->Get(stored->id)->match.crop_jpeg, m.crop_jpeg);
}

// ---- The minimisation scan ----

struct Needles {
  std::vector<std::string> binary;  // float32 runs.
  std::vector<std::string> text;    // Decimal renderings of value pairs.
};

Needles NeedlesOf(const std::vector<face::Embedding>& embeddings) {
  Needles n;
  for (const face::Embedding& e : embeddings) {
    for (size_t i = 0; i + 2 <= e.size(); i += 2) {
      n.binary.emplace_back(reinterpret_cast<const char*>(e.data() + i), 8);
    }
    for (size_t i = 0; i + 2 <= e.size(); i += 16) {
      for (const char* fmt : {"%.9g%s%.9g", "%.6g%s%.6g", "%.6f%s%.6f", "%.4f%s%.4f"}) {
        for (const char* sep : {",", ", ", " "}) {
          char buf[96];
          std::snprintf(buf, sizeof(buf), fmt, static_cast<double>(e[i]), sep,
                        static_cast<double>(e[i + 1]));
          n.text.emplace_back(buf);
        }
      }
    }
  }
  return n;
}

struct ScanResult {
  int files = 0;
  int64_t bytes = 0;
  std::vector<std::string> findings;
};

// Every regular file under `dir`: embeddings (binary and text) and JPEG SOI markers.
ScanResult Scan(const fs::path& dir, const Needles& needles) {
  ScanResult r;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    const std::string bytes = ReadFile(f.path());
    ++r.files;
    r.bytes += static_cast<int64_t>(bytes.size());
    for (const std::string& n : needles.binary) {
      if (bytes.find(n) != std::string::npos) {
        r.findings.push_back(f.path().string() + ": embedding float32 bytes");
        break;
      }
    }
    for (const std::string& n : needles.text) {
      if (bytes.find(n) != std::string::npos) {
        r.findings.push_back(f.path().string() + ": embedding as text '" + n + "'");
        break;
      }
    }
    if (bytes.find("\xFF\xD8\xFF") != std::string::npos) {
      r.findings.push_back(f.path().string() + ": JPEG start-of-image marker");
    }
  }
  return r;
}

struct VideoRun {
  std::vector<face::Embedding> embeddings;  // Every embedding the recognizers computed.
  std::vector<FaceMatch> matches;
  RecognizerStats production, permissive;
  int frames = 0;
  double seconds = 0;
  // The first face the permissive recognizer embedded: its frame, the frame's person tracks
  // and its time.
  bool first_by_production = false;
  face::Embedding first_embedding;
  cv::Mat first_frame;
  std::vector<PersonTrack> first_tracks;
  int64_t first_ms = 0;
};

// The person video through the pipeline (nanodet, tracker) at 5 fps, each frame handed to the
// recognizer with the production quality gate and (if `permissive`) one with the permissive
// gate. Matches are stored in the match store, as the server does.
void RunVideo(const std::string& video, Detector* detector, const policy::PolicyEngine* policy,
              WatchlistMatcher* matcher, MatchStore* store, bool production_gate,
              bool permissive_gate, const RecognizerOptions& options, VideoRun& run) {
  ingest::SourceOptions so;
  so.url = video;
  so.detect_fps = 5;
  so.detect_height = 432;
  auto source = ingest::VideoSource::Open(so, Clock::Real());
  ASSERT_TRUE(source.ok()) << source.status();
  pipeline::PipelineOptions po;
  po.camera.id = "entrance";
  auto pipe = pipeline::CameraPipeline::Create(po, detector);
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  AnalyzerFaceSource production_faces(Analyzer());
  AnalyzerFaceSource permissive_faces(PermissiveAnalyzer());
  std::vector<face::Embedding> this_frame;
  RecognizerOptions ro = options;
  ro.test_embedding_hook = [&](const face::Embedding& e) {
    run.embeddings.push_back(e);
    this_frame.push_back(e);
  };
  auto production = TrackFaceRecognizer::Create(ro, policy, matcher, &production_faces);
  ro.min_face_score = 0;
  auto lenient = TrackFaceRecognizer::Create(ro, policy, matcher, &permissive_faces);
  ASSERT_TRUE(production.ok() && lenient.ok());
  std::vector<TrackFaceRecognizer*> recognizers;
  if (production_gate) recognizers.push_back(production->get());
  if (permissive_gate) recognizers.push_back(lenient->get());
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    absl::StatusOr<Frame> frame = (*source)->Next();
    if (absl::IsOutOfRange(frame.status())) break;
    ASSERT_TRUE(frame.ok()) << frame.status();
    auto result = (*pipe)->Process(*frame);
    ASSERT_TRUE(result.ok()) << result.status();
    ++run.frames;
    const int64_t wall_ms = kT0 + frame->pts_ms;
    const std::vector<PersonTrack> tracks = PersonTracksFrom(result->tracks);
    for (TrackFaceRecognizer* r : recognizers) {
      this_frame.clear();
      auto out = r->ProcessFrame("entrance", wall_ms, frame->bgr, tracks);
      ASSERT_TRUE(out.ok()) << out.status();
      for (FaceMatch& m : *out) {
        auto stored = store->Record(m);
        ASSERT_TRUE(stored.ok()) << stored.status();
        run.matches.push_back(std::move(m));
      }
      // The first face the permissive recognizer embedded (the production one embeds none
      // that votes in this video).
      if (!this_frame.empty() && run.first_frame.empty() && r == lenient->get()) {
        run.first_by_production = false;
        run.first_embedding = this_frame[0];
        run.first_frame = frame->bgr.clone();
        run.first_tracks = tracks;
        run.first_ms = wall_ms;
      }
    }
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.production = (*production)->stats();
  run.permissive = (*lenient)->stats();
}

void PrintStats(const char* name, const RecognizerStats& s) {
  std::printf(
      "%-11s frames %lld, refused %lld, attempts %lld, no face %lld, low quality %lld, "
      "embedded %lld, candidate hits %lld, matches %lld\n",
      name, static_cast<long long>(s.frames), static_cast<long long>(s.refused_tracks),
      static_cast<long long>(s.attempts), static_cast<long long>(s.no_face),
      static_cast<long long>(s.low_quality), static_cast<long long>(s.embedded),
      static_cast<long long>(s.candidate_hits), static_cast<long long>(s.matches));
}

TEST_F(WatchlistModelTest, TheVideoLeavesNoEmbeddingOrFaceCropOfPassersByAndOnlyTheMatchIsStored) {
  REQUIRE_MODELS();
  ASSERT_NE(PermissiveAnalyzer(), nullptr);
  CUSTOS_REQUIRE_DATA(video, custos::testing::SharedData(kVideo));
  CUSTOS_REQUIRE_DATA(dir, custos::testing::SharedData("faces"));
  auto detector = LoadPersonDetector();
  if (absl::IsNotFound(detector.status())) GTEST_SKIP() << detector.status().message();
  ASSERT_TRUE(detector.ok()) << detector.status();

  // A watchlist that matches nobody in the video, and face recognition authorised there.
  AnalyzerFaceSource faces(Analyzer());
  const std::vector<cv::Mat> photos = {Photo(dir, "biden.jpg")};
  auto enrol = EmbedEnrolmentPhotos(faces, photos);
  ASSERT_TRUE(enrol.ok()) << enrol.status();
  Enrol("Case 7 - J. B.", *enrol);
  Authorise(kT0, kT0 + kDay);

  VideoRun run;
  RunVideo(video, detector->get(), policy_.get(), matcher_.get(), matches_.get(), true, true, {},
           run);
  std::printf("\nvideo: %d frames in %.1f s\n", run.frames, run.seconds);
  PrintStats("production", run.production);
  PrintStats("permissive", run.permissive);
  EXPECT_TRUE(run.matches.empty());
  EXPECT_EQ(run.production.refused_tracks, 0);
  EXPECT_GT(run.production.attempts, 0) << "the recognizer never looked for a face";
  // Without embeddings to search for, the scan would prove nothing.
  ASSERT_GT(run.embeddings.size(), 0u);

  const Needles needles = NeedlesOf(run.embeddings);
  ScanResult scan = Scan(data_, needles);
  std::printf("scan: %d files, %lld bytes, %zu embeddings (%zu binary and %zu text needles)\n",
              scan.files, static_cast<long long>(scan.bytes), run.embeddings.size(),
              needles.binary.size(), needles.text.size());
  EXPECT_GE(scan.files, 4);  // policy, watchlist and match databases, the key.
  EXPECT_THAT(scan.findings, ::testing::IsEmpty());
  // The scan finds what it looks for: a planted copy of one embedding and a JPEG.
  {
    std::ofstream plant(data_ / "planted.bin", std::ios::binary);
    plant.write(reinterpret_cast<const char*>(run.embeddings.back().data()), 128 * 4);
    plant << "\xFF\xD8\xFF\xE0";
  }
  EXPECT_EQ(Scan(data_, needles).findings.size(), 2u);
  fs::remove(data_ / "planted.bin");
  auto stored = matches_->List({});
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->empty());

  // The video holds no usable face: people walk away from the camera. The production
  // recognizer embeds none (the back of a long-haired head at +56.6 s passes the gate's pose
  // rules with a detector score of 0.55 and is stopped by min_face_score). The real positive
  // path is TheRecognizerRaisesOneLeadForAPersonTrackOfTheEnrolledPersonOnly (photos). What
  // this part checks is storage: enrol what the permissive recognizer embedded first — cut
  // from that frame here — run the video again with it, and only matches of that entry, with
  // the one of that face among them, are stored (min_agreeing 1: such a "face" is embedded
  // about once per track). It also matches the backs of other people's heads (docs/face.md):
  // descriptors of non-faces resemble each other, which is why the gate guards enrolment.
  EXPECT_EQ(run.production.embedded, 0);
  ASSERT_FALSE(run.first_frame.empty());
  std::printf("first embedded face at +%.1f s, by the %s gate\n",
              static_cast<double>(run.first_ms - kT0) / 1000,
              run.first_by_production ? "production" : "permissive");
  AnalyzerFaceSource enrol_faces(run.first_by_production ? Analyzer() : PermissiveAnalyzer());
  std::vector<face::Embedding> video_face;
  int64_t video_track = 0;
  for (const PersonTrack& p : run.first_tracks) {
    const cv::Rect head = HeadRegion(p.box, run.first_frame.size(), {});
    if (head.empty()) continue;
    const std::vector<cv::Mat> one = {run.first_frame(head).clone()};
    auto e = EmbedEnrolmentPhotos(enrol_faces, one);
    if (e.ok() && face::Similarity((*e)[0], run.first_embedding) > 0.99f) {
      auto f =
          (run.first_by_production ? Analyzer() : PermissiveAnalyzer())->AnalyzeLargest(one[0]);
      if (f.ok() && f->has_value()) {
        const face::AnalyzedFace& a = **f;
        std::printf(
            "that face: detector score %.2f, box %.0f px, yaw %.2f, pitch %.2f, "
            "sharpness %.0f, eye distance / width %.2f\n",
            a.detection.score, a.detection.box.width, a.quality.yaw, a.quality.pitch,
            a.quality.sharpness,
            std::hypot(
                a.detection.keypoints[face::kLeftEye].x - a.detection.keypoints[face::kRightEye].x,
                a.detection.keypoints[face::kLeftEye].y -
                    a.detection.keypoints[face::kRightEye].y) /
                a.detection.box.width);
      }
      video_face = *e;
      video_track = p.track_id;
      break;
    }
  }
  ASSERT_FALSE(video_face.empty()) << "could not cut the embedded face out of its frame again";
  const WatchlistEntry entry = Enrol("video person", video_face);
  VideoRun second;
  RecognizerOptions one_vote;
  one_vote.min_agreeing = 1;
  RunVideo(video, detector->get(), policy_.get(), matcher_.get(), matches_.get(),
           run.first_by_production, !run.first_by_production, one_vote, second);
  PrintStats("permissive", second.permissive);
  PrintStats("production", second.production);
  std::printf("matches of the video person: %zu\n", second.matches.size());
  for (const FaceMatch& m : second.matches) {
    std::printf("  track %lld at +%.1f s: score %.3f, %d of %d agreeing, crop %zu bytes\n",
                static_cast<long long>(m.track_id), static_cast<double>(m.time_ms - kT0) / 1000,
                m.score, m.agreeing, m.attempts, m.crop_jpeg.size());
  }
  ASSERT_FALSE(second.matches.empty());
  stored = matches_->List({});
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), second.matches.size());
  int of_that_face = 0;
  for (const StoredMatch& s : *stored) {
    EXPECT_EQ(s.match.entry_id, entry.id);
    EXPECT_EQ(s.match.camera, "entrance");
    EXPECT_GE(s.match.score, 0.9f);
    EXPECT_EQ(s.status, MatchStatus::kLead);
    auto full = matches_->Get(s.id);
    ASSERT_TRUE(full.ok());
    EXPECT_FALSE(full->match.crop_jpeg.empty());
    if (s.match.track_id == video_track && s.match.time_ms == run.first_ms) ++of_that_face;
  }
  EXPECT_EQ(of_that_face, 1);
  // Still nothing of the others: the embeddings of this run that did not match are nowhere,
  // and the stored crops are sealed.
  std::vector<face::Embedding> unmatched;
  for (const face::Embedding& e : second.embeddings) {
    if (face::Similarity(e, video_face[0]) < matcher_->threshold()) unmatched.push_back(e);
  }
  std::printf("second run: %zu embeddings, %zu below the threshold of the entry\n",
              second.embeddings.size(), unmatched.size());
  scan = Scan(data_, NeedlesOf(unmatched));
  EXPECT_THAT(scan.findings, ::testing::IsEmpty());
  // And the first run's embeddings, none of which matched, are still nowhere.
  scan = Scan(data_, needles);
  EXPECT_THAT(scan.findings, ::testing::IsEmpty());
}

}  // namespace
}  // namespace custos::watchlist
