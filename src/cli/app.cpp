#include "cli/app.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "comm/mpi/mpi_runtime.h"
#include "core/errors.h"

namespace dtrain::cli {

namespace {

// Before MPI is up the rank is only known from the launcher's environment. Errors found
// there (bad options) are the same on every rank, so only rank 0 prints them.
bool launcher_rank_zero() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const char* v = std::getenv(var)) return std::string(v) == "0";
  }
  return true;
}

}  // namespace

int run_app(int argc, char** argv) {
  CliOptions options;
  try {
    options = parse_command_line(argc, argv);
  } catch (const Error& e) {
    if (launcher_rank_zero()) std::fprintf(stderr, "dtrain: %s\n", e.what());
    return e.exit_code();
  }
  if (options.command == Command::kHelp) {
    if (launcher_rank_zero()) std::fputs(options.help_text.c_str(), stdout);
    return kExitOk;
  }
  if (options.command == Command::kVersion) {
    if (launcher_rank_zero()) std::fputs(version_text().c_str(), stdout);
    return kExitOk;
  }
  try {
    if (options.command == Command::kInspect) return run_inspect(options);  // no MPI needed
    if (options.command == Command::kExport) return run_export(options);
    if (options.command == Command::kPlot) return run_plot(options);
    if (options.command == Command::kSample) return run_sample(options);
    if (options.command == Command::kBenchStep) return run_bench_step(options);
    const bool comm_thread = options.command == Command::kTrain && options.train.overlap;
    comm::MpiRuntime mpi(
        &argc, &argv, comm_thread ? comm::ThreadLevel::kSerialized : comm::ThreadLevel::kFunneled);
    switch (options.command) {
      case Command::kBenchAllreduce:
        return run_bench_allreduce(options);
      case Command::kEval:
        return run_eval(options);
      case Command::kPredict:
        return run_predict(options);
      default:
        return run_train(options);
    }
  } catch (const AgreedFailure& f) {
    return f.exit_code;  // already reported by the lowest failing rank
  } catch (const Error& e) {
    std::fprintf(stderr, "dtrain: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dtrain: internal error: %s\n", e.what());
    return kExitRuntime;
  }
}

}  // namespace dtrain::cli
