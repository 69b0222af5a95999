#pragma once
// The command line of DESIGN.md, parsed with Boost.Program_options (the only place that
// uses Boost). `--config FILE` reads the same long options from an INI file; options given
// on the command line win.
#include <cstddef>
#include <string>
#include <vector>

#include "bench/allreduce_bench.h"
#include "bench/step_bench.h"
#include "comm/collectives/algorithm_table.h"
#include "data/data_source.h"
#include "train/train_config.h"

namespace dtrain::cli {

enum class Command {
  kTrain,
  kEval,
  kInspect,
  kBenchAllreduce,
  kBenchStep,
  kExport,
  kPredict,
  kPlot,
  kSample,
  kHelp,
  kVersion
};

struct CliOptions {
  Command command = Command::kTrain;
  train::TrainConfig train;
  bool lr_given = false;  // --lr set by the user (else the model's defaults.lr, if any)
  // --batch-size set by the user (else the model's defaults.batch_size, if any)
  bool batch_size_given = false;
  std::string data;  // a directory of IDX files, or "synthetic"
  std::size_t val_size = 5000;
  data::DataOptions data_format;  // --num-classes, --label-column, HDF5 options (path unused)
  int threads = 1;
  std::string allreduce = "auto";
  // --allreduce-table FILE (train, bench): read at parse time, so a bad file fails (exit 3)
  // before MPI starts, the same way on every rank.
  std::string allreduce_table_path;
  comm::AlgorithmTable allreduce_table = comm::AlgorithmTable::builtin();
  // As given, parsed into train.overlap and train.bucket_mb by validation.
  std::string overlap = "on";
  std::string bucket_mb = "auto";
  // The watchdog (train): seconds, 0 = off.
  double comm_timeout = 600.0;
  double stall_warning = 60.0;
  // Checkpoints (train).
  std::string checkpoint_dir;
  int keep = 3;
  bool resume = false;
  std::string resume_path;  // empty with resume: the latest in checkpoint_dir, if any
  // eval / inspect.
  std::string checkpoint;  // eval --checkpoint, inspect PATH
  // eval of a GAN checkpoint: judge its samples with this classifier checkpoint.
  std::string classifier;
  int samples = 1000;
  bool json = false;
  // export / predict / plot (cli/model_io_options.cpp).
  std::string format = "onnx";  // export --format
  std::string output;           // export, predict, plot --output
  std::string input;            // predict --input; plot METRICS.jsonl
  int predict_batch = 256;
  std::string classes_path, logits_path;  // predict --classes, --logits
  bool plot = false;                      // train --plot
  // sample (a language model's text).
  int sample_length = 500;
  double temperature = 0.8;
  std::string prime;
  std::uint64_t sample_seed = 0;
  bench::AllreduceBenchOptions bench;
  bool bench_json = false;
  bool bench_tune = false;     // --tune: measure and write the size->algorithm table
  std::string bench_output;    // --output FILE for --tune
  bool bench_fit = false;      // --fit: alpha-beta-gamma per algorithm
  std::string bench_fit_json;  // --fit-json FILE (implies --fit)
  // bench step: --model goes to train.model_name, --threads to threads, --json to json.
  bench::StepBenchOptions bench_step;
  std::string help_text;  // filled for Command::kHelp
};

// Throws ConfigError (exit 2) naming the option and the valid values or range. Checks that
// need the number of ranks (batch size >= ranks) happen when training starts.
CliOptions parse_command_line(int argc, const char* const* argv);
// export, predict, plot and sample: args without the command word. Fills o (command included).
void parse_model_io_command(const std::string& command, const std::vector<std::string>& args,
                            CliOptions& o);
// bench step: args after `bench step` (cli/bench_step_options.cpp).
void parse_bench_step_command(const std::vector<std::string>& args, CliOptions& o);

}  // namespace dtrain::cli
