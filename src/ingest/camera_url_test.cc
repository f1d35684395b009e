#include "ingest/camera_url.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace custos::ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ValidateUrl, AcceptsCameraUrlsAndFilePaths) {
  for (const char* url : {
           "rtsp://192.0.2.10:554/Streaming/Channels/102",
           "rtsp://admin:p%40ss@cam-1.example.org/stream1",
           "rtsps://cam.example.org:322/live",
           "rtsp://[::1]:8554/cam",
           "RTSP://192.0.2.10/upper-case-scheme",
           "http://192.0.2.20/mjpeg.cgi?resolution=640x480",
           "https://example.org/video.mp4",
           "file:///etc/shadow",  // Syntax only: allowed roots are checked elsewhere.
           "file://localhost/srv/video/a%20b.mp4",
           "/srv/video/front door.mp4",
           "videos/relative.mp4",
       }) {
    EXPECT_TRUE(ValidateUrl(url).ok()) << url << ": " << ValidateUrl(url);
  }
}

TEST(ValidateUrl, RejectsSchemesOtherThanRtspHttpAndFile) {
  for (const char* url : {"ftp://x", "concat:a.mp4|b.mp4", "pipe:0", "data:video/mp4;base64,AA",
                          "subfile:,start,0,end,10,:/etc/passwd", "gopher://x/", "udp://0:1234",
                          "tcp://127.0.0.1:80"}) {
    const absl::Status status = ValidateUrl(url);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(std::string(status.message()), HasSubstr("use rtsp://")) << url;
  }
}

TEST(ValidateUrl, RejectsShellMetacharactersAndOptionLikePaths) {
  for (const char* url : {"; rm -rf /", "a.mp4 && reboot", "$(id).mp4", "`id`.mp4", "a.mp4|nc x 1",
                          "-i.mp4", "a.mp4 > /etc/passwd", "it's.mp4"}) {
    EXPECT_EQ(ValidateUrl(url).code(), absl::StatusCode::kInvalidArgument) << url;
  }
}

TEST(ValidateUrl, RejectsMalformedUrls) {
  for (const char* url :
       {"", "rtsp://", "rtsp:///stream", "rtsp://host:99999/x", "rtsp://host:abc/x",
        "rtsp://host:/x", "http:/host/x", "rtsp://ho st/x", "rtsp://host/x\n", "rtsp://[::1/x",
        "rtsp://ho$t/x", "file://remote-host/x.mp4", "file://", "file:///", "file:///a%0Ab.mp4",
        "file:///a%zz.mp4"}) {
    EXPECT_EQ(ValidateUrl(url).code(), absl::StatusCode::kInvalidArgument) << "[" << url << "]";
  }
}

TEST(ValidateUrl, ErrorMessagesNeverShowThePassword) {
  const absl::Status status = ValidateUrl("ftp://operator:hunter2@192.0.2.1/x");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("hunter2")));
  EXPECT_THAT(std::string(status.message()), HasSubstr("operator:***@192.0.2.1"));
}

TEST(RedactUrl, HidesPasswordsInTheUserInfo) {
  EXPECT_EQ(RedactUrl("rtsp://user:pass@host/x"), "rtsp://user:***@host/x");
  EXPECT_EQ(RedactUrl("rtsp://admin:p@ss/w:rd@192.0.2.1:554/ch1"),
            "rtsp://admin:***@192.0.2.1:554/ch1");
  EXPECT_EQ(RedactUrl("https://u:secret@example.org?x=1"), "https://u:***@example.org?x=1");
}

TEST(RedactUrl, HidesSecretParameters) {
  EXPECT_EQ(RedactUrl("rtsp://192.0.2.1/user=admin&password=abc&channel=1&stream=0.sdp"),
            "rtsp://192.0.2.1/user=admin&password=***&channel=1&stream=0.sdp");
  EXPECT_EQ(RedactUrl("http://cam/video.cgi?user=a&pwd=xyz"),
            "http://cam/video.cgi?user=a&pwd=***");
  EXPECT_EQ(RedactUrl("https://cdn/live.m3u8?access_token=T0K3N#t"),
            "https://cdn/live.m3u8?access_token=***#t");
}

TEST(RedactUrl, LeavesUrlsWithoutSecretsAlone) {
  for (const char* url : {"rtsp://user@host/x", "rtsp://host:554/a?channel=1",
                          "/srv/video/cam:1.mp4", "file:///srv/a.mp4", "not a url", ""}) {
    EXPECT_EQ(RedactUrl(url), url);
  }
}

TEST(ParseUrl, HandsPlainPathsToFfmpegAsFileUrlsSoNoOtherProtocolCanBeSelected) {
  absl::StatusOr<ParsedUrl> parsed = ParseUrl("videos/cam:1.mp4");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->kind, UrlKind::kFile);
  EXPECT_EQ(parsed->path, "videos/cam:1.mp4");
  EXPECT_EQ(parsed->ffmpeg_url, "file:videos/cam:1.mp4");
}

TEST(ParseUrl, DecodesFileUrls) {
  absl::StatusOr<ParsedUrl> parsed = ParseUrl("file:///srv/video/front%20door.mp4");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->kind, UrlKind::kFile);
  EXPECT_EQ(parsed->path, "/srv/video/front door.mp4");
  EXPECT_EQ(parsed->ffmpeg_url, "file:/srv/video/front door.mp4");
}

TEST(ParseUrl, TellsRtspFromHttp) {
  EXPECT_EQ(ParseUrl("RTSPS://h/x")->kind, UrlKind::kRtsp);
  EXPECT_EQ(ParseUrl("RTSPS://h/x")->ffmpeg_url, "rtsps://h/x");
  EXPECT_EQ(ParseUrl("https://h/x")->kind, UrlKind::kHttp);
}

}  // namespace
}  // namespace custos::ingest
