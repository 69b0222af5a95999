#include "cli/app.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <variant>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "comm/mpi/mpi_runtime.h"
#include "core/errors.h"
#include "tensor/blas.h"

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
  CommandLine line;
  try {
    line = parse_command_line(argc, argv);
  } catch (const Error& e) {
    if (launcher_rank_zero()) std::fprintf(stderr, "dtrain: %s\n", e.what());
    return e.exit_code();
  }
  if (line.command == Command::kHelp) {
    if (launcher_rank_zero()) std::fputs(line.help_text.c_str(), stdout);
    return kExitOk;
  }
  if (line.command == Command::kVersion) {
    if (launcher_rank_zero()) std::fputs(version_text().c_str(), stdout);
    return kExitOk;
  }
  const auto& options = line.options;
  try {
    // Commands that need no MPI.
    switch (line.command) {
      case Command::kInspect:
        return run_inspect(std::get<InspectOptions>(options));
      case Command::kExport:
        return run_export(std::get<ExportOptions>(options));
      case Command::kPlot:
        return run_plot(std::get<PlotOptions>(options));
      case Command::kExplain:
        return run_explain(std::get<ExplainOptions>(options));
      case Command::kSample:
        return run_sample(std::get<SampleOptions>(options));
      case Command::kBenchStep:
        return run_bench_step(std::get<BenchStepOptions>(options));
      default:
        break;
    }
    const auto* train = std::get_if<TrainOptions>(&options);
    const bool comm_thread = train && train->train.overlap;
    comm::MpiRuntime mpi(
        &argc, &argv, comm_thread ? comm::ThreadLevel::kSerialized : comm::ThreadLevel::kFunneled);
    switch (line.command) {
      case Command::kBenchAllreduce:
        tensor::set_blas_threads(1);  // --fit's gamma and nothing else: no BLAS threads
        return run_bench_allreduce(std::get<BenchAllreduceOptions>(options));
      case Command::kEval:
        return run_eval(std::get<EvalOptions>(options));
      case Command::kPredict:
        return run_predict(std::get<PredictOptions>(options));
      default:
        return run_train(std::get<TrainOptions>(options));
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
