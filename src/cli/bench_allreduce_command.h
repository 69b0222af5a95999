#pragma once
// `dtrain bench allreduce` (docs/bench.md): runs after MPI is up, on every rank; rank 0
// prints. Its own header so that the simulated build (sim/) compiles it without the other
// commands.
#include "cli/bench_allreduce_options.h"

namespace dtrain::cli {

int run_bench_allreduce(const BenchAllreduceOptions& options);

}  // namespace dtrain::cli
