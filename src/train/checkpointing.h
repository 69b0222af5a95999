#pragma once
// What a checkpoint holds of a run and how a resumed run takes it back (docs/design.md
// "Checkpoints"). The Trainer decides when to save and runs the collectives around a save
// (sums over ranks, residuals to rank 0, agreeing on the write's outcome); these functions
// translate between the live run (its networks, optimizers and configuration) and the plain
// TrainState that src/ckpt encodes, each field in one place.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "optim/optimizer.h"
#include "train/task.h"
#include "train/train_config.h"
#include "train/train_state.h"

namespace dtrain::train {

// Where a run stands: the epoch in progress (from 1) and the steps of it done.
struct RunPosition {
  int epoch = 1;
  std::int64_t step_in_epoch = 0;
  std::int64_t global_step = 0;
};

// The run's networks and their optimizers, in checkpoint (task models()) order.
struct LiveModels {
  const std::vector<TaskModel>& models;
  const std::vector<std::unique_ptr<optim::Optimizer>>& optimizers;
};

// Rank 0: the state a checkpoint holds. residuals[m] holds every rank's error-feedback
// residual of model m (rank order; empty without error feedback); epoch_sums are summed over
// ranks. Throws TrainingError when a parameter is not finite: such a state is never saved.
TrainState capture_state(const TrainConfig& config, LiveModels live,
                         std::vector<std::vector<std::vector<float>>> residuals,
                         RunPosition position, int world_size, std::vector<double> epoch_sums,
                         std::vector<std::string> metrics);

// Throws CheckpointError, marked collective (every rank holds the same state and
// configuration, so every rank throws together), naming what does not fit this run: the
// networks' parameter layouts, the optimizer, the global batch or the seed.
void check_state_fits(const TrainState& state, const TrainConfig& config, LiveModels live);

// Copies the saved parameters and optimizer steps and state into the live networks and
// optimizers (check_state_fits first).
void restore_models(const TrainState& state, LiveModels live);

// Every rank's `mine` to rank 0, in rank order (empty on the other ranks and when `mine` is
// empty). One broadcast per rank: simple, and a checkpoint is rare next to the steps between.
// Collective.
std::vector<std::vector<float>> gather_to_rank0(comm::Communicator& comm,
                                                std::span<const float> mine);

}  // namespace dtrain::train
