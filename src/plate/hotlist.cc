#include "plate/hotlist.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "nlohmann/json.hpp"
#include "plate/plate_match.h"
#include "policy/policy_types.h"

namespace custos::plate {
namespace {

using json = nlohmann::json;
using policy::PolicyAction;

// PRAGMA application_id of a Custos hotlist database: "CSHL".
constexpr int64_t kApplicationId = 0x4353484C;

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string Day(int64_t time_ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixMillis(time_ms), absl::UTCTimeZone());
}

bool SamePerson(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(Sv(a), Sv(b));
}

// The record as stored and audited (its status comes from the policy engine when read).
json EntryJson(const HotlistEntry& e) {
  return json{{"id", e.id},
              {"plate", e.spec.plate},
              {"label", e.spec.label},
              {"reason", e.spec.reason},
              {"legal_basis_ref", e.spec.legal_basis_ref},
              {"expires_ms", e.spec.expires_ms},
              {"max_confusions", e.spec.max_confusions},
              {"approval_id", e.approval_id},
              {"proposed_by", e.proposed_by},
              {"proposed_ms", e.proposed_ms},
              {"withdrawn_by", e.withdrawn_by},
              {"withdrawn_ms", e.withdrawn_ms},
              {"withdraw_reason", e.withdraw_reason}};
}

absl::StatusOr<HotlistEntry> EntryFrom(const std::string& text, const std::string& path) {
  try {
    const json j = json::parse(text);
    HotlistEntry e;
    e.id = j.at("id").get<std::string>();
    e.spec.plate = j.at("plate").get<std::string>();
    e.spec.label = j.at("label").get<std::string>();
    e.spec.reason = j.at("reason").get<std::string>();
    e.spec.legal_basis_ref = j.at("legal_basis_ref").get<std::string>();
    e.spec.expires_ms = j.at("expires_ms").get<int64_t>();
    e.spec.max_confusions = j.at("max_confusions").get<int>();
    e.approval_id = j.at("approval_id").get<std::string>();
    e.proposed_by = j.at("proposed_by").get<std::string>();
    e.proposed_ms = j.at("proposed_ms").get<int64_t>();
    e.withdrawn_by = j.at("withdrawn_by").get<std::string>();
    e.withdrawn_ms = j.at("withdrawn_ms").get<int64_t>();
    e.withdraw_reason = j.at("withdraw_reason").get<std::string>();
    return e;
  } catch (const std::exception& ex) {
    return absl::DataLossError(absl::StrCat("hotlist database ", path,
                                            ": an entry cannot be read (", ex.what(),
                                            "); restore the file from a backup"));
  }
}

const std::vector<store::Migration>& Migrations() {
  static const auto* kMigrations = new std::vector<store::Migration>{
      {1,
       {
           "CREATE TABLE entries ("
           "  id TEXT PRIMARY KEY,"
           "  plate TEXT NOT NULL,"
           "  record TEXT NOT NULL"
           ") WITHOUT ROWID",
           absl::StrCat("PRAGMA application_id = ", kApplicationId),
       }},
  };
  return *kMigrations;
}

}  // namespace

std::string_view HotlistStatusName(HotlistStatus status) {
  switch (status) {
    case HotlistStatus::kPending:
      return "pending";
    case HotlistStatus::kActive:
      return "active";
    case HotlistStatus::kRejected:
      return "rejected";
    case HotlistStatus::kWithdrawn:
      return "withdrawn";
    case HotlistStatus::kExpired:
      return "expired";
  }
  return "pending";
}

absl::StatusOr<std::unique_ptr<HotlistStore>> HotlistStore::Create(const HotlistOptions& options,
                                                                   const HotlistDeps& deps) {
  if (deps.clock == nullptr || deps.policy == nullptr || deps.auditor == nullptr) {
    return absl::InvalidArgumentError("hotlist: clock, policy engine and auditor are required");
  }
  if (options.default_expiry_ms <= 0 || options.max_expiry_ms < options.default_expiry_ms) {
    return absl::InvalidArgumentError("hotlist: expiries must be positive, default <= maximum");
  }
  CUSTOS_ASSIGN_OR_RETURN(store::SqliteDb db,
                          store::OpenModuleDb(options.path, kApplicationId, Migrations(),
                                              "hotlist database", options.busy_timeout_ms));
  return std::unique_ptr<HotlistStore>(new HotlistStore(options, deps, std::move(db)));
}

