#pragma once
// --early-stopping PATIENCE, --monitor and --keep-best (docs/training.md "Early stopping and
// the best checkpoint"). After each epoch's validation the monitored figure (val_loss,
// val_acc, val_bpc or val_mse of the epoch's metrics line: the same on every rank, since
// evaluation is reduced over ranks) either improves on the best so far or counts one epoch
// without improvement; PATIENCE such epochs in a row stop the run. Every rank decides the
// same from the same figures. The state is plain data saved in checkpoints, so a resumed run
// continues counting where it was.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace dtrain::train {

struct EarlyStoppingState {
  int best_epoch = 0;  // 0: no epoch measured yet
  double best_score = 0.0;
  std::int64_t best_step = 0;  // the global step at the end of best_epoch
  int epochs_without_improvement = 0;
};

class EarlyStopping {
 public:
  // patience 0: never stops (--keep-best alone still tracks the best). monitor: a key of
  // the epoch line; "" picks the task's loss (val_loss, or val_mse for reconstruct).
  EarlyStopping(int patience, std::string monitor, const std::string& task_kind);
  // The keys a task's epoch line can be monitored by.
  static std::vector<std::string> keys_for(const std::string& task_kind);

  const std::string& monitor() const { return monitor_; }
  bool higher_is_better() const { return monitor_ == "val_acc"; }
  // The epoch's figure; returns whether it is a new best.
  bool observe(int epoch, std::int64_t step, double score);
  bool should_stop() const {
    return patience_ > 0 && state_.epochs_without_improvement >= patience_;
  }
  const EarlyStoppingState& state() const { return state_; }
  void restore(const EarlyStoppingState& state) { state_ = state; }
  // The metrics file's keys: an epoch line's best_epoch and best_score; the final line's
  // also stopped_early, and best_checkpoint (the file `best` names) with --keep-best.
  void add_epoch_keys(nlohmann::json& line) const;
  void add_final_keys(nlohmann::json& line, bool stopped_early, bool keep_best) const;

 private:
  int patience_;
  std::string monitor_;
  EarlyStoppingState state_;
};

}  // namespace dtrain::train
