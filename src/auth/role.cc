#include "auth/role.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "auth/strings.h"

namespace custos::auth {
namespace {

constexpr std::array kRoles = {Role::kPublic,       Role::kViewer,     Role::kOperator,
                               Role::kInvestigator, Role::kSupervisor, Role::kAuditor,
                               Role::kAdmin};

constexpr std::array kPermissions = {
    Permission::kReadTransparency,
    Permission::kLiveViewBlurred,
    Permission::kViewAlerts,
    Permission::kAcknowledgeAlerts,
    Permission::kSearchEvents,
    Permission::kPlayback,
    Permission::kPlateQuery,
    Permission::kExport,
    Permission::kProposeWatchlist,
    Permission::kApproveWatchlist,
    Permission::kApproveUnblurredExport,
    Permission::kEvidenceHold,
    Permission::kReadAudit,
    Permission::kReadStatistics,
    Permission::kReadConfig,
    Permission::kManageCameras,
    Permission::kManageUsers,
    Permission::kManagePolicies,
    Permission::kReadPolicies,
};

}  // namespace

std::span<const Role> AllRoles() { return kRoles; }
std::span<const Permission> AllPermissions() { return kPermissions; }

bool Allows(Role role, Permission permission) {
  using P = Permission;
  // Everyone, logged in or not, may read what is public.
  if (permission == P::kReadTransparency) return true;
  switch (role) {
    case Role::kPublic:
      return false;
    // The operational roles form a ladder: each may do what the one before it may, as an
    // investigator reviewing footage also watches live and a supervisor also investigates.
    case Role::kViewer:
      return permission == P::kLiveViewBlurred;
    case Role::kOperator:
      return permission == P::kViewAlerts || permission == P::kAcknowledgeAlerts ||
             Allows(Role::kViewer, permission);
    case Role::kInvestigator:
      return permission == P::kSearchEvents || permission == P::kPlayback ||
             permission == P::kPlateQuery || permission == P::kExport ||
             permission == P::kProposeWatchlist || permission == P::kReadPolicies ||
             Allows(Role::kOperator, permission);
    case Role::kSupervisor:
      return permission == P::kApproveWatchlist || permission == P::kApproveUnblurredExport ||
             permission == P::kEvidenceHold || Allows(Role::kInvestigator, permission);
    case Role::kAuditor:
      // No video of any kind.
      return permission == P::kReadAudit || permission == P::kReadStatistics ||
             permission == P::kReadConfig || permission == P::kReadPolicies;
    case Role::kAdmin:
      // Cannot read video, and nobody may alter the audit log: there is no such permission.
      return permission == P::kManageCameras || permission == P::kManageUsers ||
             permission == P::kManagePolicies || permission == P::kReadConfig ||
             permission == P::kReadPolicies;
  }
  return false;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPublic:
      return "public";
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kInvestigator:
      return "investigator";
    case Role::kSupervisor:
      return "supervisor";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::optional<Role> RoleFromName(std::string_view name) {
  for (Role role : kRoles) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kReadTransparency:
      return "read_transparency";
    case Permission::kLiveViewBlurred:
      return "live_view_blurred";
    case Permission::kViewAlerts:
      return "view_alerts";
    case Permission::kAcknowledgeAlerts:
      return "acknowledge_alerts";
    case Permission::kSearchEvents:
      return "search_events";
    case Permission::kPlayback:
      return "playback";
    case Permission::kPlateQuery:
      return "plate_query";
    case Permission::kExport:
      return "export";
    case Permission::kProposeWatchlist:
      return "propose_watchlist";
    case Permission::kApproveWatchlist:
      return "approve_watchlist";
    case Permission::kApproveUnblurredExport:
      return "approve_unblurred_export";
    case Permission::kEvidenceHold:
      return "evidence_hold";
    case Permission::kReadAudit:
      return "read_audit";
    case Permission::kReadStatistics:
      return "read_statistics";
    case Permission::kReadConfig:
      return "read_config";
    case Permission::kManageCameras:
      return "manage_cameras";
    case Permission::kManageUsers:
      return "manage_users";
    case Permission::kManagePolicies:
      return "manage_policies";
    case Permission::kReadPolicies:
      return "read_policies";
  }
  return "unknown";
}

std::string_view PermissionDescription(Permission permission) {
  switch (permission) {
    case Permission::kReadTransparency:
      return "read the public camera register and statistics";
    case Permission::kLiveViewBlurred:
      return "watch live video, blurred";
    case Permission::kViewAlerts:
      return "see alerts";
    case Permission::kAcknowledgeAlerts:
      return "acknowledge alerts";
    case Permission::kSearchEvents:
      return "search events";
    case Permission::kPlayback:
      return "play back recorded video";
    case Permission::kPlateQuery:
      return "query licence plate reads";
    case Permission::kExport:
      return "export video";
    case Permission::kProposeWatchlist:
      return "propose watchlist entries";
    case Permission::kApproveWatchlist:
      return "approve watchlist entries";
    case Permission::kApproveUnblurredExport:
      return "approve unblurred exports";
    case Permission::kEvidenceHold:
      return "put footage on evidence hold";
    case Permission::kReadAudit:
      return "read the audit log";
    case Permission::kReadStatistics:
      return "read internal statistics";
    case Permission::kReadConfig:
      return "read the configuration";
    case Permission::kManageCameras:
      return "manage cameras";
    case Permission::kManageUsers:
      return "manage users and API tokens";
    case Permission::kManagePolicies:
      return "manage policies";
    case Permission::kReadPolicies:
      return "read legal bases, authorisations, assemblies, approvals and holds";
  }
  return "unknown";
}

std::string RenderPermissionTable() {
  std::string out = "| permission |";
  for (Role role : kRoles) absl::StrAppend(&out, " ", Sv(RoleName(role)), " |");
  out += "\n|---|";
  for (size_t i = 0; i < kRoles.size(); ++i) out += "---|";
  out += "\n";
  for (Permission permission : kPermissions) {
    absl::StrAppend(&out, "| `", Sv(PermissionName(permission)), "` |");
    for (Role role : kRoles) out += Allows(role, permission) ? " ✓ |" : "   |";
    out += "\n";
  }
  return out;
}

}  // namespace custos::auth
