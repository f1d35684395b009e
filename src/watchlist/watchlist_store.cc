#include "watchlist/watchlist_store.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/ulid.h"
#include "custos/status.h"
#include "nlohmann/json.hpp"

namespace custos::watchlist {
namespace {

using json = nlohmann::json;
using policy::PolicyAction;

// PRAGMA application_id of a Custos watchlist database: "CSWL".
constexpr int64_t kApplicationId = 0x4353574C;
constexpr size_t kMaxShortText = 200;
constexpr size_t kMaxLongText = 2000;

json EntryJson(const WatchlistEntry& e) {
  return json{{"id", e.id},
              {"label", e.label},
              {"category", std::string(SubjectCategoryName(e.category))},
              {"legal_basis_ref", e.legal_basis_ref},
              {"reason", e.reason},
              {"approval_id", e.approval_id},
              {"proposed_by", e.proposed_by},
              {"proposed_user_id", e.proposed_user_id},
              {"proposed_ms", e.proposed_ms},
              {"expires_ms", e.expires_ms},
              {"status", std::string(EntryStatusName(e.status))},
              {"decided_by", e.decided_by},
              {"decided_ms", e.decided_ms},
              {"decision_reason", e.decision_reason},
              {"withdrawn_by", e.withdrawn_by},
              {"withdrawn_ms", e.withdrawn_ms},
              {"withdraw_reason", e.withdraw_reason},
              {"embeddings", e.embeddings}};
}

absl::StatusOr<WatchlistEntry> EntryFrom(const std::string& text, const std::string& path) {
  try {
    const json j = json::parse(text);
    WatchlistEntry e;
    e.id = j.at("id").get<std::string>();
    e.label = j.at("label").get<std::string>();
    const auto category = SubjectCategoryFromName(j.at("category").get<std::string>());
    const auto status = EntryStatusFromName(j.at("status").get<std::string>());
    if (!category || !status) throw std::runtime_error("unknown category or status");
    e.category = *category;
    e.status = *status;
    e.legal_basis_ref = j.at("legal_basis_ref").get<std::string>();
    e.reason = j.at("reason").get<std::string>();
    e.approval_id = j.at("approval_id").get<std::string>();
    e.proposed_by = j.at("proposed_by").get<std::string>();
    e.proposed_user_id = j.at("proposed_user_id").get<int64_t>();
    e.proposed_ms = j.at("proposed_ms").get<int64_t>();
    e.expires_ms = j.at("expires_ms").get<int64_t>();
    e.decided_by = j.at("decided_by").get<std::string>();
    e.decided_ms = j.at("decided_ms").get<int64_t>();
    e.decision_reason = j.at("decision_reason").get<std::string>();
    e.withdrawn_by = j.at("withdrawn_by").get<std::string>();
    e.withdrawn_ms = j.at("withdrawn_ms").get<int64_t>();
    e.withdraw_reason = j.at("withdraw_reason").get<std::string>();
    e.embeddings = j.at("embeddings").get<int>();
    return e;
  } catch (const std::exception& ex) {
    return absl::DataLossError(absl::StrCat("watchlist database ", path,
                                            ": an entry record cannot be read (", ex.what(),
                                            "); restore the file from a backup"));
  }
}

absl::Status CheckEmbeddings(const std::vector<face::Embedding>& embeddings, int dim, int max) {
  if (embeddings.empty()) {
    return absl::InvalidArgumentError(
        "an entry needs at least one enrolment face; give photos with a clear, frontal face");
  }
  if (static_cast<int>(embeddings.size()) > max) {
    return absl::InvalidArgumentError(absl::StrCat("an entry holds at most ", max,
                                                   " enrolment faces; ", embeddings.size(),
                                                   " were given. Choose the best ones"));
  }
  for (size_t i = 0; i < embeddings.size(); ++i) {
    const face::Embedding& e = embeddings[i];
    if (static_cast<int>(e.size()) != dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          "enrolment embedding ", i + 1, " has ", e.size(), " values; the embedder gives ", dim));
    }
    double norm = 0;
    for (const float v : e) {
      if (!std::isfinite(v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("enrolment embedding ", i + 1, " holds a value that is not finite"));
      }
      norm += static_cast<double>(v) * v;
    }
    if (norm < 1e-6) {
      return absl::InvalidArgumentError(
          absl::StrCat("enrolment embedding ", i + 1, " is a zero vector"));
    }
  }
  return absl::OkStatus();
}

