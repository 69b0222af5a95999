#include "train/replica_check.h"

#include "core/errors.h"
#include "core/hash.h"

namespace dtrain::train {

void require_same_on_all_ranks(comm::Communicator& comm, std::uint64_t value,
                               const std::string& what) {
  const auto values = comm.allgather(value);
  std::string differing;
  for (std::size_t r = 1; r < values.size(); ++r) {
    if (values[r] != values[0]) differing += (differing.empty() ? "" : ", ") + std::to_string(r);
  }
  if (!differing.empty()) {
    ConfigError error("ranks disagree on the " + what + ": rank(s) " + differing +
                      " differ from rank 0 (every rank must run the same dtrain with the same "
                      "options and model)");
    error.mark_collective();
    throw error;
  }
}

std::uint64_t hash_floats(const float* data, std::size_t n) {
  return Fingerprint().add_bytes(data, n * sizeof(float)).value();
}

}  // namespace dtrain::train
