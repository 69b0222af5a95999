#pragma once
// The options of `dtrain bench allreduce`: which algorithms, at which message sizes, and
// what to make of the timings (a tuned table, a fitted cost model).
#include <string>
#include <vector>

#include "cli/option_parts.h"
#include "bench/allreduce_bench.h"
#include "comm/collectives/algorithm_table.h"

namespace dtrain::cli {

struct BenchAllreduceOptions {
  bench::AllreduceBenchOptions bench;
  // --allreduce-table FILE: the table `auto` uses, read at parse time (a bad file: exit 3).
  std::string allreduce_table_path;
  comm::AlgorithmTable allreduce_table = comm::AlgorithmTable::builtin();
  bool json = false;
  bool tune = false;     // --tune: measure and write the size->algorithm table
  std::string output;    // --output FILE for --tune
  bool fit = false;      // --fit: alpha-beta-gamma per algorithm
  std::string fit_json;  // --fit-json FILE (implies --fit)
};

// args: the command line after `dtrain bench allreduce`. Throws ConfigError (exit 2)
// naming the option.
Parsed<BenchAllreduceOptions> parse_bench_allreduce_options(const std::vector<std::string>& args);

}  // namespace dtrain::cli
