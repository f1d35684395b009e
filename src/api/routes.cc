#include "api/routes.h"

#include <algorithm>
#include <array>

#include "api/strings.h"

namespace custos::api {
namespace {

using auth::AccessAction;
using auth::Permission;

constexpr std::string_view kSearchParams[] = {"camera", "type", "label", "zone",
                                              "from",   "to",   "limit", "after"};
constexpr std::string_view kStreamParams[] = {"camera", "type", "label", "zone"};

constexpr std::string_view kRangeParams[] = {"from", "to"};
constexpr std::string_view kPlaybackParams[] = {"from", "to", "legal_basis"};
constexpr std::string_view kExportParams[] = {"from", "to",        "legal_basis",
                                              "case", "unblurred", "approval"};
constexpr std::string_view kCountParams[] = {"camera", "type", "from", "to", "bucket_s"};
constexpr std::string_view kTrafficCountParams[] = {"camera", "line", "from", "to", "bucket_s"};

constexpr std::string_view kAuditReadParams[] = {"from", "limit"};
constexpr std::string_view kProofParams[] = {"index", "size"};
constexpr std::string_view kConsistencyParams[] = {"from", "to"};

constexpr std::string_view kMatchParams[] = {"status", "camera", "limit"};
constexpr std::string_view kPlateQueryParams[] = {"case", "legal_basis", "plate",          "camera",
                                                  "from", "to",          "max_confusions", "limit"};
constexpr std::string_view kPlateCropParams[] = {"case", "legal_basis"};
constexpr std::string_view kHitParams[] = {"status", "camera", "from", "to", "limit"};

constexpr std::span<const std::string_view> kNone{};

constexpr std::array kRoutes = {
    Route{RouteId::kLogin, Method::kPost, "/api/login", Access::kAnyone,
          Permission::kReadTransparency, kNone, true, false, std::nullopt,
          "Log in with a username and password; sets the session cookie."},
    Route{RouteId::kLogout, Method::kPost, "/api/logout", Access::kSignedIn,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "End the current session."},
    Route{RouteId::kMe, Method::kGet, "/api/me", Access::kSignedIn, Permission::kReadTransparency,
          kNone, false, false, std::nullopt, "Who the caller is and what their role may do."},
    Route{RouteId::kCameras, Method::kGet, "/api/cameras", Access::kSignedIn,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "The configured cameras; URLs (credentials redacted) only for manage_cameras."},
    Route{RouteId::kHealth, Method::kGet, "/api/health", Access::kSignedIn,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "Per-camera frame rate, drops and reconnects, and disk space."},
    Route{RouteId::kEvents, Method::kGet, "/api/events", Access::kSignedIn,
          Permission::kSearchEvents, kSearchParams, false, false, AccessAction::kSearch,
          "Search stored events, paged by id."},
    Route{RouteId::kEventStream, Method::kGet, "/api/events/stream", Access::kSignedIn,
          Permission::kViewAlerts, kStreamParams, false, true, std::nullopt,
          "New events as Server-Sent Events."},
    Route{RouteId::kOpenApi, Method::kGet, "/api/openapi.json", Access::kAnyone,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "This API as an OpenAPI 3.1 document."},
    Route{RouteId::kPublicRegister, Method::kGet, "/public/register.json", Access::kAnyone,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "The public camera register (DESIGN.md §1.7)."},
    Route{RouteId::kLiveJpeg, Method::kGet, "/api/cameras/{camera}/live.jpg", Access::kSignedIn,
          Permission::kLiveViewBlurred, kNone, false, false, AccessAction::kLiveView,
          "The camera's newest frame as JPEG."},
    Route{RouteId::kLiveMjpeg, Method::kGet, "/api/cameras/{camera}/live.mjpeg", Access::kSignedIn,
          Permission::kLiveViewBlurred, kNone, false, true, AccessAction::kLiveView,
          "Live video as MJPEG (multipart/x-mixed-replace)."},
    Route{RouteId::kRecordings, Method::kGet, "/api/cameras/{camera}/recordings", Access::kSignedIn,
          Permission::kPlayback, kRangeParams, false, false, std::nullopt,
          "The recording timeline: recorded spans and segments in a time range."},
    Route{RouteId::kClip, Method::kGet, "/api/cameras/{camera}/clip.mp4", Access::kSignedIn,
          Permission::kPlayback, kPlaybackParams, false, false, AccessAction::kPlayback,
          "Recorded video of a time range as one MP4, for playback."},
    Route{RouteId::kDownload, Method::kGet, "/api/cameras/{camera}/download.mp4", Access::kSignedIn,
          Permission::kExport, kExportParams, false, false, AccessAction::kDownload,
          "Recorded video of a time range as an MP4 file to keep: faces blurred, watermarked "
          "with its export id, its SHA-256 in the audit log."},
    Route{RouteId::kSnapshot, Method::kGet, "/api/events/{event}/snapshot.jpg", Access::kSignedIn,
          Permission::kViewAlerts, kNone, false, false, AccessAction::kPlayback,
          "The best snapshot of an event's track."},
    Route{RouteId::kCounts, Method::kGet, "/api/stats/counts", Access::kSignedIn,
          Permission::kViewAlerts, kCountParams, false, false, std::nullopt,
          "Events counted per time bucket and label."},
    Route{RouteId::kTrafficCounts, Method::kGet, "/api/traffic/counts", Access::kSignedIn,
          Permission::kViewAlerts, kTrafficCountParams, false, false, std::nullopt,
          "Line crossings counted per time bucket, line, direction and class, with their mean "
          "advisory speed."},
    Route{RouteId::kUsers, Method::kGet, "/api/users", Access::kSignedIn, Permission::kManageUsers,
          kNone, false, false, std::nullopt, "The user accounts."},
    Route{RouteId::kCreateUser, Method::kPost, "/api/users", Access::kSignedIn,
          Permission::kManageUsers, kNone, true, false, std::nullopt,
          "Create a user account with a role."},
    Route{RouteId::kDisableUser, Method::kPost, "/api/users/{username}/disable", Access::kSignedIn,
          Permission::kManageUsers, kNone, false, false, std::nullopt,
          "Disable an account and end its sessions."},
    Route{RouteId::kEnableUser, Method::kPost, "/api/users/{username}/enable", Access::kSignedIn,
          Permission::kManageUsers, kNone, false, false, std::nullopt,
          "Enable a disabled account."},
    Route{RouteId::kUiConfig, Method::kGet, "/public/ui.json", Access::kAnyone,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "What the web UI needs before login: site name and map settings."},
    Route{RouteId::kPolicy, Method::kGet, "/api/policy", Access::kSignedIn,
          Permission::kReadPolicies, kNone, false, false, std::nullopt,
          "Legal bases, face-recognition authorisations, protected assemblies, approval "
          "requests and evidence holds."},
    Route{RouteId::kAddLegalBasis, Method::kPost, "/api/legal-bases", Access::kSignedIn,
          Permission::kManagePolicies, kNone, true, false, std::nullopt,
          "Record a legal basis (court order, statute, case...)."},
    Route{RouteId::kRevokeLegalBasis, Method::kPost, "/api/legal-bases/revoke", Access::kSignedIn,
          Permission::kManagePolicies, kNone, true, false, std::nullopt,
          "Revoke a legal basis by its reference."},
    Route{RouteId::kAddFaceAuthorisation, Method::kPost, "/api/face-authorisations",
          Access::kSignedIn, Permission::kManagePolicies, kNone, true, false, std::nullopt,
          "Authorise face recognition on cameras for a time window (needs an approved request)."},
    Route{RouteId::kRevokeFaceAuthorisation, Method::kPost, "/api/face-authorisations/{id}/revoke",
          Access::kSignedIn, Permission::kManagePolicies, kNone, true, false, std::nullopt,
          "Revoke a face-recognition authorisation."},
    Route{RouteId::kAddAssembly, Method::kPost, "/api/assemblies", Access::kSignedIn,
          Permission::kManagePolicies, kNone, true, false, std::nullopt,
          "Declare a protected assembly: face recognition is off there and then."},
    Route{RouteId::kRevokeAssembly, Method::kPost, "/api/assemblies/{id}/revoke", Access::kSignedIn,
          Permission::kManagePolicies, kNone, true, false, std::nullopt,
          "Revoke a protected assembly."},
    Route{RouteId::kRequestApproval, Method::kPost, "/api/approvals", Access::kSignedIn,
          Permission::kReadPolicies, kNone, true, false, std::nullopt,
          "Ask a second person to approve a sensitive act (four eyes); the kind decides who may."},
    Route{RouteId::kApprove, Method::kPost, "/api/approvals/{id}/approve", Access::kSignedIn,
          Permission::kApproveWatchlist, kNone, false, false, std::nullopt,
          "Approve another user's request."},
    Route{RouteId::kReject, Method::kPost, "/api/approvals/{id}/reject", Access::kSignedIn,
          Permission::kApproveWatchlist, kNone, true, false, std::nullopt,
          "Reject another user's request, with a reason."},
    Route{RouteId::kPlaceHold, Method::kPost, "/api/holds", Access::kSignedIn,
          Permission::kPlayback, kNone, true, false, std::nullopt,
          "Keep recorded footage beyond retention for a case (needs an approved request)."},
    Route{RouteId::kReleaseHold, Method::kPost, "/api/holds/{id}/release", Access::kSignedIn,
          Permission::kEvidenceHold, kNone, true, false, std::nullopt,
          "Release an evidence hold; retention applies again."},
    Route{RouteId::kAuditEntries, Method::kGet, "/api/audit/entries", Access::kSignedIn,
          Permission::kReadAudit, kAuditReadParams, false, false, std::nullopt,
          "Entries of the audit log (each read is itself logged)."},
    Route{RouteId::kAuditProof, Method::kGet, "/api/audit/proof", Access::kSignedIn,
          Permission::kReadAudit, kProofParams, false, false, std::nullopt,
          "An entry with its inclusion proof against a signed checkpoint."},
    Route{RouteId::kPublicConsistency, Method::kGet, "/public/audit/consistency", Access::kAnyone,
          Permission::kReadTransparency, kConsistencyParams, false, false, std::nullopt,
          "A consistency proof between two signed checkpoints of the audit log."},
    Route{RouteId::kPublicCheckpoint, Method::kGet, "/public/checkpoint", Access::kAnyone,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "The audit log's latest signed checkpoint (C2SP tlog-checkpoint) and its key."},
    Route{RouteId::kPublicRegisterCsv, Method::kGet, "/public/register.csv", Access::kAnyone,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "The public camera register as CSV."},
    Route{RouteId::kPublicStats, Method::kGet, "/public/stats.json", Access::kAnyone,
          Permission::kReadTransparency, kNone, false, false, std::nullopt,
          "Public statistics per month: cameras, watchlist, authorisations, searches, matches, "
          "exports, deletions."},
    Route{RouteId::kWatchlist, Method::kGet, "/api/watchlist", Access::kSignedIn,
          Permission::kReadPolicies, kNone, false, false, std::nullopt,
          "Watchlist entries (metadata only, never embeddings or photos) with their status."},
    Route{RouteId::kProposeWatchlist, Method::kPost, "/api/watchlist", Access::kSignedIn,
          Permission::kProposeWatchlist, kNone, true, false, std::nullopt,
          "Propose an entry with enrolment photos (processed in memory, never kept); it is "
          "pending until a different supervisor approves it."},
    Route{RouteId::kApproveWatchlist, Method::kPost, "/api/watchlist/{id}/approve",
          Access::kSignedIn, Permission::kApproveWatchlist, kNone, false, false, std::nullopt,
          "Approve another user's proposed entry (four eyes): it becomes active."},
    Route{RouteId::kRejectWatchlist, Method::kPost, "/api/watchlist/{id}/reject", Access::kSignedIn,
          Permission::kApproveWatchlist, kNone, true, false, std::nullopt,
          "Reject a proposed entry, with a reason; its embeddings are erased."},
    Route{RouteId::kWithdrawWatchlist, Method::kPost, "/api/watchlist/{id}/withdraw",
          Access::kSignedIn, Permission::kProposeWatchlist, kNone, true, false, std::nullopt,
          "Take an entry off the watchlist at once, with a reason; its embeddings are erased."},
    Route{RouteId::kMatches, Method::kGet, "/api/matches", Access::kSignedIn,
          Permission::kAcknowledgeAlerts, kMatchParams, false, false, std::nullopt,
          "Face matches (leads to verify, confirmed, rejected), newest first, without crops."},
    Route{RouteId::kMatchCrop, Method::kGet, "/api/matches/{id}/crop.jpg", Access::kSignedIn,
          Permission::kAcknowledgeAlerts, kNone, false, false, AccessAction::kPlayback,
          "The face crop of a match, for the operator who verifies it."},
    Route{RouteId::kConfirmMatch, Method::kPost, "/api/matches/{id}/confirm", Access::kSignedIn,
          Permission::kAcknowledgeAlerts, kNone, true, false, std::nullopt,
          "Confirm a match after verifying it (optional note)."},
    Route{RouteId::kRejectMatch, Method::kPost, "/api/matches/{id}/reject", Access::kSignedIn,
          Permission::kAcknowledgeAlerts, kNone, true, false, std::nullopt,
          "Reject a match as false, with a reason."},
    Route{RouteId::kPlateReads, Method::kGet, "/api/plates/reads", Access::kSignedIn,
          Permission::kPlateQuery, kPlateQueryParams, false, false, std::nullopt,
          "Search the plate reads of the last days: needs a case reference and a legal basis in "
          "force; every query is on record in the audit log before it is answered."},
    Route{RouteId::kPlateReadCrop, Method::kGet, "/api/plates/reads/{id}/crop.jpg",
          Access::kSignedIn, Permission::kPlateQuery, kPlateCropParams, false, false, std::nullopt,
          "The plate crop of a read, under the same case and legal basis."},
    Route{RouteId::kHotlist, Method::kGet, "/api/plates/hotlist", Access::kSignedIn,
          Permission::kPlateQuery, kNone, false, false, std::nullopt,
          "Hotlist entries with their status (pending, active, rejected, withdrawn, expired)."},
    Route{RouteId::kProposeHotlist, Method::kPost, "/api/plates/hotlist", Access::kSignedIn,
          Permission::kPlateQuery, kNone, true, false, std::nullopt,
          "Propose a plate for the hotlist; it is pending until a different supervisor "
          "approves it."},
    Route{RouteId::kApproveHotlist, Method::kPost, "/api/plates/hotlist/{id}/approve",
          Access::kSignedIn, Permission::kApproveWatchlist, kNone, false, false, std::nullopt,
          "Approve another user's proposed hotlist entry (four eyes): it becomes active."},
    Route{RouteId::kRejectHotlist, Method::kPost, "/api/plates/hotlist/{id}/reject",
          Access::kSignedIn, Permission::kApproveWatchlist, kNone, true, false, std::nullopt,
          "Reject a proposed hotlist entry, with a reason."},
    Route{RouteId::kWithdrawHotlist, Method::kPost, "/api/plates/hotlist/{id}/withdraw",
          Access::kSignedIn, Permission::kPlateQuery, kNone, true, false, std::nullopt,
          "Take a plate off the hotlist at once, with a reason."},
    Route{RouteId::kPlateHits, Method::kGet, "/api/plates/hits", Access::kSignedIn,
          Permission::kAcknowledgeAlerts, kHitParams, false, false, std::nullopt,
          "Hotlist hits (leads to verify, confirmed, rejected), newest first, without crops."},
    Route{RouteId::kPlateHitCrop, Method::kGet, "/api/plates/hits/{id}/crop.jpg", Access::kSignedIn,
          Permission::kAcknowledgeAlerts, kNone, false, false, AccessAction::kPlayback,
          "The plate crop of a hit, for the operator who verifies it."},
    Route{RouteId::kConfirmPlateHit, Method::kPost, "/api/plates/hits/{id}/confirm",
          Access::kSignedIn, Permission::kAcknowledgeAlerts, kNone, true, false, std::nullopt,
          "Confirm a hit after checking the crop against the entry (optional note)."},
    Route{RouteId::kRejectPlateHit, Method::kPost, "/api/plates/hits/{id}/reject",
          Access::kSignedIn, Permission::kAcknowledgeAlerts, kNone, true, false, std::nullopt,
          "Reject a hit (a misread or another vehicle), with a reason."},
};

bool IsParamSegment(std::string_view segment) {
  if (segment.empty() || segment.size() > 64) return false;
  for (char c : segment) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

size_t MaxBodyBytes(const Route& route, size_t default_limit, size_t upload_limit) {
  return route.id == RouteId::kProposeWatchlist ? std::max(default_limit, upload_limit)
                                                : default_limit;
}

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kPost:
      return "POST";
  }
  return "GET";
}

bool IsStateChanging(Method method) {
  switch (method) {
    case Method::kGet:
      return false;
    case Method::kPost:
      return true;
  }
  return true;
}

bool PathMatches(std::string_view pattern, std::string_view request_path) {
  const std::vector<std::string_view> want = Split(pattern, '/');
  const std::vector<std::string_view> got = Split(request_path, '/');
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string_view w = want[i];
    if (w.size() >= 2 && w.front() == '{' && w.back() == '}') {
      if (!IsParamSegment(got[i])) return false;
    } else if (w != got[i]) {
      return false;
    }
  }
  return true;
}

std::string_view PathParam(std::string_view pattern, std::string_view request_path,
                           std::string_view name) {
  const std::vector<std::string_view> want = Split(pattern, '/');
  const std::vector<std::string_view> got = Split(request_path, '/');
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    const std::string_view w = want[i];
    if (w.size() == name.size() + 2 && w.front() == '{' && w.back() == '}' &&
        w.substr(1, name.size()) == name) {
      return got[i];
    }
  }
  return {};
}

}  // namespace custos::api
