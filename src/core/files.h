// Small file helpers shared by the modules that write media files (clips, exports): errno as
// a Status a user can act on, fsync of a path, SHA-256 of a file.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace custos {

// `what`: strerror(error), as kResourceExhausted (ENOSPC, EDQUOT, EFBIG: "free space and
// retry"), kPermissionDenied (EACCES, EPERM, EROFS), kFailedPrecondition (ENOENT: a missing
// folder) or kUnavailable.
absl::Status ErrnoStatus(int error, const std::string& what);

// fsync of `path` opened with `flags` (O_RDONLY, or O_RDONLY | O_DIRECTORY for a folder).
// Errors as ErrnoStatus, naming the path.
absl::Status SyncPath(const std::string& path, int flags);

// SHA-256 of the file's bytes, lower-case hex (libsodium). Errors as ErrnoStatus.
absl::StatusOr<std::string> Sha256File(const std::string& path);

}  // namespace custos
