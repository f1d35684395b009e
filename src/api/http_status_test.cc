#include "api/http_status.h"

#include "gtest/gtest.h"

namespace custos::api {
namespace {

TEST(HttpStatus, MapsTheCodesCallersActOnToTheirHttpStatus) {
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kDataLoss), 500);
}

TEST(HttpStatus, NamesEveryCodeInLowercase) {
  for (int i = 0; i <= 16; ++i) {
    const auto code = static_cast<absl::StatusCode>(i);
    const std::string_view name = ErrorCodeName(code);
    EXPECT_NE(name, "") << i;
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << name;
    EXPECT_GE(HttpStatusFor(code), 200);
  }
  EXPECT_EQ(ErrorCodeName(absl::StatusCode::kResourceExhausted), "resource_exhausted");
}

}  // namespace
}  // namespace custos::api
