#include "store/sqlite_event_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/testing.h"
#include "core/ulid.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'700'000'000'000;

Event MakeEvent(int64_t time_ms, const std::string& camera = "cam1",
                EventType type = EventType::kZoneEnter, const std::string& label = "person",
                const std::string& zone = "door") {
  Event e;
  e.id = NewUlid(time_ms);
  e.camera = camera;
  e.time_ms = time_ms;
  e.type = type;
  e.label = label;
  e.zone = zone;
  e.track_id = time_ms % 1000;
  e.score = 0.75f;
  e.box = {1, 2, 3, 4};
  return e;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs SQL on the file directly, as another program would.
void RawExec(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

int64_t RawInt(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  absl::StatusOr<int64_t> v = QueryInt(db, sql, path.string());
  sqlite3_close(db);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.value_or(-1);
}

class SqliteEventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = custos::testing::TempDir("custos-store");
    path_ = dir_ / "events.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteEventStore> OpenOrDie() {
    absl::StatusOr<std::unique_ptr<SqliteEventStore>> store =
        SqliteEventStore::Open({path_.string()});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  absl::Status OpenError() { return SqliteEventStore::Open({path_.string()}).status(); }

  fs::path dir_;
  fs::path path_;
};

TEST_F(SqliteEventStoreTest, CreatesTheSchemaInANewFile) {
  ASSERT_NE(OpenOrDie(), nullptr);
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), SqliteEventStore::SchemaVersion());
  EXPECT_EQ(RawInt(path_,
                   "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                   "name IN ('events_camera_time', 'events_type_time')"),
            2);
  EXPECT_EQ(RawInt(path_,
                   "SELECT count(*) FROM pragma_journal_mode WHERE "
                   "journal_mode = 'wal'"),
            1);
}

TEST_F(SqliteEventStoreTest, InitialisesAnEmptyFile) {
  std::ofstream(path_).close();
  ASSERT_NE(OpenOrDie(), nullptr);
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), SqliteEventStore::SchemaVersion());
}

TEST_F(SqliteEventStoreTest, ReopeningKeepsEventsAndSchema) {
  Event e = MakeEvent(kT0);
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Append({e}).ok());
  }
  auto store = OpenOrDie();
  absl::StatusOr<std::vector<Event>> events = store->Query({});
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].id, e.id);
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), SqliteEventStore::SchemaVersion());
}

TEST_F(SqliteEventStoreTest, RoundTripsEveryField) {
  Event e;
  e.id = NewUlid(kT0);
  e.camera = "entrance";
  e.time_ms = kT0 + 5;
  e.type = EventType::kLoiter;
  e.label = "car";
  e.track_id = 123456789012;
  e.score = 0.123456789f;
  e.box = {10.5f, 20.25f, 30.125f, 1e-3f};
  e.zone = "bay";
  e.direction = "in";
  e.dwell_ms = 600'000;
  e.snapshot = "snapshots/x.jpg";
  e.speed_kmh = 52.34;
  auto store = OpenOrDie();
  ASSERT_TRUE(store->Append({e}).ok());
  absl::StatusOr<std::vector<Event>> events = store->Query({});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  const Event& b = (*events)[0];
  EXPECT_EQ(b.id, e.id);
  EXPECT_EQ(b.camera, e.camera);
  EXPECT_EQ(b.time_ms, e.time_ms);
  EXPECT_EQ(b.type, e.type);
  EXPECT_EQ(b.label, e.label);
  EXPECT_EQ(b.track_id, e.track_id);
  EXPECT_EQ(b.score, e.score);
  EXPECT_EQ(b.box.x, e.box.x);
  EXPECT_EQ(b.box.y, e.box.y);
  EXPECT_EQ(b.box.w, e.box.w);
  EXPECT_EQ(b.box.h, e.box.h);
  EXPECT_EQ(b.zone, e.zone);
  EXPECT_EQ(b.direction, e.direction);
  EXPECT_EQ(b.dwell_ms, e.dwell_ms);
  EXPECT_EQ(b.snapshot, e.snapshot);
  EXPECT_EQ(b.speed_kmh, e.speed_kmh);
}

