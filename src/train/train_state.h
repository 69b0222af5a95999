#pragma once
// The state a checkpoint holds, as plain data. The trainer fills and consumes it; src/ckpt
// turns it into protobuf and files, so train/ stays free of protobuf (DESIGN.md).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "nn/model_config.h"
#include "nn/param_arena.h"
#include "optim/optimizer.h"

namespace dtrain::train {

struct TrainState {
  nn::ModelConfig model;
  std::vector<nn::ParamSlot> slots;
  std::vector<float> params;  // the whole arena
  optim::OptimizerConfig optimizer;
  std::int64_t optimizer_steps = 0;
  std::vector<optim::StateArray> optimizer_state;
  int epoch = 1;                   // epoch in progress, from 1
  std::int64_t step_in_epoch = 0;  // steps of `epoch` done; == steps per epoch: epoch complete
  std::int64_t global_step = 0;
  std::uint64_t seed = 0;
  int world_size = 1;
  // Run configuration at save time (checked or reported on resume).
  int global_batch = 0;
  float lr = 0.0f;
  bool linear_lr_scaling = false;
  double warmup_epochs = 0.0;
  int epochs = 0;
  std::int64_t max_steps = 0;
  std::string model_name;
  // Loss sum, correct and examples of the epoch in progress, summed over all ranks, so a
  // run resumed mid-epoch reports the same epoch figures as an uninterrupted one.
  std::array<double, 3> epoch_sums{0.0, 0.0, 0.0};
  std::vector<std::string> metrics;  // metrics-file lines written so far
};

// Where the trainer's checkpoints go. Only rank 0 calls save(); implementations write
// atomically (src/ckpt). Throws on failure; the trainer makes every rank agree on it.
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // Returns a description of what was written (e.g. the file name) for the log.
  virtual std::string save(const TrainState& state) = 0;
};

}  // namespace dtrain::train
