#include "ingest/av_error.h"

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

extern "C" {
#include <libavutil/error.h>
}

namespace custos::ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(AvErrorToStatus, TellsTheCallerWhatToDo) {
  struct Case {
    int averror;
    AvPhase phase;
    absl::StatusCode code;
  };
  for (const Case& c : {
           Case{AVERROR_EOF, AvPhase::kRead, absl::StatusCode::kOutOfRange},
           Case{AVERROR_EOF, AvPhase::kOpenFile, absl::StatusCode::kInvalidArgument},
           Case{AVERROR_EOF, AvPhase::kOpenStream, absl::StatusCode::kUnavailable},
           Case{AVERROR_INVALIDDATA, AvPhase::kOpenStream, absl::StatusCode::kInvalidArgument},
           Case{AVERROR_STREAM_NOT_FOUND, AvPhase::kOpenFile, absl::StatusCode::kInvalidArgument},
           Case{AVERROR_EXIT, AvPhase::kRead, absl::StatusCode::kCancelled},
           Case{AVERROR(ENOENT), AvPhase::kOpenFile, absl::StatusCode::kNotFound},
           Case{AVERROR_HTTP_NOT_FOUND, AvPhase::kOpenFile, absl::StatusCode::kNotFound},
           Case{AVERROR_HTTP_UNAUTHORIZED, AvPhase::kOpenFile, absl::StatusCode::kPermissionDenied},
           Case{AVERROR(EACCES), AvPhase::kOpenFile, absl::StatusCode::kPermissionDenied},
           Case{AVERROR(ECONNREFUSED), AvPhase::kOpenFile, absl::StatusCode::kUnavailable},
           Case{AVERROR(ETIMEDOUT), AvPhase::kRead, absl::StatusCode::kUnavailable},
           Case{AVERROR_HTTP_SERVER_ERROR, AvPhase::kOpenFile, absl::StatusCode::kUnavailable},
           Case{AVERROR_INVALIDDATA, AvPhase::kOpenFile, absl::StatusCode::kInvalidArgument},
           Case{AVERROR_INVALIDDATA, AvPhase::kRead, absl::StatusCode::kDataLoss},
           Case{AVERROR_INVALIDDATA, AvPhase::kDecode, absl::StatusCode::kDataLoss},
           Case{AVERROR_DECODER_NOT_FOUND, AvPhase::kOpenFile, absl::StatusCode::kInvalidArgument},
           Case{AVERROR_PROTOCOL_NOT_FOUND, AvPhase::kOpenFile, absl::StatusCode::kInvalidArgument},
           Case{AVERROR(ENOMEM), AvPhase::kDecode, absl::StatusCode::kResourceExhausted},
           Case{AVERROR_BUG, AvPhase::kDecode, absl::StatusCode::kUnknown},
       }) {
    EXPECT_EQ(AvErrorToStatus(c.averror, c.phase, "ctx").code(), c.code) << c.averror;
  }
}

TEST(AvErrorToStatus, MessageGivesContextFfmpegsTextAndAHint) {
  const absl::Status status =
      AvErrorToStatus(AVERROR_INVALIDDATA, AvPhase::kOpenFile, "cannot read video /v/x.mp4");
  EXPECT_THAT(std::string(status.message()),
              StartsWith("cannot read video /v/x.mp4: Invalid data found"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("(not a video file or unsupported format)"));
}

}  // namespace
}  // namespace custos::ingest
