#pragma once
// The check after each gradient reduction: the reduced gradient (the same bits on every
// rank) and this rank's loss are finite, or every rank stops together with one message.
#include <cstdint>
#include <span>
#include <string>

#include "comm/communicator.h"

namespace dtrain::train {

// Collective when something is not finite (it gathers which ranks' losses are not):
// throws a collective TrainingError naming the network (`role`), the step and those ranks.
void check_finite(comm::Communicator& comm, std::span<const float> grads, double local_loss,
                  const std::string& role, std::int64_t step);

}  // namespace dtrain::train
