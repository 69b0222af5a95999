#pragma once
// The options of `dtrain bench step`: which model, at which batch and BLAS threads, for how
// many steps. One process, so no MPI options.
#include <string>
#include <vector>

#include "cli/option_parts.h"
#include "bench/step_bench.h"

namespace dtrain::cli {

struct BenchStepOptions {
  std::string model = "cnn";  // --model: built-in name or ModelSpec file
  int threads = 1;
  bool json = false;
  bench::StepBenchOptions step;  // --batch, --iterations, --warmup
};

// args: the command line after `dtrain bench step`. Throws ConfigError (exit 2) naming the
// option.
Parsed<BenchStepOptions> parse_bench_step_options(const std::vector<std::string>& args);

}  // namespace dtrain::cli
