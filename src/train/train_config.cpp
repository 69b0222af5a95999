#include "train/train_config.h"

#include <algorithm>

#include "core/hash.h"

namespace dtrain::train {

std::uint64_t TrainConfig::fingerprint() const {
  Fingerprint f;
  f.add(model_name).add(epochs).add(global_batch).add(lr).add(linear_lr_scaling);
  f.add(warmup_epochs).add(seed).add(max_steps).add(eval_batch);
  f.add(optimizer.kind).add(optimizer.momentum).add(optimizer.beta1).add(optimizer.beta2);
  f.add(optimizer.epsilon).add(allreduce_fingerprint);
  // Not overlap: it changes when buckets are reduced, never what they sum to.
  f.add(bucket_mb).add(grad_compression).add(error_feedback);
  // The recipe's newer options only when set, so existing runs keep their fingerprint.
  if (schedule.kind != "constant" || schedule.warmup_steps != 0 || schedule.min_lr != 0.0f) {
    f.add(schedule.kind).add(schedule.min_lr).add(schedule.warmup_steps);
    f.add(schedule.decay_steps).add(schedule.decay_factor);
  }
  if (optimizer.weight_decay != 0.0f) f.add(optimizer.weight_decay);
  if (clip_grad_norm != 0.0f) f.add(clip_grad_norm);
  if (accumulate != 1) f.add(accumulate);
  if (early_stopping != 0 || keep_best || !monitor.empty()) {
    f.add(early_stopping).add(monitor).add(keep_best);
  }
  return f.value();
}

optim::LrSchedule make_lr_schedule(const TrainConfig& config, std::int64_t steps_per_epoch) {
  const std::int64_t warmup =
      config.schedule.warmup_steps > 0
          ? config.schedule.warmup_steps
          : static_cast<std::int64_t>(config.warmup_epochs * static_cast<double>(steps_per_epoch));
  std::int64_t total = static_cast<std::int64_t>(config.epochs) * steps_per_epoch;
  if (config.max_steps > 0) total = std::min(total, config.max_steps);
  return optim::LrSchedule(config.lr, config.linear_lr_scaling, config.global_batch, warmup,
                           config.schedule, total);
}

void TrainConfig::apply_model_defaults(bool lr_given) {
  const auto& d = model_spec.defaults;
  if (!lr_given && d.lr > 0.0f) lr = d.lr;
  if ((optimizer.kind == "adam" || optimizer.kind == "adamw") && d.adam_beta1 > 0.0f) {
    optimizer.beta1 = d.adam_beta1;
  }
}

}  // namespace dtrain::train
