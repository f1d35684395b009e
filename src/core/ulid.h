// ULIDs (https://github.com/ulid/spec): 48-bit ms timestamp + 80 random bits, Crockford
// base32, 26 characters, sortable by time. Event ids are ULIDs so that writes are idempotent.
#pragma once

#include <cstdint>
#include <string>

namespace custos {

// Thread-safe. Ids made in the same millisecond by one process are strictly increasing
// (the spec's monotonic mode).
std::string NewUlid(int64_t time_ms);

// Milliseconds encoded in a ULID, or -1 if `ulid` is not a well-formed ULID.
int64_t UlidTimeMs(const std::string& ulid);

}  // namespace custos
