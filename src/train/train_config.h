#pragma once
// Everything a training run is configured with, filled by the CLI from its options.
#include <cstdint>
#include <string>

#include "optim/optimizer.h"

namespace dtrain::train {

enum class ProgressMode { kAuto, kAlways, kNever };

struct TrainConfig {
  std::string model_name = "cnn";
  int epochs = 5;
  int global_batch = 128;  // --batch-size: the GLOBAL batch, split over ranks
  float lr = 0.001f;
  bool linear_lr_scaling = false;
  double warmup_epochs = 0.0;
  std::uint64_t seed = 0;
  std::int64_t max_steps = 0;  // 0: no limit
  int eval_batch = 500;        // examples per forward pass during evaluation
  optim::OptimizerConfig optimizer;
  std::string metrics_path;  // empty: no metrics file
  ProgressMode progress = ProgressMode::kAuto;
  bool log_epochs = true;  // rank 0 prints one line per epoch (tests turn it off)
  // Ranks compare a fingerprint of this configuration at start-up.
  std::uint64_t fingerprint() const;
};

}  // namespace dtrain::train