HotlistStore::HotlistStore(const HotlistOptions& options, const HotlistDeps& deps,
                           store::SqliteDb db)
    : options_(options),
      clock_(deps.clock),
      policy_(deps.policy),
      auditor_(deps.auditor),
      db_(std::move(db)) {}

HotlistStore::~HotlistStore() = default;

absl::Status HotlistStore::Refuse(const auth::Principal& actor, PolicyAction action,
                                  std::string_view object, absl::Status refusal) {
  return policy::RecordRefusal(*auditor_, clock_->WallMs(), actor, action, object,
                               std::move(refusal));
}

HotlistStatus HotlistStore::StatusNow(HotlistEntry& entry, int64_t now) const {
  if (!entry.withdrawn_by.empty()) return HotlistStatus::kWithdrawn;
  absl::StatusOr<policy::ApprovalRequest> request = policy_->Status(entry.approval_id);
  if (request.ok()) {
    entry.decided_by = request->decided_by;
    entry.decided_ms = request->decided_ms;
  }
  if (request.ok() && request->status == policy::ApprovalStatus::kRejected) {
    return HotlistStatus::kRejected;
  }
  if (now >= entry.spec.expires_ms) return HotlistStatus::kExpired;
  if (!request.ok() || request->status == policy::ApprovalStatus::kExpired) {
    return HotlistStatus::kExpired;
  }
  if (request->status == policy::ApprovalStatus::kPending) return HotlistStatus::kPending;
  // Approved: active while the approval holds (its legal basis in force) and four eyes kept.
  const policy::Decision approval =
      policy_->CheckApproval(entry.approval_id, policy::ApprovalKind::kHotlistEntry, entry.id);
  if (!approval.allowed || SamePerson(request->decided_by, entry.proposed_by)) {
    return HotlistStatus::kExpired;
  }
  return HotlistStatus::kActive;
}

absl::StatusOr<HotlistEntry> HotlistStore::Propose(const auth::Principal& actor,
                                                   const HotlistSpec& spec_in) {
  if (absl::Status allowed = auth::Authenticator::Authorize(actor, auth::Permission::kPlateQuery);
      !allowed.ok()) {
    return Refuse(actor, PolicyAction::kHotlistPropose, spec_in.plate, std::move(allowed));
  }
  HotlistSpec spec = spec_in;
  spec.plate = NormalizePlate(spec_in.plate);
  if (spec.plate.size() < 2 || spec.plate.size() > 12) {
    return absl::InvalidArgumentError(absl::StrCat(
        "plate '", spec_in.plate, "' must have 2 to 12 letters and digits (A-Z, 0-9)"));
  }
  CUSTOS_RETURN_IF_ERROR(policy::CheckText(spec.label, "label", 200, true));
  CUSTOS_RETURN_IF_ERROR(policy::CheckText(spec.reason, "reason", 2000, true, true));
  if (spec.max_confusions < 0 || spec.max_confusions > 2) {
    return absl::InvalidArgumentError("max_confusions must be 0, 1 or 2");
  }
  const policy::Decision basis =
      policy_->CheckLegalBasis(actor, spec.legal_basis_ref, policy::Act::kPlateHotlist);
  if (!basis.allowed) return policy::DecisionToStatus(basis);  // Audited by the engine.

  const int64_t now = clock_->WallMs();
  const bool default_expiry = spec.expires_ms == 0;
  if (default_expiry) spec.expires_ms = now + options_.default_expiry_ms;
  if (spec.expires_ms <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat("expiry ", Day(spec.expires_ms), " is not in the future; give a later one"));
  }
  if (spec.expires_ms > now + options_.max_expiry_ms) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expiry ", Day(spec.expires_ms), " is more than ", options_.max_expiry_ms / 86'400'000,
        " days away; give an earlier expiry (renew the entry when it runs out)"));
  }
  if (const std::optional<policy::LegalBasis> found = policy_->FindLegalBasis(spec.legal_basis_ref);
      found && spec.expires_ms > found->expires_ms) {
    if (!default_expiry) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expiry ", Day(spec.expires_ms), " is after legal basis '", spec.legal_basis_ref,
          "' expires (", Day(found->expires_ms), "); give an expiry on or before that"));
    }
    spec.expires_ms = found->expires_ms;  // The default never outlives the basis.
  }

  HotlistEntry entry;
  entry.id = NewUlid(now);
  entry.spec = spec;
  entry.proposed_by = actor.name;
  entry.proposed_ms = now;
  CUSTOS_ASSIGN_OR_RETURN(
      const policy::ApprovalRequest request,
      policy_->RequestApproval(
          actor, {policy::ApprovalKind::kHotlistEntry, entry.id, spec.legal_basis_ref, "",
                  absl::StrCat("plate ", spec.plate, ": ", spec.reason)}));
  entry.approval_id = request.id;
  entry.status = HotlistStatus::kPending;

  absl::MutexLock lock(&mu_);
  policy::PolicyChange change;
  change.time_ms = now;
  change.actor = actor.name;
  change.role = actor.role;
  change.action = PolicyAction::kHotlistPropose;
  change.object = entry.id;
  change.legal_basis_ref = spec.legal_basis_ref;
  change.purpose = spec.label;
  change.details = EntryJson(entry).dump();
  CUSTOS_RETURN_IF_ERROR(
      policy::CommitAudited(db_.get(), options_.path, *auditor_, change, [&]() -> absl::Status {
        CUSTOS_ASSIGN_OR_RETURN(
            store::Statement stmt,
            store::Statement::Prepare(
                db_.get(), "INSERT INTO entries (id, plate, record) VALUES (?1, ?2, ?3)"));
        stmt.Bind(1, entry.id);
        stmt.Bind(2, entry.spec.plate);
        stmt.Bind(3, EntryJson(entry).dump());
        const int rc = stmt.Step();
        if (rc != SQLITE_DONE) {
          return store::SqliteStatus(db_.get(), rc, "adding a hotlist entry", options_.path);
        }
        return absl::OkStatus();
      }));
  return entry;
}

