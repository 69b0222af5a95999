#include "train/finite_check.h"

#include <cmath>

#include "core/errors.h"

namespace dtrain::train {

void check_finite(comm::Communicator& comm, std::span<const float> grads, double local_loss,
                  const std::string& role, std::int64_t step) {
  // x*0 is 0 for finite x and NaN for inf/NaN, so one pass of sums checks the whole
  // (already reduced, hence identical on every rank) gradient array. 16 independent sums:
  // one sum is a chain of dependent adds the compiler may not reorder (0.9 ms per cnn step
  // here, measured with perf); lanes vectorize, and any order finds a NaN.
  constexpr std::size_t kLanes = 16;
  float lanes[kLanes] = {};
  const std::size_t n = grads.size(), whole = n - n % kLanes;
  for (std::size_t i = 0; i < whole; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) lanes[l] += grads[i + l] * 0.0f;
  }
  for (std::size_t i = whole; i < n; ++i) lanes[0] += grads[i] * 0.0f;
  float probe = 0.0f;
  for (float lane : lanes) probe += lane;
  if (std::isfinite(probe) && std::isfinite(local_loss)) return;
  // Every rank sees the same reduced gradients, so every rank gets here together.
  const auto bad = comm.allgather(std::isfinite(local_loss) ? 0 : 1);
  std::string ranks;
  for (std::size_t r = 0; r < bad.size(); ++r) {
    if (bad[r]) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  }
  TrainingError error("non-finite " + std::string(ranks.empty() ? "gradient" : "loss") +
                      (role == "model" ? std::string() : " of the " + role) + " at step " +
                      std::to_string(step) + (ranks.empty() ? "" : " on rank(s) " + ranks) +
                      " (try a lower --lr); no checkpoint written for this state");
  error.mark_collective();
  throw error;
}

}  // namespace dtrain::train
