#pragma once
// Learning rate over the run. --lr is the rate for a global batch of 128 (the reference
// batch); with --lr-scaling linear it is multiplied by batch/128 (Goyal et al.'s linear
// scaling rule, stated for the global batch because that is what --batch-size sets).
// --warmup-epochs ramps linearly from base/warmup_steps up to the target over the first
// steps, which keeps large scaled rates from diverging early.
#include <cstdint>

namespace dtrain::optim {

class LrSchedule {
 public:
  static constexpr int kReferenceBatch = 128;

  LrSchedule(float base_lr, bool linear_scaling, int global_batch, std::int64_t warmup_steps);
  // Rate for the update that makes global step `step` (0-based) complete.
  float at(std::int64_t step) const;
  float target() const { return target_; }

 private:
  float target_;
  std::int64_t warmup_steps_;
};

}  // namespace dtrain::optim
