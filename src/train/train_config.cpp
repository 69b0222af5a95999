#include "train/train_config.h"

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
  return f.value();
}

void TrainConfig::apply_model_defaults(bool lr_given) {
  const auto& d = model_spec.defaults;
  if (!lr_given && d.lr > 0.0f) lr = d.lr;
  if (optimizer.kind == "adam" && d.adam_beta1 > 0.0f) optimizer.beta1 = d.adam_beta1;
}

}  // namespace dtrain::train
