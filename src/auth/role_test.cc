#include "auth/role.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace custos::auth {
namespace {

using R = Role;
using P = Permission;

// DESIGN.md §5 with the operational ladder of docs/auth.md (viewer < operator < investigator
// < supervisor), written out independently of role.cc: who may do what.
const std::map<Permission, std::set<Role>>& Expected() {
  static const auto* const kTable = new std::map<Permission, std::set<Role>>{
      {P::kReadTransparency,
       {R::kPublic, R::kViewer, R::kOperator, R::kInvestigator, R::kSupervisor, R::kAuditor,
        R::kAdmin}},
      {P::kLiveViewBlurred, {R::kViewer, R::kOperator, R::kInvestigator, R::kSupervisor}},
      {P::kViewAlerts, {R::kOperator, R::kInvestigator, R::kSupervisor}},
      {P::kAcknowledgeAlerts, {R::kOperator, R::kInvestigator, R::kSupervisor}},
      {P::kSearchEvents, {R::kInvestigator, R::kSupervisor}},
      {P::kPlayback, {R::kInvestigator, R::kSupervisor}},
      {P::kPlateQuery, {R::kInvestigator, R::kSupervisor}},
      {P::kExport, {R::kInvestigator, R::kSupervisor}},
      {P::kProposeWatchlist, {R::kInvestigator, R::kSupervisor}},
      {P::kApproveWatchlist, {R::kSupervisor}},
      {P::kApproveUnblurredExport, {R::kSupervisor}},
      {P::kEvidenceHold, {R::kSupervisor}},
      {P::kReadAudit, {R::kAuditor}},
      {P::kReadStatistics, {R::kAuditor}},
      {P::kReadConfig, {R::kAuditor, R::kAdmin}},
      {P::kManageCameras, {R::kAdmin}},
      {P::kManageUsers, {R::kAdmin}},
      {P::kManagePolicies, {R::kAdmin}},
      {P::kReadPolicies, {R::kInvestigator, R::kSupervisor, R::kAuditor, R::kAdmin}},
  };
  return *kTable;
}

TEST(Roles, AllowExactlyWhatTheDesignTableSays) {
  ASSERT_EQ(Expected().size(), AllPermissions().size()) << "a permission is missing from the test";
  for (Permission permission : AllPermissions()) {
    ASSERT_TRUE(Expected().count(permission)) << PermissionName(permission);
    const std::set<Role>& allowed = Expected().at(permission);
    for (Role role : AllRoles()) {
      EXPECT_EQ(Allows(role, permission), allowed.count(role) == 1)
          << RoleName(role) << " x " << PermissionName(permission);
    }
  }
}

TEST(Roles, AdminAndAuditorCannotSeeVideo) {
  for (Role role : {R::kAdmin, R::kAuditor}) {
    for (Permission video : {P::kLiveViewBlurred, P::kPlayback, P::kExport}) {
      EXPECT_FALSE(Allows(role, video)) << RoleName(role) << " " << PermissionName(video);
    }
  }
}

TEST(Roles, PublicMayOnlyReadTheTransparencyPages) {
  for (Permission permission : AllPermissions()) {
    EXPECT_EQ(Allows(R::kPublic, permission), permission == P::kReadTransparency)
        << PermissionName(permission);
  }
}

TEST(Roles, NamesRoundTripAndUnknownNamesAreRejected) {
  for (Role role : AllRoles()) EXPECT_EQ(RoleFromName(RoleName(role)), role);
  EXPECT_EQ(RoleFromName("root"), std::nullopt);
  EXPECT_EQ(RoleFromName("Admin"), std::nullopt);
  std::set<std::string> names;
  for (Permission permission : AllPermissions()) {
    EXPECT_TRUE(names.insert(std::string(PermissionName(permission))).second);
    EXPECT_NE(PermissionDescription(permission), "unknown");
  }
}

TEST(PermissionTable, DocsShowTheTableTheCodeImplements) {
  const std::filesystem::path doc = std::filesystem::path(CUSTOS_SOURCE_DIR) / "docs" / "auth.md";
  std::ifstream in(doc);
  ASSERT_TRUE(in) << "cannot read " << doc;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string begin = "<!-- permission-table:begin -->\n";
  const std::string end = "<!-- permission-table:end -->";
  const size_t from = text.find(begin);
  const size_t to = text.find(end);
  ASSERT_NE(from, std::string::npos) << "marker missing in " << doc;
  ASSERT_NE(to, std::string::npos) << "marker missing in " << doc;
  const std::string block = text.substr(from + begin.size(), to - from - begin.size());
  EXPECT_EQ(block, RenderPermissionTable())
      << "docs/auth.md is out of date; replace the block between the markers with:\n"
      << RenderPermissionTable();
}

}  // namespace
}  // namespace custos::auth