// The schema of version 1, as released, with one event in it.
void WriteVersion1Database(const fs::path& path, const Event& e) {
  RawExec(path,
          "CREATE TABLE events (id TEXT PRIMARY KEY NOT NULL, camera TEXT NOT NULL, "
          "time_ms INTEGER NOT NULL, type TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', "
          "track_id INTEGER NOT NULL DEFAULT 0, score REAL NOT NULL DEFAULT 0, "
          "box_x REAL NOT NULL DEFAULT 0, box_y REAL NOT NULL DEFAULT 0, "
          "box_w REAL NOT NULL DEFAULT 0, box_h REAL NOT NULL DEFAULT 0, "
          "zone TEXT NOT NULL DEFAULT '', direction TEXT NOT NULL DEFAULT '', "
          "dwell_ms INTEGER NOT NULL DEFAULT 0, snapshot TEXT NOT NULL DEFAULT '') "
          "WITHOUT ROWID;"
          "CREATE INDEX events_camera_time ON events (camera, time_ms);"
          "CREATE INDEX events_type_time ON events (type, time_ms);"
          "PRAGMA application_id = 1129530710; PRAGMA user_version = 1;" +
              absl::StrCat("INSERT INTO events (id, camera, time_ms, type, label, zone, "
                           "direction) VALUES ('",
                           e.id, "', '", e.camera, "', ", e.time_ms, ", 'line_cross', '", e.label,
                           "', '", e.zone, "', '", e.direction, "');"));
}

TEST_F(SqliteEventStoreTest, UpgradesAVersion1DatabaseInPlaceKeepingItsEvents) {
  Event old = MakeEvent(kT0, "cam1", EventType::kLineCross, "car", "gate");
  old.direction = "in";
  WriteVersion1Database(path_, old);
  ASSERT_EQ(RawInt(path_, "PRAGMA user_version"), 1);
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), SqliteEventStore::SchemaVersion());
  Event fresh = MakeEvent(kT0 + 1000, "cam1", EventType::kLineCross, "car", "gate");
  fresh.direction = "in";
  fresh.speed_kmh = 48.5;
  ASSERT_TRUE(store->Append({fresh}).ok());
  absl::StatusOr<std::vector<Event>> events = store->Query({});
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].id, old.id);
  EXPECT_EQ((*events)[0].direction, "in");
  EXPECT_EQ((*events)[0].speed_kmh, 0);  // Unknown, as before the upgrade.
  EXPECT_EQ((*events)[1].speed_kmh, 48.5);
}

