#include "optim/lr_schedule.h"

namespace dtrain::optim {

LrSchedule::LrSchedule(float base_lr, bool linear_scaling, int global_batch,
                       std::int64_t warmup_steps)
    : target_(linear_scaling ? base_lr * static_cast<float>(global_batch) / kReferenceBatch
                             : base_lr),
      warmup_steps_(warmup_steps) {}

float LrSchedule::at(std::int64_t step) const {
  if (step >= warmup_steps_) return target_;
  return target_ * static_cast<float>(step + 1) / static_cast<float>(warmup_steps_);
}

}  // namespace dtrain::optim
