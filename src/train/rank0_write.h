#pragma once
// Files only rank 0 writes (checkpoints, pictures, the timeline) while the other ranks wait
// in the same collective sequence.
#include <string>
#include <utility>

#include "comm/communicator.h"
#include "core/errors.h"

namespace dtrain::train {

// Runs `write` on rank 0 alone; every rank learns the outcome, so a failed write (disk full,
// unwritable directory) ends all ranks together with rank 0's message instead of leaving
// the others waiting in the next collective. Collective.
template <typename F>
void rank0_then_agree(comm::Communicator& comm, F&& write, const std::string& failure_prefix,
                      const std::string& other_ranks_message) {
  const Failure failure = comm.rank() == 0 ? capture_failure(std::forward<F>(write)) : Failure{};
  if (comm.allreduce_max(failure.exit_code != 0 ? 1 : 0) == 0) return;
  TrainingError error(comm.rank() == 0 ? failure_prefix + failure.message : other_ranks_message);
  error.mark_collective();
  throw error;
}

}  // namespace dtrain::train
