#pragma once
// The options of `dtrain [train]`: the training recipe, the data, how ranks communicate,
// the watchdog, checkpoints and the outputs. `--config FILE` reads the same long options
// from an INI file; options given on the command line win.
#include <cstddef>
#include <string>
#include <vector>

#include "cli/option_parts.h"
#include "comm/collectives/algorithm_table.h"
#include "data/data_source.h"
#include "train/train_config.h"

namespace dtrain::cli {

struct TrainOptions {
  train::TrainConfig train;
  bool lr_given = false;  // --lr set by the user (else the model's defaults.lr, if any)
  // --batch-size set by the user (else the model's defaults.batch_size, if any)
  bool batch_size_given = false;
  // --data (path: a directory of IDX files, "synthetic", ...), --val-size and the reader
  // options; the seed is the training seed's.
  data::DataOptions data;
  int threads = 1;
  std::string allreduce = "auto";
  // --allreduce-table FILE: read at parse time, so a bad file fails (exit 3) before MPI
  // starts, the same way on every rank.
  std::string allreduce_table_path;
  comm::AlgorithmTable allreduce_table = comm::AlgorithmTable::builtin();
  // As given, parsed into train.overlap and train.bucket_mb by validation.
  std::string overlap = "on";
  std::string bucket_mb = "auto";
  // The watchdog: seconds, 0 = off.
  double comm_timeout = 600.0;
  double stall_warning = 60.0;
  // Checkpoints.
  std::string checkpoint_dir;
  int keep = 3;
  bool resume = false;
  std::string resume_path;  // empty with resume: the latest in checkpoint_dir, if any
  bool plot = false;        // --plot: the --metrics file's curves at the end
};

// args: the command line after `dtrain [train]`. Throws ConfigError (exit 2) naming the
// option and the valid values or range, and boost::program_options::error for what Boost
// rejects. Checks that need the number of ranks (batch size >= ranks) happen when training
// starts.
Parsed<TrainOptions> parse_train_options(std::vector<std::string> args);

}  // namespace dtrain::cli
