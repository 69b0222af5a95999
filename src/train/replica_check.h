#pragma once
// Start-up agreement between ranks. A rank built with another model or given other options
// would otherwise hang in a collective of a different length, or silently train something
// else; comparing fingerprints turns that into the same clear error on every rank.
#include <cstdint>
#include <string>

#include "comm/communicator.h"

namespace dtrain::train {

// Throws ConfigError on EVERY rank when the value differs between ranks; the message
// names `what` and the ranks that disagree with rank 0.
void require_same_on_all_ranks(comm::Communicator& comm, std::uint64_t value,
                               const std::string& what);

// Parameter-array fingerprint (for tests and the replica-consistency check).
std::uint64_t hash_floats(const float* data, std::size_t n);

}  // namespace dtrain::train
