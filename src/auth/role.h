// Roles and what each may do: the one place that decides Allows(role, permission). The table
// is written out in docs/auth.md; a test renders it from this code and compares.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace custos::auth {

// The roles of DESIGN.md §5. A user has exactly one role; roles are not cumulative (a
// supervisor does not inherit what an investigator may do), which keeps the approver of a
// four-eyes act a different kind of user from the requester.
enum class Role {
  kPublic,  // Anonymous: the transparency page and its JSON/CSV. Never a user's role.
  kViewer,
  kOperator,
  kInvestigator,
  kSupervisor,
  kAuditor,  // The data protection officer.
  kAdmin,
};

// What a request wants to do. Allows() is necessary, not sufficient: acts that need a legal
// basis or a case reference (DESIGN.md §1) are also checked by the policy layer.
enum class Permission {
  kReadTransparency,  // Public camera register, public statistics, DPIA report.
  kLiveViewBlurred,   // Live video with faces (and plates, if configured) blurred.
  kViewAlerts,
  kAcknowledgeAlerts,
  kSearchEvents,
  kPlayback,  // Recorded video, blurred.
  kPlateQuery,
  kExport,            // Request an export; an unblurred one also needs supervisor approval.
  kProposeWatchlist,  // Propose a watchlist entry, which a supervisor then approves.
  kApproveWatchlist,  // The second pair of eyes on a watchlist entry.
  kApproveUnblurredExport,
  kEvidenceHold,
  kReadAudit,
  kReadStatistics,  // Internal statistics, beyond the public ones.
  kReadConfig,
  kManageCameras,
  kManageUsers,  // Users, their roles, API tokens, sessions of others.
  kManagePolicies,
  kReadPolicies,  // Legal bases, authorisations, assemblies, approvals, holds (not video).
};

// Every role and permission, in declaration order.
std::span<const Role> AllRoles();
std::span<const Permission> AllPermissions();

// Whether `role` may do `permission`. Pure, thread-safe.
bool Allows(Role role, Permission permission);

// "viewer", "operator", ..., "public": the names used in the database, config and API.
std::string_view RoleName(Role role);
std::optional<Role> RoleFromName(std::string_view name);

// "live_view_blurred", ...; and a short description for documentation and error messages.
std::string_view PermissionName(Permission permission);
std::string_view PermissionDescription(Permission permission);

// The permission table as Markdown (one row per permission, one column per role, "✓" where
// allowed), exactly as it appears in docs/auth.md.
std::string RenderPermissionTable();

}  // namespace custos::auth