bool SamePerson(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(Sv(a), Sv(b));
}

}  // namespace

std::string EntrySealContext(std::string_view entry_id) {
  return absl::StrCat("custos.watchlist.entry.v1:", Sv(entry_id));
}

const std::vector<store::Migration>& WatchlistStore::Migrations() {
  static const auto* kMigrations = new std::vector<store::Migration>{
      {1,
       {
           "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
           // record: the entry as JSON (metadata only). embeddings: the sealed enrolment
           // embeddings (base64 of v1 + nonce + ciphertext), '' once erased.
           "CREATE TABLE entries ("
           "  id TEXT PRIMARY KEY,"
           "  status TEXT NOT NULL,"  // pending, active, rejected, withdrawn (expired: computed)
           "  approval_id TEXT NOT NULL,"
           "  expires_ms INTEGER NOT NULL,"
           "  created_ms INTEGER NOT NULL,"
           "  record TEXT NOT NULL,"
           "  embeddings TEXT NOT NULL"
           ") WITHOUT ROWID",
           "CREATE INDEX entries_status ON entries (status, expires_ms)",
           absl::StrCat("PRAGMA application_id = ", kApplicationId),
       }},
  };
  return *kMigrations;
}

absl::StatusOr<std::unique_ptr<WatchlistStore>> WatchlistStore::Create(
    const WatchlistOptions& options, const WatchlistDeps& deps) {
  if (deps.clock == nullptr || deps.policy == nullptr || deps.auditor == nullptr) {
    return absl::InvalidArgumentError(
        "the watchlist needs a clock, the policy engine and an auditor: nothing changes without "
        "a legal basis, four eyes and an audit record");
  }
  if (options.key_path.empty()) {
    return absl::InvalidArgumentError(
        "watchlist key_path is empty; give one, such as DATA_DIR/keys/watchlist.key");
  }
  if (options.default_expiry_ms <= 0 || options.max_expiry_ms < options.default_expiry_ms) {
    return absl::InvalidArgumentError(
        "watchlist default_expiry_ms must be positive and not above max_expiry_ms");
  }
  if (options.max_embeddings < 1 || options.embedding_dim < 1) {
    return absl::InvalidArgumentError(
        "watchlist max_embeddings and embedding_dim must be at least 1");
  }
  CUSTOS_ASSIGN_OR_RETURN(store::SqliteDb db,
                          OpenModuleDb(options.path, kApplicationId, Migrations(),
                                       "watchlist database", options.busy_timeout_ms));
  CUSTOS_ASSIGN_OR_RETURN(SecretKey key, KeyForDb(db.get(), options.path, options.key_path));
  return std::unique_ptr<WatchlistStore>(
      new WatchlistStore(options, deps, std::move(db), std::move(key)));
}

WatchlistStore::WatchlistStore(const WatchlistOptions& options, const WatchlistDeps& deps,
                               store::SqliteDb db, SecretKey key)
    : options_(options),
      clock_(deps.clock),
      policy_(deps.policy),
      auditor_(deps.auditor),
      key_(std::move(key)),
      db_(std::move(db)) {}

WatchlistStore::~WatchlistStore() = default;

// ---- Plumbing ----

policy::PolicyChange WatchlistStore::MakeChange(const auth::Principal& actor, PolicyAction action,
                                                const WatchlistEntry& entry) const {
  policy::PolicyChange change;
  change.time_ms = clock_->WallMs();
  change.actor = actor.name;
  change.role = actor.role;
  change.action = action;
  change.object = entry.id;
  change.legal_basis_ref = entry.legal_basis_ref;
  change.purpose = std::string((SubjectCategoryName(entry.category)));
  change.details = EntryJson(entry).dump();
  return change;
}

absl::Status WatchlistStore::Refuse(const auth::Principal& actor, PolicyAction action,
                                    std::string_view object, absl::Status refusal) {
  return policy::RecordRefusal(*auditor_, clock_->WallMs(), actor, action, object,
                               std::move(refusal));
}

