#pragma once
// What rank 0 shows while training: a bar with samples/s and ETA when stderr is a terminal,
// and one line per epoch on stdout in every case (so logs of batch jobs stay readable).
// Both count the steps this run really takes: a --max-steps limit ends the run inside an
// epoch, and a resumed run starts where its checkpoint was, so neither the bar's total nor
// "epoch E/N" is the nominal --epochs x steps per epoch.
#include <chrono>
#include <cstdint>
#include <string>

#include "train/train_config.h"

namespace dtrain::train {

struct EpochSummary {
  int epoch = 0;
  std::int64_t step = 0;
  std::string figures;  // the task's, e.g. "train_loss 0.41  train_acc 0.85  val_loss ..."

  double samples_per_sec = 0, epoch_seconds = 0, comm_seconds = 0;
};

// Where a run stops. Every epoch but the last runs all its steps (docs/design.md "Distributed semantics"), so epoch E
// starts at global step (E-1) x steps_per_epoch, whatever the run resumed from.
struct RunPlan {
  int epochs = 1;
  std::int64_t steps_per_epoch = 0;
  std::int64_t max_steps = 0;  // 0: no limit
  // The last epoch that runs a step (the epoch holding global step max_steps, or --epochs).
  int last_epoch() const;
  // The position inside `epoch` at which the run leaves it (steps_per_epoch unless the
  // limit falls inside it; 0 when the limit is already behind it).
  std::int64_t end_step(int epoch) const;
};

class Progress {
 public:
  Progress(ProgressMode mode, bool is_root, RunPlan plan, std::int64_t global_batch);
  // first_step: where this process starts inside the epoch (a resumed run's position).
  void start_epoch(int epoch, std::int64_t first_step);
  // Called after every step with the position inside the epoch; redraws the bar at most
  // every 100 ms, and always at the epoch's last step.
  void step(std::int64_t position);
  void end_epoch(const EpochSummary& summary);
  void message(const std::string& line);

 private:
  void clear_bar();
  bool is_root_;
  bool bar_;
  RunPlan plan_;
  std::int64_t global_batch_;
  int epoch_ = 0;
  std::int64_t first_ = 0, end_ = 0;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace dtrain::train
