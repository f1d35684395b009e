// The value types of the watchlist module: entries (who may be recognised, why, until when),
// matches (the leads face recognition raised) and their names in the database, the audit
// records and docs/face.md ("Watchlists").
//
// No type here holds a face embedding of anyone but an enrolled, approved watchlist subject,
// and none holds a photo: enrolment photos are processed in memory and dropped (DESIGN.md
// §1.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace custos::watchlist {

// Whom an entry is about. A fixed list, so that the public statistics count by category and
// a legal basis can be checked against it by a person.
enum class SubjectCategory {
  kWantedSuspect,     // Subject of an arrest warrant or court-ordered search for a suspect.
  kSuspect,           // Suspected of a serious crime named in the legal basis (no warrant yet).
  kMissingPerson,     // A missing person whose finding the legal basis orders.
  kVulnerablePerson,  // A person at risk (dementia, suicide risk, child) under a protection order.
  kThreat,            // A person posing an imminent threat to life or safety.
};
std::string_view SubjectCategoryName(SubjectCategory category);  // "wanted_suspect", ...
std::optional<SubjectCategory> SubjectCategoryFromName(std::string_view name);
std::vector<SubjectCategory> AllSubjectCategories();

// The life of an entry. Only kActive entries match. kExpired is computed from the clock (an
// entry is expired from its expires_ms on, whatever is stored), never stored.
enum class EntryStatus {
  kPending,    // Proposed; waits for a different supervisor's approval.
  kActive,     // Approved and in force until expires_ms.
  kRejected,   // A supervisor refused it.
  kWithdrawn,  // Taken off the watchlist before its expiry.
  kExpired,    // Past expires_ms (computed).
};
std::string_view EntryStatusName(EntryStatus status);  // "pending", ...
std::optional<EntryStatus> EntryStatusFromName(std::string_view name);

// What a person proposes.
struct ProposalSpec {
  std::string label;  // How operators see the entry: "Case 2026/114 — J. Doe". 1..200 bytes.
  SubjectCategory category = SubjectCategory::kWantedSuspect;
  std::string legal_basis_ref;  // A legal basis in force covering watchlist_entry.
  // UTC ms; 0: the store's default (30 days). Capped by WatchlistOptions::max_expiry_ms and
  // by the legal basis's own expiry.
  int64_t expires_ms = 0;
  std::string reason;  // For the approving supervisor. 1..2000 bytes.
};

// An entry's metadata (never its embeddings).
struct WatchlistEntry {
  std::string id;  // ULID.
  std::string label;
  SubjectCategory category = SubjectCategory::kWantedSuspect;
  std::string legal_basis_ref;
  std::string reason;
  std::string approval_id;  // The four-eyes request (policy engine, kind watchlist_entry).
  std::string proposed_by;
  int64_t proposed_user_id = 0;
  int64_t proposed_ms = 0;
  int64_t expires_ms = 0;
  EntryStatus status = EntryStatus::kPending;  // As stored; see StatusAt().
  std::string decided_by;                      // Approver or rejecter.
  int64_t decided_ms = 0;
  std::string decision_reason;  // Rejection reason.
  std::string withdrawn_by;
  int64_t withdrawn_ms = 0;
  std::string withdraw_reason;
  int embeddings = 0;  // How many enrolment embeddings are held (0 after erasure).
};

// The status at `now_ms`: kExpired for a pending or active entry at or past its expiry.
EntryStatus StatusAt(const WatchlistEntry& entry, int64_t now_ms);

// A lead raised by face recognition: a person on a track looked like an active entry. Only a
// person can turn it into a finding (DESIGN.md §1.2).
struct FaceMatch {
  std::string entry_id;
  std::string label;
  SubjectCategory category = SubjectCategory::kWantedSuspect;
  float score = 0;  // Best cosine similarity of the winning attempts.
  std::string camera;
  int64_t track_id = 0;
  int64_t time_ms = 0;    // UTC wall time of the frame of the best attempt.
  int attempts = 0;       // Embedded attempts on the track when the vote decided.
  int agreeing = 0;       // Of these, attempts that matched this entry.
  float vote_share = 0;   // Quality-weighted share of the agreeing attempts.
  std::string crop_jpeg;  // The face crop of the best agreeing attempt (JPEG bytes).
};

enum class MatchStatus {
  kLead,       // Raised; a person must verify it.
  kConfirmed,  // An operator confirmed it is the person.
  kRejected,   // An operator found it is not (a false match, for the statistics).
};
std::string_view MatchStatusName(MatchStatus status);  // "lead", "confirmed", "rejected"
std::optional<MatchStatus> MatchStatusFromName(std::string_view name);

struct StoredMatch {
  std::string id;  // ULID.
  FaceMatch match;
  MatchStatus status = MatchStatus::kLead;
  std::string decided_by;
  int64_t decided_ms = 0;
  std::string note;  // The operator's note or rejection reason.
};

// Public statistics (DESIGN.md §1.7) for one calendar month (UTC).
struct MonthlyMatchCounts {
  std::string month;  // "2026-11".
  int64_t matches = 0;
  int64_t confirmed = 0;
  int64_t rejected = 0;  // False matches.
};

}  // namespace custos::watchlist