TEST_F(SqliteEventStoreTest, CountLineCrossingsGroupsByLineDirectionAndLabelWithMeanSpeeds) {
  auto store = OpenOrDie();
  constexpr int64_t kMin = 60'000;
  auto crossing = [](int64_t t, const std::string& line, const std::string& direction,
                     const std::string& label, double kmh) {
    Event e = MakeEvent(t, "cam1", EventType::kLineCross, label, line);
    e.direction = direction;
    e.speed_kmh = kmh;
    return e;
  };
  ASSERT_TRUE(store
                  ->Append({
                      crossing(kT0 + 1000, "a", "in", "car", 40),
                      crossing(kT0 + 2000, "a", "in", "car", 60),
                      crossing(kT0 + 3000, "a", "in", "car", 0),  // Unknown: not in the mean.
                      crossing(kT0 + 4000, "a", "out", "car", 30),
                      crossing(kT0 + 5000, "b", "in", "person", 0),
                      crossing(kT0 + kMin + 1, "a", "in", "truck", 20),
                      MakeEvent(kT0 + 6000, "cam1", EventType::kZoneEnter, "car", "a"),
                      crossing(kT0 + 7000, "a", "in", "car", 99),
                  })
                  .ok());
  Event other = crossing(kT0 + 8000, "a", "in", "car", 99);
  other.camera = "cam2";
  ASSERT_TRUE(store->Append({other}).ok());
  absl::StatusOr<std::vector<LineCrossingCount>> counts =
      store->CountLineCrossings({.camera = "cam1", .from_ms = kT0, .to_ms = kT0 + 2 * kMin}, kMin);
  ASSERT_TRUE(counts.ok()) << counts.status();
  ASSERT_EQ(counts->size(), 4u);
  const LineCrossingCount& a_in = (*counts)[0];
  EXPECT_EQ(a_in.start_ms, kT0);
  EXPECT_EQ(a_in.line, "a");
  EXPECT_EQ(a_in.direction, "in");
  EXPECT_EQ(a_in.label, "car");
  EXPECT_EQ(a_in.count, 4);
  EXPECT_EQ(a_in.with_speed, 3);
  EXPECT_NEAR(a_in.mean_speed_kmh, (40 + 60 + 99) / 3.0, 1e-9);
  EXPECT_EQ((*counts)[1].direction, "out");
  EXPECT_EQ((*counts)[1].mean_speed_kmh, 30);
  EXPECT_EQ((*counts)[2].line, "b");
  EXPECT_EQ((*counts)[2].with_speed, 0);
  EXPECT_EQ((*counts)[2].mean_speed_kmh, 0);
  EXPECT_EQ((*counts)[3].start_ms, kT0 + kMin);
  EXPECT_EQ((*counts)[3].label, "truck");
  // One line only.
  counts = store->CountLineCrossings(
      {.camera = "cam1", .from_ms = kT0, .to_ms = kT0 + 2 * kMin, .zone = "b"}, kMin);
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].label, "person");
  EXPECT_EQ(store->CountLineCrossings({.from_ms = kT0}, kMin).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteEventStoreTest, CountBucketsCountsPerLabelAndBucketWithTheFilters) {
  auto store = OpenOrDie();
  constexpr int64_t kMin = 60'000;
  std::vector<Event> events = {
      MakeEvent(kT0 + 1000, "cam1", EventType::kTrackStart, "person"),
      MakeEvent(kT0 + 2000, "cam1", EventType::kTrackStart, "person"),
      MakeEvent(kT0 + 3000, "cam1", EventType::kTrackStart, "car"),
      MakeEvent(kT0 + kMin + 5, "cam1", EventType::kTrackStart, "person"),
      MakeEvent(kT0 + 3 * kMin, "cam1", EventType::kTrackStart, "person"),  // Outside to_ms.
      MakeEvent(kT0 + 1500, "cam2", EventType::kTrackStart, "person"),      // Other camera.
      MakeEvent(kT0 + 1600, "cam1", EventType::kTrackEnd, "person"),        // Other type.
  };
  ASSERT_TRUE(store->Append(events).ok());
  absl::StatusOr<std::vector<BucketCount>> counts = store->CountBuckets(
      {.camera = "cam1", .from_ms = kT0, .to_ms = kT0 + 3 * kMin, .type = EventType::kTrackStart},
      kMin);
  ASSERT_TRUE(counts.ok()) << counts.status();
  ASSERT_EQ(counts->size(), 3u);
  EXPECT_EQ((*counts)[0].start_ms, kT0);
  EXPECT_EQ((*counts)[0].label, "car");
  EXPECT_EQ((*counts)[0].count, 1);
  EXPECT_EQ((*counts)[1].label, "person");
  EXPECT_EQ((*counts)[1].count, 2);
  EXPECT_EQ((*counts)[2].start_ms, kT0 + kMin);
  EXPECT_EQ((*counts)[2].count, 1);
  EXPECT_EQ(store->CountBuckets({.from_ms = kT0}, kMin).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->CountBuckets({.from_ms = kT0, .to_ms = kT0 + 1}, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteEventStoreTest, RefusesADatabaseFromANewerSchemaWithoutTouchingIt) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Append({MakeEvent(kT0)}).ok());
  }
  RawExec(path_, "PRAGMA user_version = 99");
  const std::string before = ReadFile(path_);
  const absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("has schema version 99, newer than this build of Custos understands"));
  EXPECT_EQ(ReadFile(path_), before);
  EXPECT_EQ(RawInt(path_, "SELECT count(*) FROM events"), 1);
}

TEST_F(SqliteEventStoreTest, RefusesAFileThatIsNotADatabase) {
  const std::string junk = "camera,time\nentrance,1700000000000\nthis is a CSV, not SQLite\n";
  std::ofstream(path_, std::ios::binary) << junk;
  absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("is not an SQLite database"));
  EXPECT_EQ(ReadFile(path_), junk);

  std::ofstream(path_, std::ios::binary | std::ios::trunc) << "tiny";
  EXPECT_EQ(OpenError().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadFile(path_), "tiny");
}

TEST_F(SqliteEventStoreTest, RefusesAnotherApplicationsDatabase) {
  RawExec(path_, "CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('a')");
  absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("not a Custos event database"));
  EXPECT_EQ(RawInt(path_, "SELECT count(*) FROM customers"), 1);
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), 0);

  fs::remove(path_);
  RawExec(path_, "PRAGMA application_id = 1234");
  status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("belongs to another application"));
}

