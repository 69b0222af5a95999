#pragma once
// The data-parallel training loop for classifiers (DESIGN.md "Distributed semantics"):
// every rank holds a replica, trains on its slice of each global batch, sums gradients
// (pre-scaled by 1/global batch) over ranks and applies the same optimizer step, so the
// replicas stay bit-identical.
#include <cstdint>
#include <memory>
#include <vector>

#include "data/dataset.h"
#include "data/sampler.h"
#include "dist/communicator.h"
#include "dist/gradient_synchronizer.h"
#include "nn/sequential.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "train/metrics.h"
#include "train/progress.h"
#include "train/train_config.h"
#include "train/train_state.h"

namespace dtrain::train {

struct EvalResult {
  double loss = 0.0;  // mean over the examples
  double accuracy = 0.0;
  std::int64_t count = 0;
};

struct TrainResult {
  std::int64_t steps = 0;
  int epochs_completed = 0;
  EvalResult test;
  double seconds = 0.0;
  double train_seconds = 0.0;      // training steps only, evaluation excluded
  std::int64_t samples = 0;        // training examples processed over all ranks
  bool stopped_by_signal = false;  // stopped early at a step boundary (exit 75 when saved)
  bool checkpoint_written_at_stop = false;
  std::string last_checkpoint;  // what the store reported for the newest checkpoint
};

// Loss and accuracy of `model` on `ds`, sharded over ranks without padding and reduced,
// so every example counts exactly once.
EvalResult evaluate(nn::Sequential& model, const data::Dataset& ds, dist::Communicator& comm,
                    int eval_batch);

class Trainer {
 public:
  // Initializes parameters from config.seed on rank 0 and broadcasts them; checks that all
  // ranks agree on the parameter layout and the configuration.
  // With a store, checkpoints are written per config.checkpoint_every_steps. With resume,
  // training continues from that state (same on every rank); throws CheckpointError
  // (collective) when it does not fit this model or run.
  Trainer(dist::Communicator& comm, nn::Sequential& model, const data::DataSplits& data,
          const TrainConfig& config, CheckpointStore* store = nullptr,
          const TrainState* resume = nullptr);

  TrainResult run();

  optim::Optimizer& optimizer() { return *optimizer_; }
  std::int64_t global_step() const { return global_step_; }
  std::size_t steps_per_epoch() const { return sampler_.steps_per_epoch(); }

 private:
  void train_step(std::size_t step_in_epoch);
  void check_finite(double local_loss);
  void restore(const TrainState& state);
  // Collective: every rank calls it at the same step; rank 0 writes.
  void save_checkpoint(int epoch, std::int64_t step_in_epoch, TrainResult& result);
  bool agree_on_stop();
  void finish_epoch(int epoch, double epoch_seconds, TrainResult& result);
  void write_metrics(const nlohmann::json& line);

  dist::Communicator& comm_;
  nn::Sequential& model_;
  const data::DataSplits& data_;
  TrainConfig config_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  data::ShardedSampler sampler_;
  dist::GradientSynchronizer synchronizer_;
  optim::LrSchedule schedule_;
  MetricsWriter metrics_;
  Progress progress_;

  tensor::Tensor batch_x_;
  std::vector<std::int32_t> batch_y_;
  tensor::Tensor dlogits_;
  CheckpointStore* store_;
  std::int64_t global_step_ = 0;
  int start_epoch_ = 1;
  std::int64_t start_step_ = 0;  // within start_epoch_
  std::int64_t last_saved_step_ = -1;
  std::vector<std::string> metrics_lines_;  // rank 0: every line written, for checkpoints
  // Running sums of the current epoch on this rank: loss, correct, examples.
  double epoch_loss_ = 0.0;
  std::int64_t epoch_correct_ = 0, epoch_examples_ = 0;
  std::int64_t result_samples_this_epoch_ = 0;  // all ranks, this process's run only
};

}  // namespace dtrain::train
