#include "core/ulid.h"

#include <set>

#include "gtest/gtest.h"

namespace custos {
namespace {

TEST(Ulid, EncodesTheTimeItWasMadeAt) {
  const std::string id = NewUlid(1'469'918'176'385);
  ASSERT_EQ(id.size(), 26u);
  EXPECT_EQ(id.substr(0, 10), "01ARYZ6S41");  // From the ULID spec's example.
  EXPECT_EQ(UlidTimeMs(id), 1'469'918'176'385);
}

TEST(Ulid, IdsInTheSameMillisecondAreUniqueAndSorted) {
  std::string prev;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewUlid(1'800'000'000'000);
    EXPECT_GT(id, prev);
    prev = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ulid, RejectsMalformedIds) {
  EXPECT_EQ(UlidTimeMs("short"), -1);
  EXPECT_EQ(UlidTimeMs("01ARYZ6S41UUUUUUUUUUUUUUUU"), -1);  // 'U' is not in the alphabet.
}

}  // namespace
}  // namespace custos
