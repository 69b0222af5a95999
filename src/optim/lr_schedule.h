#pragma once
// Learning rate over the run. --lr is the rate for a global batch of 128 (the reference
// batch); with --lr-scaling linear it is multiplied by batch/128 (Goyal et al.'s linear
// scaling rule, stated for the global batch because that is what --batch-size sets).
// Warmup (--warmup-epochs or --warmup-steps) ramps linearly from target/warmup_steps up to
// the target over the first steps, which keeps large scaled rates from diverging early.
// After warmup --lr-schedule decides: constant (the target), cosine (half a cosine from the
// target down to --min-lr at the run's last step) or step (times --lr-decay-factor every
// --lr-decay-steps global steps, never below --min-lr). The rate is a pure function of the
// global step, so a resumed run continues the schedule exactly.
#include <cstdint>
#include <string>

namespace dtrain::optim {

struct ScheduleConfig {
  std::string kind = "constant";  // constant | cosine | step
  float min_lr = 0.0f;            // cosine's floor and end point; step's floor
  std::int64_t warmup_steps = 0;  // --warmup-steps (0: --warmup-epochs decides)
  std::int64_t decay_steps = 0;   // step: decay every this many global steps
  float decay_factor = 0.1f;      // step: multiplier per decay
};

class LrSchedule {
 public:
  static constexpr int kReferenceBatch = 128;

  // A linear warmup over warmup_steps, then the constant target.
  LrSchedule(float base_lr, bool linear_scaling, int global_batch, std::int64_t warmup_steps);
  // warmup_steps: the resolved warmup (--warmup-steps, or --warmup-epochs in steps);
  // total_steps: the run's steps (cosine ends at --min-lr on the last one).
  LrSchedule(float base_lr, bool linear_scaling, int global_batch, std::int64_t warmup_steps,
             const ScheduleConfig& config, std::int64_t total_steps);
  // Rate for the update that makes global step `step` (0-based) complete.
  float at(std::int64_t step) const;
  float target() const { return target_; }

 private:
  float target_;
  std::int64_t warmup_steps_;
  ScheduleConfig config_;
  std::int64_t total_steps_ = 0;
};

}  // namespace dtrain::optim
