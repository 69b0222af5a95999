#include "optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace dtrain::optim {

LrSchedule::LrSchedule(float base_lr, bool linear_scaling, int global_batch,
                       std::int64_t warmup_steps)
    : LrSchedule(base_lr, linear_scaling, global_batch, warmup_steps, ScheduleConfig{}, 0) {}

LrSchedule::LrSchedule(float base_lr, bool linear_scaling, int global_batch,
                       std::int64_t warmup_steps, const ScheduleConfig& config,
                       std::int64_t total_steps)
    : target_(linear_scaling ? base_lr * static_cast<float>(global_batch) / kReferenceBatch
                             : base_lr),
      warmup_steps_(warmup_steps),
      config_(config),
      total_steps_(total_steps) {}

float LrSchedule::at(std::int64_t step) const {
  if (step < warmup_steps_) {
    return target_ * static_cast<float>(step + 1) / static_cast<float>(warmup_steps_);
  }
  if (config_.kind == "cosine") {
    // Step warmup_steps gets the target, the run's last step (total - 1) --min-lr.
    const std::int64_t span = total_steps_ - warmup_steps_ - 1;
    if (span <= 0) return target_;  // no room to decay
    const double progress =
        std::min(1.0, static_cast<double>(step - warmup_steps_) / static_cast<double>(span));
    const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
    return static_cast<float>(config_.min_lr + (target_ - config_.min_lr) * cosine);
  }
  if (config_.kind == "step" && config_.decay_steps > 0) {
    const auto decays = static_cast<double>(step / config_.decay_steps);
    const double rate = target_ * std::pow(static_cast<double>(config_.decay_factor), decays);
    return std::max(static_cast<float>(rate), config_.min_lr);
  }
  return target_;
}

}  // namespace dtrain::optim
