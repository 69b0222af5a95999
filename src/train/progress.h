#pragma once
// What rank 0 shows while training: a bar with samples/s and ETA when stderr is a terminal,
// and one line per epoch on stdout in every case (so logs of batch jobs stay readable).
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

class Progress {
 public:
  Progress(ProgressMode mode, bool is_root, int epochs);
  void start_epoch(int epoch, std::int64_t steps);
  // Called after every step; redraws the bar at most every 100 ms.
  void step(std::int64_t step_in_epoch, std::int64_t samples_done);
  void end_epoch(const EpochSummary& summary);
  void message(const std::string& line);

 private:
  void clear_bar();
  bool is_root_;
  bool bar_;
  int epochs_;
  int epoch_ = 0;
  std::int64_t steps_ = 0;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace dtrain::train
