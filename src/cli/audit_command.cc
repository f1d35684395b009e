// `custos audit checkpoint|prove|consistency|verify|key`: the audit log's checkpoints,
// proofs and verification from the command line (docs/audit.md).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audit/audit_log.h"
#include "cli/commands.h"

namespace custos::cli {
namespace {

int AuditFail(const char* command, const absl::Status& status) {
  std::cerr << "custos audit " << command << ": " << status.message() << "\n";
  return absl::IsInvalidArgument(status) ? 2 : 1;
}

absl::Status WriteOut(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadIn(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::Status NeedLog(const AuditFlags& flags) {
  if (flags.data_dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
  if (::access((flags.data_dir + "/audit/entries.log").c_str(), F_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("no audit log in ", flags.data_dir,
                                            "/audit (the server creates it at first start)"));
  }
  return absl::OkStatus();
}

}  // namespace

int RunAuditCheckpoint(const AuditFlags& flags) {
  if (absl::Status s = NeedLog(flags); !s.ok()) return AuditFail("checkpoint", s);
  std::string note;
  audit::AuditLogOptions options;
  options.data_dir = flags.data_dir;
  absl::StatusOr<std::unique_ptr<audit::AuditLog>> log = audit::AuditLog::Open(options);
  if (log.ok()) {
    absl::StatusOr<audit::SignedCheckpoint> c = (*log)->Checkpoint();
    if (!c.ok()) return AuditFail("checkpoint", c.status());
    note = c->note;
  } else if (absl::IsUnavailable(log.status())) {
    // A running server owns the log and signs every minute: print its latest checkpoint.
    absl::StatusOr<std::unique_ptr<audit::AuditLogReader>> reader =
        audit::AuditLogReader::Open(flags.data_dir);
    if (!reader.ok()) return AuditFail("checkpoint", reader.status());
    absl::StatusOr<audit::SignedCheckpoint> c = (*reader)->LatestCheckpoint();
    if (!c.ok()) return AuditFail("checkpoint", c.status());
    std::cerr << "custos audit checkpoint: the log is open in a running server; this is its "
                 "latest checkpoint\n";
    note = c->note;
  } else {
    return AuditFail("checkpoint", log.status());
  }
  if (!flags.out.empty()) {
    if (absl::Status s = WriteOut(flags.out, note); !s.ok()) return AuditFail("checkpoint", s);
  }
  std::cout << note << std::flush;
  return 0;
}

int RunAuditProve(const AuditFlags& flags) {
  if (absl::Status s = NeedLog(flags); !s.ok()) return AuditFail("prove", s);
  absl::StatusOr<std::unique_ptr<audit::AuditLogReader>> reader =
      audit::AuditLogReader::Open(flags.data_dir);
  if (!reader.ok()) return AuditFail("prove", reader.status());
  absl::StatusOr<audit::InclusionProof> proof = (*reader)->ProveInclusion(flags.entry, flags.size);
  if (!proof.ok()) return AuditFail("prove", proof.status());
  if (!flags.entry_out.empty()) {
    if (absl::Status s = WriteOut(flags.entry_out, proof->entry); !s.ok()) {
      return AuditFail("prove", s);
    }
  }
  if (!flags.checkpoint_out.empty()) {
    if (absl::Status s = WriteOut(flags.checkpoint_out, proof->checkpoint.note); !s.ok()) {
      return AuditFail("prove", s);
    }
  }
  std::cout << audit::ToJson(*proof).dump(2) << "\n";
  return 0;
}

int RunAuditConsistency(const AuditFlags& flags) {
  if (absl::Status s = NeedLog(flags); !s.ok()) return AuditFail("consistency", s);
  absl::StatusOr<std::unique_ptr<audit::AuditLogReader>> reader =
      audit::AuditLogReader::Open(flags.data_dir);
  if (!reader.ok()) return AuditFail("consistency", reader.status());
  absl::StatusOr<audit::ConsistencyProof> proof =
      (*reader)->ProveConsistency(flags.from, flags.size);
  if (!proof.ok()) return AuditFail("consistency", proof.status());
  std::cout << audit::ToJson(*proof).dump(2) << "\n";
  return 0;
}

int RunAuditVerify(const AuditFlags& flags) {
  if (absl::Status s = NeedLog(flags); !s.ok()) return AuditFail("verify", s);
  audit::VerifyOptions options;
  if (!flags.checkpoint.empty()) {
    absl::StatusOr<std::string> text = ReadIn(flags.checkpoint);
    if (!text.ok()) return AuditFail("verify", text.status());
    options.external_checkpoint = *std::move(text);
  }
  absl::StatusOr<audit::VerifyReport> report = audit::VerifyAuditDir(flags.data_dir, options);
  if (!report.ok()) {
    std::cerr << "custos audit verify: FAILED: " << report.status().message() << "\n";
    return 1;
  }
  for (const std::string& note : report->notes) std::cerr << "note: " << note << "\n";
  std::cout << "ok: " << report->entries << " entries, " << report->checkpoints
            << " checkpoints (latest covers " << report->latest_checkpoint_size << ")"
            << (flags.checkpoint.empty() ? "" : "; consistent with " + flags.checkpoint) << "\n";
  return 0;
}

int RunAuditKey(const AuditFlags& flags) {
  if (absl::Status s = NeedLog(flags); !s.ok()) return AuditFail("key", s);
  absl::StatusOr<std::unique_ptr<audit::AuditLogReader>> reader =
      audit::AuditLogReader::Open(flags.data_dir);
  if (!reader.ok()) return AuditFail("key", reader.status());
  std::cout << audit::FormatVerifierKey((*reader)->key()) << "\n";
  return 0;
}

}  // namespace custos::cli