absl::StatusOr<HotlistEntry> HotlistStore::Approve(const auth::Principal& approver,
                                                   std::string_view id) {
  CUSTOS_ASSIGN_OR_RETURN(HotlistEntry entry, Get(id));
  if (entry.status != HotlistStatus::kPending) {
    return absl::FailedPreconditionError(
        absl::StrCat("hotlist entry ", entry.id, " is ", Sv(HotlistStatusName(entry.status)),
                     ", not pending; only a pending entry can be approved"));
  }
  // The policy engine refuses the proposer, other roles and API tokens, and audits it.
  CUSTOS_RETURN_IF_ERROR(policy_->Approve(approver, entry.approval_id).status());
  return Get(id);
}

absl::StatusOr<HotlistEntry> HotlistStore::Reject(const auth::Principal& approver,
                                                  std::string_view id, std::string_view reason) {
  CUSTOS_ASSIGN_OR_RETURN(HotlistEntry entry, Get(id));
  if (entry.status != HotlistStatus::kPending) {
    return absl::FailedPreconditionError(absl::StrCat("hotlist entry ", entry.id, " is ",
                                                      Sv(HotlistStatusName(entry.status)),
                                                      "; only a pending entry can be rejected"));
  }
  CUSTOS_RETURN_IF_ERROR(policy_->Reject(approver, entry.approval_id, reason).status());
  return Get(id);
}

