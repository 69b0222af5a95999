#pragma once
// The data-parallel training loop of every model family (docs/design.md "Distributed
// semantics"): every rank holds a replica of each network, trains on its slice of each
// global batch, sums gradients (pre-scaled by 1/global batch) over ranks and applies the
// same optimizer step, so the replicas stay bit-identical. What a step computes is the
// Task's (task.h): classify, reconstruct or gan.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "comm/communicator.h"
#include "comm/sync/comm_thread.h"
#include "comm/sync/gradient_synchronizer.h"
#include "comm/sync/threaded_communicator.h"
#include "core/timeline.h"
#include "data/dataset.h"
#include "data/sampler.h"
#include "nn/sequential.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "train/checkpointing.h"
#include "train/early_stopping.h"
#include "train/metrics.h"
#include "train/progress.h"
#include "train/task.h"
#include "train/train_config.h"
#include "train/train_state.h"

namespace dtrain::train {

struct TrainResult {
  std::int64_t steps = 0;
  int epochs_completed = 0;
  EvalResult test;      // classifiers: test loss and accuracy
  Report final_report;  // every task: the final line's figures (json and text)
  double seconds = 0.0;
  double train_seconds = 0.0;      // training steps only, evaluation excluded
  std::int64_t samples = 0;        // training examples processed over all ranks
  bool stopped_by_signal = false;  // stopped early at a step boundary (exit 75 when saved)
  bool checkpoint_written_at_stop = false;
  std::string last_checkpoint;  // what the store reported for the newest checkpoint
  bool stopped_early = false;   // --early-stopping ended the run (exit 0)
};

class Trainer {
 public:
  // Initializes parameters from config.seed on rank 0 and broadcasts them; checks that all
  // ranks agree on the parameter layout and the configuration.
  // With a store, checkpoints are written per config.checkpoint_every_steps. With resume,
  // training continues from that state (same on every rank); throws CheckpointError
  // (collective) when it does not fit this model or run.
  // The model's task is config.model_spec's (classify unless it says reconstruct).
  Trainer(comm::Communicator& comm, nn::Sequential& model, const data::DataSplits& data,
          const TrainConfig& config, CheckpointStore* store = nullptr,
          const TrainState* resume = nullptr);
  // Any task (a GAN's trains two networks); the task must outlive the Trainer.
  Trainer(comm::Communicator& comm, Task& task, const data::DataSplits& data,
          const TrainConfig& config, CheckpointStore* store = nullptr,
          const TrainState* resume = nullptr);

  // Joins the communication thread before anything its jobs use goes away.
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  TrainResult run();

  // The optimizer of the task's model i (models() order).
  optim::Optimizer& optimizer(std::size_t i = 0) { return *optimizers_.at(i); }
  std::int64_t global_step() const { return global_step_; }
  // Optimizer steps (of the global batch) per epoch; the sampler counts micro-batches.
  std::size_t steps_per_epoch() const {
    return sampler_.steps_per_epoch() / static_cast<std::size_t>(config_.accumulate);
  }
  comm::GradientSynchronizer& synchronizer() { return synchronizer_; }

 private:
  Trainer(comm::Communicator& comm, std::unique_ptr<Task> owned, Task* task,
          const data::DataSplits& data, const TrainConfig& config, CheckpointStore* store,
          const TrainState* resume);
  enum class EpochEnd { kComplete, kStepLimit, kNothingRan, kStopRequested };
  struct EpochOutcome {
    EpochEnd end;
    double seconds;  // the epoch's training time (evaluation excluded)
  };
  EpochOutcome train_epoch(int epoch, TrainResult& result);
  TrainResult stop_early(TrainResult& result);
  void finish_run(TrainResult& result);
  bool step_limit_reached() const {
    return config_.max_steps > 0 && global_step_ >= config_.max_steps;
  }
  void train_step(std::size_t step_in_epoch);
  // Average model i's gradients over ranks, check them, apply its optimizer.
  void update(std::size_t i, double local_loss);
  void restore(const TrainState& state);
  // Collective: every rank calls it at the same step; rank 0 writes.
  void save_checkpoint(int epoch, std::int64_t step_in_epoch, TrainResult& result);
  bool agree_on_stop();
  void finish_epoch(int epoch, double epoch_seconds, TrainResult& result);
  // Rank 0 writes the task's images of an epoch end (epoch 0: of the run's end); collective,
  // so a failed write stops every rank.
  void write_outputs(int epoch);
  void write_metrics(const nlohmann::json& line);
  void restore_residuals(const TrainState& state);
  // Collective: rank 0 writes every rank's events to config_.timeline_path.
  void write_timeline();