absl::Status WatchlistStore::Commit(policy::PolicyChange& change,
                                    const std::function<absl::Status()>& body) {
  absl::Status status = CommitAudited(db_.get(), options_.path, *auditor_, change, body);
  if (status.ok()) ++generation_;
  return status;
}

absl::StatusOr<WatchlistEntry> WatchlistStore::GetLocked(std::string_view entry_id) const {
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(), "SELECT record FROM entries WHERE id = ?1"));
  stmt.Bind(1, entry_id);
  const int rc = stmt.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("no watchlist entry with id '", Sv(entry_id), "'"));
  }
  if (rc != SQLITE_ROW) {
    return store::SqliteStatus(db_.get(), rc, "reading a watchlist entry", options_.path);
  }
  return EntryFrom(stmt.ColumnText(0), options_.path);
}

absl::Status WatchlistStore::UpdateLocked(const WatchlistEntry& entry, const std::string* sealed) {
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(
          db_.get(), sealed ? "UPDATE entries SET status = ?2, record = ?3, embeddings = ?4 "
                              "WHERE id = ?1"
                            : "UPDATE entries SET status = ?2, record = ?3 WHERE id = ?1"));
  stmt.Bind(1, entry.id);
  stmt.Bind(2, (EntryStatusName(entry.status)));
  stmt.Bind(3, EntryJson(entry).dump());
  if (sealed) stmt.Bind(4, *sealed);
  const int rc = stmt.Step();
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db_.get(), rc, "updating a watchlist entry", options_.path);
  }
  return absl::OkStatus();
}

// ---- Changes ----

absl::StatusOr<WatchlistEntry> WatchlistStore::Propose(
    const auth::Principal& actor, const ProposalSpec& spec,
    const std::vector<face::Embedding>& embeddings) {
  if (absl::Status allowed =
          auth::Authenticator::Authorize(actor, auth::Permission::kProposeWatchlist);
      !allowed.ok()) {
    return Refuse(actor, PolicyAction::kWatchlistPropose, spec.label, std::move(allowed));
  }
  CUSTOS_RETURN_IF_ERROR(CheckText(spec.label, "label", kMaxShortText, true));
  CUSTOS_RETURN_IF_ERROR(CheckText(spec.reason, "reason", kMaxLongText, true));
  CUSTOS_RETURN_IF_ERROR(
      CheckEmbeddings(embeddings, options_.embedding_dim, options_.max_embeddings));
  // Refusals are audited by the policy engine.
  const policy::Decision basis =
      policy_->CheckLegalBasis(actor, spec.legal_basis_ref, policy::Act::kWatchlistEntry);
  if (!basis.allowed) return policy::DecisionToStatus(basis);

  const int64_t now = clock_->WallMs();
  int64_t expires = spec.expires_ms != 0 ? spec.expires_ms : now + options_.default_expiry_ms;
  if (expires <= now) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expiry ", FormatTime(expires), " is not in the future; give a later expiry or none (",
        options_.default_expiry_ms / 86'400'000, " days)"));
  }
  if (expires > now + options_.max_expiry_ms) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expiry ", FormatTime(expires), " is more than ", options_.max_expiry_ms / 86'400'000,
        " days away; give an earlier expiry (renew the entry when it runs out)"));
  }
  if (const std::optional<policy::LegalBasis> found = policy_->FindLegalBasis(spec.legal_basis_ref);
      found && expires > found->expires_ms) {
    if (spec.expires_ms != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expiry ", FormatTime(expires), " is after legal basis '", spec.legal_basis_ref,
          "' expires (", FormatTime(found->expires_ms), "); give an expiry on or before that"));
    }
    expires = found->expires_ms;  // The default never outlives the basis.
  }

  WatchlistEntry entry;
  entry.id = NewUlid(now);
  CUSTOS_ASSIGN_OR_RETURN(
      policy::ApprovalRequest request,
      policy_->RequestApproval(actor, {policy::ApprovalKind::kWatchlistEntry, entry.id,
                                       spec.legal_basis_ref, "", spec.reason}));
  entry.label = spec.label;
  entry.category = spec.category;
  entry.legal_basis_ref = spec.legal_basis_ref;
  entry.reason = spec.reason;
  entry.approval_id = request.id;
  entry.proposed_by = actor.name;
  entry.proposed_user_id = actor.user_id;
  entry.proposed_ms = now;
  entry.expires_ms = expires;
  entry.status = EntryStatus::kPending;
  entry.embeddings = static_cast<int>(embeddings.size());

  std::string packed = PackEmbeddings(embeddings);
  const std::string sealed = key_.Seal(packed, EntrySealContext(entry.id));
  Wipe(packed);

  absl::MutexLock lock(&mu_);
  policy::PolicyChange change = MakeChange(actor, PolicyAction::kWatchlistPropose, entry);
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    CUSTOS_ASSIGN_OR_RETURN(
        store::Statement stmt,
        store::Statement::Prepare(db_.get(),
                                  "INSERT INTO entries (id, status, approval_id, expires_ms, "
                                  "created_ms, record, embeddings) VALUES (?1, ?2, ?3, ?4, ?5, "
                                  "?6, ?7)"));
    stmt.Bind(1, entry.id);
    stmt.Bind(2, (EntryStatusName(entry.status)));
    stmt.Bind(3, entry.approval_id);
    stmt.Bind(4, entry.expires_ms);
    stmt.Bind(5, now);
    stmt.Bind(6, EntryJson(entry).dump());
    stmt.Bind(7, sealed);
    const int rc = stmt.Step();
    if (rc != SQLITE_DONE) {
      return store::SqliteStatus(db_.get(), rc, "adding a watchlist entry", options_.path);
    }
    return absl::OkStatus();
  }));
  return entry;
}

