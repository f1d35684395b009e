#include "face/pairs_csv.h"

#include <sstream>

#include "gtest/gtest.h"

namespace custos::face {
namespace {

TEST(PairsCsv, ReadsPairsInOrderWhateverTheColumnOrder) {
  std::istringstream in("id,b,a\r\n1,y.jpg,x.jpg\r\n\n2,\"q, r.jpg\",p.jpg\n");
  auto pairs = ParsePairsCsv(in);
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  ASSERT_EQ(pairs->size(), 2u);
  EXPECT_EQ((*pairs)[0].a, "x.jpg");
  EXPECT_EQ((*pairs)[0].b, "y.jpg");
  EXPECT_EQ((*pairs)[0].line, 2);
  EXPECT_EQ((*pairs)[1].a, "p.jpg");
  EXPECT_EQ((*pairs)[1].b, "q, r.jpg");
  EXPECT_EQ((*pairs)[1].line, 4);
  EXPECT_TRUE((*pairs)[1].error.empty());
}

TEST(PairsCsv, MarksRowsWithAMissingColumnAndKeepsTheRest) {
  std::istringstream in("a,b\nx.jpg\n,y.jpg\nx.jpg,y.jpg\n");
  auto pairs = ParsePairsCsv(in);
  ASSERT_TRUE(pairs.ok());
  ASSERT_EQ(pairs->size(), 3u);
  EXPECT_NE((*pairs)[0].error.find("missing 'b'"), std::string::npos) << (*pairs)[0].error;
  EXPECT_NE((*pairs)[1].error.find("missing 'a'"), std::string::npos) << (*pairs)[1].error;
  EXPECT_TRUE((*pairs)[2].error.empty());
}

TEST(PairsCsv, RefusesAFileWithoutTheHeader) {
  std::istringstream no_b("a,c\nx,y\n");
  EXPECT_EQ(ParsePairsCsv(no_b).status().code(), absl::StatusCode::kInvalidArgument);
  std::istringstream empty("");
  EXPECT_EQ(ParsePairsCsv(empty).status().code(), absl::StatusCode::kInvalidArgument);
  std::istringstream headerless("x.jpg,y.jpg\n");
  EXPECT_FALSE(ParsePairsCsv(headerless).ok());
}

TEST(PairsCsv, SplitsQuotedFields) {
  EXPECT_EQ(SplitCsvLine(R"(a,"b ""c"", d", e )"),
            (std::vector<std::string>{"a", R"(b "c", d)", "e"}));
}

}  // namespace
}  // namespace custos::face