TEST_F(SqliteEventStoreTest, CorruptPagesAreDataLoss) {
  {
    auto store = OpenOrDie();
    std::vector<Event> batch;
    for (int i = 0; i < 2000; ++i) batch.push_back(MakeEvent(kT0 + i));
    ASSERT_TRUE(store->Append(batch).ok());
  }
  std::string bytes = ReadFile(path_);
  ASSERT_GT(bytes.size(), 16384u);
  // Keep the header page, scribble over every other page.
  for (size_t i = 4096; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7919 % 251);
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;

  absl::StatusOr<std::unique_ptr<SqliteEventStore>> store =
      SqliteEventStore::Open({path_.string()});
  if (!store.ok()) {
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  } else {
    absl::StatusOr<int64_t> count = (*store)->Count({});
    EXPECT_EQ(count.status().code(), absl::StatusCode::kDataLoss) << count.status();
    absl::StatusOr<std::vector<Event>> events = (*store)->Query({});
    EXPECT_EQ(events.status().code(), absl::StatusCode::kDataLoss) << events.status();
  }
  EXPECT_TRUE(fs::exists(path_));
}

TEST_F(SqliteEventStoreTest, MissingDirectoryIsAClearError) {
  path_ = dir_ / "no" / "such" / "dir" / "events.db";
  absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("does not exist"));
  EXPECT_FALSE(fs::exists(dir_ / "no"));
}

TEST_F(SqliteEventStoreTest, PathThatIsADirectoryIsAClearError) {
  path_ = dir_;
  absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("is a directory"));
}

TEST_F(SqliteEventStoreTest, ReadOnlyDirectoryIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  const fs::path ro = dir_ / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  path_ = ro / "events.db";
  absl::Status status = OpenError();
  fs::permissions(ro, fs::perms::owner_all);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(status.message()), HasSubstr("is not writable"));
}

TEST_F(SqliteEventStoreTest, ReadOnlyFileIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  ASSERT_NE(OpenOrDie(), nullptr);
  fs::permissions(path_, fs::perms::owner_read);
  absl::Status status = OpenError();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(status.message()), HasSubstr("read-only"));
}

TEST_F(SqliteEventStoreTest, AppendIsIdempotentById) {
  auto store = OpenOrDie();
  std::vector<Event> batch = {MakeEvent(kT0), MakeEvent(kT0 + 1), MakeEvent(kT0 + 2)};
  ASSERT_TRUE(store->Append(batch).ok());
  Event changed = batch[1];
  changed.label = "car";  // A redelivered event keeps its first version.
  batch[1] = changed;
  batch.push_back(MakeEvent(kT0 + 3));
  ASSERT_TRUE(store->Append(batch).ok());
  ASSERT_TRUE(store->Append(batch).ok());
  EXPECT_EQ(store->Count({}).value_or(-1), 4);
  EXPECT_EQ(store->Count({.label = "car"}).value_or(-1), 0);
}

TEST_F(SqliteEventStoreTest, AppendRejectsBadEventsAndStoresNoneOfTheBatch) {
  auto store = OpenOrDie();
  Event no_id = MakeEvent(kT0 + 1);
  no_id.id = "42";
  absl::Status status = store->Append({MakeEvent(kT0), no_id});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("not a ULID"));
  Event no_camera = MakeEvent(kT0 + 2);
  no_camera.camera.clear();
  EXPECT_EQ(store->Append({MakeEvent(kT0), no_camera}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Count({}).value_or(-1), 0);
  EXPECT_TRUE(store->Append({}).ok());
}