absl::StatusOr<WatchlistEntry> WatchlistStore::Approve(const auth::Principal& approver,
                                                       std::string_view entry_id) {
  CUSTOS_ASSIGN_OR_RETURN(const WatchlistEntry entry, Get(entry_id));
  const EntryStatus status = StatusAt(entry, clock_->WallMs());
  if (status != EntryStatus::kPending) {
    return absl::FailedPreconditionError(
        absl::StrCat("watchlist entry ", entry.id, " is ", Sv(EntryStatusName(status)),
                     ", not pending; only a pending entry can be approved",
                     status == EntryStatus::kExpired ? " (propose it again)" : ""));
  }
  // The policy engine refuses the proposer, other roles and API tokens, and audits it.
  CUSTOS_RETURN_IF_ERROR(policy_->Approve(approver, entry.approval_id).status());
  return Activate(approver, entry_id);
}

absl::StatusOr<WatchlistEntry> WatchlistStore::Activate(const auth::Principal& actor,
                                                        std::string_view entry_id) {
  if (absl::Status allowed =
          auth::Authenticator::Authorize(actor, auth::Permission::kProposeWatchlist);
      !allowed.ok()) {
    return Refuse(actor, PolicyAction::kWatchlistActivate, entry_id, std::move(allowed));
  }
  CUSTOS_ASSIGN_OR_RETURN(WatchlistEntry entry, Get(entry_id));
  const policy::Decision approval =
      policy_->CheckApproval(entry.approval_id, policy::ApprovalKind::kWatchlistEntry, entry.id);
  if (!approval.allowed) {
    return Refuse(actor, PolicyAction::kWatchlistActivate, entry.id,
                  absl::PermissionDeniedError(absl::StrCat(
                      "watchlist entry ", entry.id, " cannot be activated: ", approval.reason)));
  }
  CUSTOS_ASSIGN_OR_RETURN(const policy::ApprovalRequest request,
                          policy_->Status(entry.approval_id));
  // Four eyes, checked again here: the approver is not the proposer.
  if (SamePerson(request.decided_by, entry.proposed_by)) {
    return Refuse(actor, PolicyAction::kWatchlistActivate, entry.id,
                  absl::PermissionDeniedError(absl::StrCat(
                      "watchlist entry ", entry.id, " was approved by its proposer (",
                      request.decided_by, "); four eyes: a different supervisor must approve it")));
  }
  absl::MutexLock lock(&mu_);
  policy::PolicyChange change;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    CUSTOS_ASSIGN_OR_RETURN(entry, GetLocked(entry_id));
    const EntryStatus status = StatusAt(entry, clock_->WallMs());
    if (status != EntryStatus::kPending) {
      return absl::FailedPreconditionError(
          absl::StrCat("watchlist entry ", entry.id, " is ", Sv(EntryStatusName(status)),
                       ", not pending; only a pending entry can be activated"));
    }
    entry.status = EntryStatus::kActive;
    entry.decided_by = request.decided_by;
    entry.decided_ms = request.decided_ms;
    change = MakeChange(actor, PolicyAction::kWatchlistActivate, entry);
    return UpdateLocked(entry, nullptr);
  }));
  return entry;
}