  // The Trainer's side of a step as the task sees it (task.h).
  class StepUpdates final : public ModelUpdates {
   public:
    explicit StepUpdates(Trainer& trainer) : trainer_(trainer) {}
    const nn::ParamGradsFinal* grads_final(std::size_t i) override;
    // --accumulate: a micro-batch before the last only adds its loss (for the finiteness
    // check); the last reduces and steps.
    void update(std::size_t i, double local_loss) override;
    std::vector<nn::ParamGradsFinal> hooks;  // one per model
    bool last_micro_batch = true;
    double earlier_loss = 0.0;  // the step's micro-batches before this one

   private:
    Trainer& trainer_;
  };

  // --overlap on with more than one rank: the communication thread, and every collective
  // of the trainer routed through it, so it is the only thread that calls MPI while training.
  std::unique_ptr<comm::CommThread> comm_thread_;
  std::unique_ptr<comm::ThreadedCommunicator> threaded_comm_;
  comm::Communicator& comm_;
  comm::Communicator& reduce_comm_;  // what the synchronizer reduces with (on the thread)
  // A synchronized batchnorm's sums, over comm_: through the communication thread when
  // there is one, so that it stays the only thread that calls MPI while training.
  class CommBatchStats final : public nn::BatchStatsReducer {
   public:
    explicit CommBatchStats(comm::Communicator& comm) : comm_(comm) {}
    void sum(std::span<double> values) override { comm_.allreduce_sum(values); }

   private:
    comm::Communicator& comm_;
  };
  CommBatchStats batch_stats_;
  int eval_batch() const {
    constexpr int kMaxEvalBatch = 500;
    return config_.eval_batch > 0 ? config_.eval_batch
                                  : std::min(config_.global_batch, kMaxEvalBatch);
  }
  std::unique_ptr<Task> owned_task_;  // the single-network constructor's
  Task& task_;
  const data::DataSplits& data_;
  TrainConfig config_;
  std::vector<std::unique_ptr<optim::Optimizer>> optimizers_;  // one per task model
  data::ShardedSampler sampler_;
  std::unique_ptr<Timeline> timeline_;  // --timeline
  comm::GradientSynchronizer synchronizer_;
  optim::LrSchedule schedule_;
  std::optional<EarlyStopping> early_;  // --early-stopping or --keep-best
  bool epoch_improved_ = false;         // the last reported epoch is the best so far
  std::vector<double> grad_norms_;      // --clip-grad-norm: each model's last pre-clip norm
  MetricsWriter metrics_;
  Progress progress_;

  tensor::Tensor batch_x_;
  std::vector<std::int32_t> batch_y_;
  CheckpointStore* store_;
  std::int64_t global_step_ = 0;
  int start_epoch_ = 1;
  std::int64_t start_step_ = 0;  // within start_epoch_
  std::int64_t last_saved_step_ = -1;
  RunPosition position_;  // where the run stands, for the checkpoint of a stop or the end
  std::chrono::steady_clock::time_point run_start_;
  StepUpdates updates_;
  std::vector<std::string> metrics_lines_;  // rank 0: every line written, for checkpoints
  // The task's running sums of the current epoch on this rank.
  std::vector<double> epoch_sums_;
  std::int64_t result_samples_this_epoch_ = 0;  // all ranks, this process's run only
};

}  // namespace dtrain::train