TEST_F(SqliteEventStoreTest, QueryAppliesEveryFilter) {
  auto store = OpenOrDie();
  std::vector<Event> events = {
      MakeEvent(kT0, "cam1", EventType::kZoneEnter, "person", "door"),
      MakeEvent(kT0 + 10, "cam1", EventType::kZoneLeave, "person", "door"),
      MakeEvent(kT0 + 20, "cam2", EventType::kZoneEnter, "car", "bay"),
      MakeEvent(kT0 + 30, "cam2", EventType::kLineCross, "car", "gate"),
      MakeEvent(kT0 + 40, "cam1", EventType::kLineCross, "person", "gate"),
      MakeEvent(kT0 + 50, "cam1", EventType::kTrackStart, "bicycle", ""),
  };
  ASSERT_TRUE(store->Append(events).ok());
  auto ids = [&](const EventQuery& q) {
    std::vector<int64_t> out;
    absl::StatusOr<std::vector<Event>> r = store->Query(q);
    EXPECT_TRUE(r.ok()) << r.status();
    for (const Event& e : r.value_or(std::vector<Event>{})) out.push_back(e.time_ms - kT0);
    absl::StatusOr<int64_t> n = store->Count(q);
    EXPECT_EQ(n.value_or(-1), static_cast<int64_t>(out.size()));
    return out;
  };
  using V = std::vector<int64_t>;
  EXPECT_EQ(ids({}), (V{0, 10, 20, 30, 40, 50}));
  EXPECT_EQ(ids({.camera = "cam2"}), (V{20, 30}));
  EXPECT_EQ(ids({.from_ms = kT0 + 10, .to_ms = kT0 + 40}), (V{10, 20, 30}));  // [from, to)
  EXPECT_EQ(ids({.type = EventType::kLineCross}), (V{30, 40}));
  EXPECT_EQ(ids({.label = "person"}), (V{0, 10, 40}));
  EXPECT_EQ(ids({.zone = "gate"}), (V{30, 40}));
  EXPECT_EQ(
      ids({.camera = "cam1", .type = EventType::kLineCross, .label = "person", .zone = "gate"}),
      (V{40}));
  EXPECT_EQ(ids({.camera = "cam3"}), V{});
  EXPECT_EQ(ids({.camera = "cam1'; DROP TABLE events; --"}), V{});
  EXPECT_EQ(store->Count({}).value_or(-1), 6);
}

TEST_F(SqliteEventStoreTest, PagesByIdWithoutGapsOrRepeats) {
  auto store = OpenOrDie();
  std::vector<Event> batch;
  for (int i = 0; i < 250; ++i) batch.push_back(MakeEvent(kT0 + i / 3));  // Shared ms.
  ASSERT_TRUE(store->Append(batch).ok());
  EventQuery query;
  std::vector<std::string> seen;
  std::vector<size_t> page_sizes;
  for (;;) {
    absl::StatusOr<std::vector<Event>> page = store->Query(query);
    ASSERT_TRUE(page.ok()) << page.status();
    if (page->empty()) break;
    page_sizes.push_back(page->size());
    for (const Event& e : *page) seen.push_back(e.id);
    query.after_id = page->back().id;
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{100, 100, 50}));
  std::vector<std::string> expected;
  for (const Event& e : batch) expected.push_back(e.id);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(seen, expected);
  // Count ignores paging.
  EXPECT_EQ(store->Count(query).value_or(-1), 250);
}