absl::StatusOr<WatchlistEntry> WatchlistStore::Reject(const auth::Principal& approver,
                                                      std::string_view entry_id,
                                                      std::string_view reason) {
  CUSTOS_ASSIGN_OR_RETURN(WatchlistEntry entry, Get(entry_id));
  if (entry.status != EntryStatus::kPending) {
    return absl::FailedPreconditionError(absl::StrCat("watchlist entry ", entry.id, " is ",
                                                      Sv(EntryStatusName(entry.status)),
                                                      "; only a pending entry can be rejected"));
  }
  CUSTOS_ASSIGN_OR_RETURN(const policy::ApprovalRequest request,
                          policy_->Reject(approver, entry.approval_id, reason));
  absl::MutexLock lock(&mu_);
  policy::PolicyChange change;
  const std::string erased;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    CUSTOS_ASSIGN_OR_RETURN(entry, GetLocked(entry_id));
    entry.status = EntryStatus::kRejected;
    entry.decided_by = request.decided_by;
    entry.decided_ms = request.decided_ms;
    entry.decision_reason = std::string(reason);
    entry.embeddings = 0;
    change = MakeChange(approver, PolicyAction::kWatchlistReject, entry);
    change.reason = std::string(reason);
    return UpdateLocked(entry, &erased);
  }));
  return entry;
}

absl::StatusOr<WatchlistEntry> WatchlistStore::Withdraw(const auth::Principal& actor,
                                                        std::string_view entry_id,
                                                        std::string_view reason) {
  if (actor.kind == auth::Principal::Kind::kAnonymous) {
    return absl::UnauthenticatedError("log in to withdraw a watchlist entry");
  }
  CUSTOS_RETURN_IF_ERROR(CheckText(reason, "reason", kMaxLongText, true));
  CUSTOS_ASSIGN_OR_RETURN(WatchlistEntry entry, Get(entry_id));
  const bool proposer = actor.kind == auth::Principal::Kind::kUser &&
                        SamePerson(actor.name, entry.proposed_by) &&
                        auth::Allows(actor.role, auth::Permission::kProposeWatchlist);
  if (!proposer && !auth::Allows(actor.role, auth::Permission::kApproveWatchlist)) {
    return Refuse(actor, PolicyAction::kWatchlistWithdraw, entry.id,
                  absl::PermissionDeniedError(
                      absl::StrCat("only the proposer (", entry.proposed_by,
                                   ") or a supervisor may withdraw watchlist entry ", entry.id)));
  }
  absl::MutexLock lock(&mu_);
  policy::PolicyChange change;
  const std::string erased;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    CUSTOS_ASSIGN_OR_RETURN(entry, GetLocked(entry_id));
    if (entry.status != EntryStatus::kPending && entry.status != EntryStatus::kActive) {
      return absl::FailedPreconditionError(
          absl::StrCat("watchlist entry ", entry.id, " is already ",
                       Sv(EntryStatusName(entry.status)), "; nothing to withdraw"));
    }
    entry.status = EntryStatus::kWithdrawn;
    entry.withdrawn_by = actor.name;
    entry.withdrawn_ms = clock_->WallMs();
    entry.withdraw_reason = std::string(reason);
    entry.embeddings = 0;
    change = MakeChange(actor, PolicyAction::kWatchlistWithdraw, entry);
    change.reason = std::string(reason);
    return UpdateLocked(entry, &erased);
  }));
  return entry;
}