absl::StatusOr<HotlistEntry> HotlistStore::Withdraw(const auth::Principal& actor,
                                                    std::string_view id, std::string_view reason) {
  if (actor.kind == auth::Principal::Kind::kAnonymous) {
    return absl::UnauthenticatedError("log in to withdraw a hotlist entry");
  }
  CUSTOS_RETURN_IF_ERROR(policy::CheckText(reason, "reason", 2000, true, true));
  CUSTOS_ASSIGN_OR_RETURN(HotlistEntry entry, Get(id));
  const bool proposer = actor.kind == auth::Principal::Kind::kUser &&
                        SamePerson(actor.name, entry.proposed_by) &&
                        auth::Allows(actor.role, auth::Permission::kPlateQuery);
  if (!proposer && !auth::Allows(actor.role, auth::Permission::kApproveWatchlist)) {
    return Refuse(actor, PolicyAction::kHotlistWithdraw, entry.id,
                  absl::PermissionDeniedError(
                      absl::StrCat("only the proposer (", entry.proposed_by,
                                   ") or a supervisor may withdraw hotlist entry ", entry.id)));
  }
  if (entry.status != HotlistStatus::kPending && entry.status != HotlistStatus::kActive) {
    return absl::FailedPreconditionError(absl::StrCat("hotlist entry ", entry.id, " is already ",
                                                      Sv(HotlistStatusName(entry.status)),
                                                      "; nothing to withdraw"));
  }
  entry.withdrawn_by = actor.name;
  entry.withdrawn_ms = clock_->WallMs();
  entry.withdraw_reason = std::string(reason);
  entry.status = HotlistStatus::kWithdrawn;
  absl::MutexLock lock(&mu_);
  policy::PolicyChange change;
  change.time_ms = entry.withdrawn_ms;
  change.actor = actor.name;
  change.role = actor.role;
  change.action = PolicyAction::kHotlistWithdraw;
  change.object = entry.id;
  change.legal_basis_ref = entry.spec.legal_basis_ref;
  change.reason = entry.withdraw_reason;
  change.details = EntryJson(entry).dump();
  CUSTOS_RETURN_IF_ERROR(
      policy::CommitAudited(db_.get(), options_.path, *auditor_, change, [&]() -> absl::Status {
        CUSTOS_ASSIGN_OR_RETURN(
            store::Statement stmt,
            store::Statement::Prepare(db_.get(), "UPDATE entries SET record = ?2 WHERE id = ?1"));
        stmt.Bind(1, entry.id);
        stmt.Bind(2, EntryJson(entry).dump());
        const int rc = stmt.Step();
        if (rc != SQLITE_DONE) {
          return store::SqliteStatus(db_.get(), rc, "withdrawing a hotlist entry", options_.path);
        }
        return absl::OkStatus();
      }));
  return entry;
}

absl::StatusOr<HotlistEntry> HotlistStore::GetLocked(std::string_view id) const {
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(), "SELECT record FROM entries WHERE id = ?1"));
  stmt.Bind(1, id);
  const int rc = stmt.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("hotlist entry ", Sv(id), " does not exist"));
  }
  if (rc != SQLITE_ROW) {
    return store::SqliteStatus(db_.get(), rc, "reading a hotlist entry", options_.path);
  }
  CUSTOS_ASSIGN_OR_RETURN(HotlistEntry entry, EntryFrom(stmt.ColumnText(0), options_.path));
  entry.status = StatusNow(entry, clock_->WallMs());
  return entry;
}

absl::StatusOr<HotlistEntry> HotlistStore::Get(std::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  return GetLocked(id);
}

absl::StatusOr<std::vector<HotlistEntry>> HotlistStore::List() const {
  const int64_t now = clock_->WallMs();
  absl::ReaderMutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(), "SELECT record FROM entries ORDER BY id DESC"));
  std::vector<HotlistEntry> out;
  for (;;) {
    const int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      return store::SqliteStatus(db_.get(), rc, "listing the hotlist", options_.path);
    }
    CUSTOS_ASSIGN_OR_RETURN(HotlistEntry entry, EntryFrom(stmt.ColumnText(0), options_.path));
    entry.status = StatusNow(entry, now);
    out.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<std::vector<HotlistMatch>> HotlistStore::Match(const PlateRead& read) const {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<HotlistEntry> entries, List());
  std::vector<HotlistMatch> out;
  for (HotlistEntry& entry : entries) {
    if (entry.status != HotlistStatus::kActive) continue;
    std::optional<HotlistMatch> best;
    for (size_t i = 0; i <= read.candidates.size(); ++i) {
      const std::string& text = i == 0 ? read.text : read.candidates[i - 1].text;
      const float confidence = i == 0 ? read.confidence : read.candidates[i - 1].confidence;
      const std::optional<int> d = MatchPlate(entry.spec.plate, text, entry.spec.max_confusions);
      if (d && (!best || *d < best->distance)) {
        best = HotlistMatch{.entry = entry, .text = text, .distance = *d, .confidence = confidence};
      }
    }
    if (!best) continue;
    const std::optional<policy::LegalBasis> basis =
        policy_->FindLegalBasis(entry.spec.legal_basis_ref);
    best->keep_until_ms = basis ? basis->expires_ms : entry.spec.expires_ms;
    out.push_back(std::move(*best));
  }
  std::stable_sort(out.begin(), out.end(), [](const HotlistMatch& a, const HotlistMatch& b) {
    return a.distance < b.distance;
  });
  return out;
}

}  // namespace custos::plate