TEST_F(SqliteEventStoreTest, DeletesAndClearsSnapshotsByIdForRetention) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  Event a = MakeEvent(kT0, "cam1");
  Event b = MakeEvent(kT0 + 1, "cam2");
  Event c = MakeEvent(kT0 + 2, "cam1");
  a.snapshot = "cam1/a.jpg";
  c.snapshot = "cam1/c.jpg";
  ASSERT_TRUE(store->Append({a, b, c}).ok());
  absl::StatusOr<std::vector<std::string>> cameras = store->Cameras();
  ASSERT_TRUE(cameras.ok());
  EXPECT_EQ(*cameras, (std::vector<std::string>{"cam1", "cam2"}));
  absl::StatusOr<std::vector<Event>> with = store->WithSnapshotsBefore("cam1", kT0 + 2, 10);
  ASSERT_TRUE(with.ok()) << with.status();
  ASSERT_EQ(with->size(), 1u);
  EXPECT_EQ((*with)[0].id, a.id);
  absl::StatusOr<int64_t> cleared = store->ClearSnapshots({a.id, b.id});
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(*cleared, 1);
  absl::StatusOr<int64_t> deleted = store->Delete({a.id, b.id, "01ARZ3NDEKTSV4RRFFQ69G5FAV"});
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 2);
  absl::StatusOr<std::vector<Event>> left = store->Query({});
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, c.id);
  EXPECT_EQ((*left)[0].snapshot, "cam1/c.jpg");
  EXPECT_EQ(store->WithSnapshotsBefore("cam1", kT0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteEventStoreTest, RejectsBadQueries) {
  auto store = OpenOrDie();
  EXPECT_EQ(store->Query({.limit = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Query({.limit = EventQuery::kMaxLimit + 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store->Query({.limit = EventQuery::kMaxLimit}).ok());
  EXPECT_EQ(store->Query({.from_ms = 10, .to_ms = 5}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Count({.from_ms = 10, .to_ms = 5}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteEventStoreTest, ConcurrentAppendsFromTwoThreadsAllLand) {
  auto store = OpenOrDie();
  constexpr int kBatches = 100;
  constexpr int kPerBatch = 5;
  auto writer = [&](const std::string& camera) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<Event> batch;
      for (int i = 0; i < kPerBatch; ++i) batch.push_back(MakeEvent(kT0 + b, camera));
      EXPECT_TRUE(store->Append(batch).ok());
      EXPECT_TRUE(store->Count({.camera = camera}).ok());
    }
  };
  std::thread a(writer, "a");
  std::thread b(writer, "b");
  a.join();
  b.join();
  EXPECT_EQ(store->Count({.camera = "a"}).value_or(-1), kBatches * kPerBatch);
  EXPECT_EQ(store->Count({.camera = "b"}).value_or(-1), kBatches * kPerBatch);
}

TEST_F(SqliteEventStoreTest, TwoConnectionsOnOneFileShareIt) {
  auto first = OpenOrDie();
  auto second = OpenOrDie();
  constexpr int kBatches = 50;
  auto writer = [](SqliteEventStore* store, const std::string& camera) {
    for (int b = 0; b < kBatches; ++b) {
      absl::Status status = store->Append({MakeEvent(kT0 + b, camera), MakeEvent(kT0, camera)});
      EXPECT_TRUE(status.ok()) << status;
    }
  };
  std::thread a(writer, first.get(), "a");
  std::thread b(writer, second.get(), "b");
  a.join();
  b.join();
  EXPECT_EQ(first->Count({}).value_or(-1), 4 * kBatches);
  EXPECT_EQ(second->Count({}).value_or(-1), 4 * kBatches);
}

TEST_F(SqliteEventStoreTest, InMemoryDatabaseWorks) {
  absl::StatusOr<std::unique_ptr<SqliteEventStore>> store = SqliteEventStore::Open({":memory:"});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Append({MakeEvent(kT0)}).ok());
  EXPECT_EQ((*store)->Count({}).value_or(-1), 1);
}

TEST_F(SqliteEventStoreTest, RejectsBadOptions) {
  EXPECT_EQ(SqliteEventStore::Open({""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteEventStore::Open({path_.string(), -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class MigrationsTest : public SqliteEventStoreTest {
 protected:
  absl::Status Migrate(const std::vector<Migration>& migrations) {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
    SqliteDb db(raw);
    return ApplyMigrations(db.get(), migrations, path_.string());
  }
};

TEST_F(MigrationsTest, AppliesPendingStepsInOrder) {
  ASSERT_TRUE(Migrate({{1, {"CREATE TABLE a (x)"}}}).ok());
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), 1);
  ASSERT_TRUE(Migrate({{1, {"CREATE TABLE a (x)"}},
                       {2, {"CREATE TABLE b (y)", "INSERT INTO b SELECT count(*) FROM a"}},
                       {3, {"ALTER TABLE b ADD COLUMN z DEFAULT 7"}}})
                  .ok());
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), 3);
  EXPECT_EQ(RawInt(path_, "SELECT z FROM b"), 7);
}

TEST_F(MigrationsTest, AFailingStepRollsBackEverything) {
  absl::Status status =
      Migrate({{1, {"CREATE TABLE a (x)"}}, {2, {"CREATE TABLE b (y)", "NOT SQL AT ALL"}}});
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("migrating the schema from version 0 to 2 failed, nothing was changed"));
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), 0);
  EXPECT_EQ(RawInt(path_, "SELECT count(*) FROM sqlite_master"), 0);
}

TEST_F(MigrationsTest, RefusesANewerDatabase) {
  ASSERT_TRUE(Migrate({{1, {"CREATE TABLE a (x)"}}, {2, {"CREATE TABLE b (y)"}}}).ok());
  absl::Status status = Migrate({{1, {"CREATE TABLE a (x)"}}});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), 2);
}

TEST_F(MigrationsTest, RejectsAMisnumberedHistory) {
  EXPECT_EQ(Migrate({{2, {"CREATE TABLE a (x)"}}}).code(), absl::StatusCode::kInternal);
}

TEST(SqliteEventStoreSchema, HistoryIsNumberedFromOne) {
  const std::vector<Migration>& m = SqliteEventStore::Migrations();
  for (size_t i = 0; i < m.size(); ++i) EXPECT_EQ(m[i].version, static_cast<int>(i) + 1);
  EXPECT_EQ(SqliteEventStore::SchemaVersion(), static_cast<int>(m.size()));
}

}  // namespace
}  // namespace custos::store