absl::StatusOr<int> WatchlistStore::EraseExpired() {
  const int64_t now = clock_->WallMs();
  absl::MutexLock lock(&mu_);
  {
    CUSTOS_ASSIGN_OR_RETURN(
        const int64_t pending,
        store::QueryInt(db_.get(),
                        absl::StrCat("SELECT count(*) FROM entries WHERE status IN ('pending', "
                                     "'active') AND expires_ms <= ",
                                     now, " AND embeddings != ''"),
                        options_.path));
    if (pending == 0) return 0;  // Nothing to erase, nothing to record.
  }
  policy::PolicyChange change;
  change.time_ms = now;
  change.actor = "system";
  change.role = auth::Role::kPublic;
  change.action = PolicyAction::kWatchlistErase;
  int erased_count = 0;
  CUSTOS_RETURN_IF_ERROR(Commit(change, [&]() -> absl::Status {
    std::vector<WatchlistEntry> expired;
    {
      CUSTOS_ASSIGN_OR_RETURN(
          store::Statement stmt,
          store::Statement::Prepare(db_.get(),
                                    "SELECT record FROM entries WHERE status IN ('pending', "
                                    "'active') AND expires_ms <= ?1 AND embeddings != ''"));
      stmt.Bind(1, now);
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) {
        CUSTOS_ASSIGN_OR_RETURN(WatchlistEntry e, EntryFrom(stmt.ColumnText(0), options_.path));
        expired.push_back(std::move(e));
      }
      if (rc != SQLITE_DONE) {
        return store::SqliteStatus(db_.get(), rc, "finding expired entries", options_.path);
      }
    }
    json ids = json::array();
    const std::string erased;
    for (WatchlistEntry& e : expired) {
      e.embeddings = 0;
      if (absl::Status updated = UpdateLocked(e, &erased); !updated.ok()) return updated;
      ids.push_back(e.id);
    }
    erased_count = static_cast<int>(expired.size());
    change.object = absl::StrCat(erased_count, " expired entries");
    change.details = json{{"entries", ids}}.dump();
    return absl::OkStatus();
  }));
  return erased_count;
}

// ---- Reads ----

absl::StatusOr<WatchlistEntry> WatchlistStore::Get(std::string_view entry_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return GetLocked(entry_id);
}

absl::StatusOr<std::vector<WatchlistEntry>> WatchlistStore::List() const {
  absl::ReaderMutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(), "SELECT record FROM entries ORDER BY id"));
  std::vector<WatchlistEntry> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    CUSTOS_ASSIGN_OR_RETURN(WatchlistEntry e, EntryFrom(stmt.ColumnText(0), options_.path));
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db_.get(), rc, "listing watchlist entries", options_.path);
  }
  return out;
}

absl::StatusOr<std::vector<ActiveEntry>> WatchlistStore::ActiveEntries(int64_t time_ms) const {
  const int64_t at = std::max(time_ms, clock_->WallMs());
  absl::ReaderMutexLock lock(&mu_);
  CUSTOS_ASSIGN_OR_RETURN(
      store::Statement stmt,
      store::Statement::Prepare(db_.get(),
                                "SELECT record, embeddings FROM entries WHERE status = 'active' "
                                "AND expires_ms > ?1 ORDER BY id"));
  stmt.Bind(1, at);
  std::vector<ActiveEntry> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    ActiveEntry active;
    CUSTOS_ASSIGN_OR_RETURN(active.entry, EntryFrom(stmt.ColumnText(0), options_.path));
    CUSTOS_ASSIGN_OR_RETURN(std::string packed,
                            key_.Open(stmt.ColumnText(1), EntrySealContext(active.entry.id)));
    absl::StatusOr<std::vector<face::Embedding>> embeddings = UnpackEmbeddings(packed);
    Wipe(packed);
    if (!embeddings.ok()) return embeddings.status();
    active.embeddings = *std::move(embeddings);
    out.push_back(std::move(active));
  }
  if (rc != SQLITE_DONE) {
    return store::SqliteStatus(db_.get(), rc, "reading active entries", options_.path);
  }
  return out;
}

}  // namespace custos::watchlist
