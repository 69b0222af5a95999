// dtrain-smpi: `dtrain bench allreduce` under SimGrid's SMPI (docs/simulation.md). The same
// option parser (cli/bench_allreduce_options) and command (cli/bench_command.cpp) as the real
// dtrain, over the same MpiCommunicator and algorithms, compiled by smpicxx; only this main
// is the simulated build's own, since the real one (cli/app.cpp) links every other command.
//   smpirun -np P -platform cluster/platforms/flat-10g.xml -hostfile H
//     --cfg=smpi/coll-selector:ompi build/src/dtrain-smpi bench allreduce --json ...
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>
#include <variant>
#include <vector>

#include "cli/bench_allreduce_command.h"
#include "cli/command_guard.h"
#include "comm/mpi/mpi_runtime.h"
#include "core/errors.h"

namespace {

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int run(int argc, char** argv) {
  using namespace dtrain;
  // MPI first: under SMPI every rank is a context of this process and no launcher variable
  // says which rank prints. FUNNELED: only the main thread calls MPI (SMPI's SINGLE suffices,
  // comm/mpi/mpi_runtime.cpp).
  comm::MpiRuntime mpi(&argc, &argv, comm::ThreadLevel::kFunneled);
  const bool printer = world_rank() == 0;
  cli::Parsed<cli::BenchAllreduceOptions> parsed;
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() < 2 || args[0] != "bench" || args[1] != "allreduce") {
      throw ConfigError(
          "dtrain-smpi runs only `bench allreduce [options]` (see `dtrain bench allreduce "
          "--help` and docs/simulation.md)");
    }
    parsed = cli::parse_bench_allreduce_options({args.begin() + 2, args.end()});
  } catch (const Error& e) {  // the same on every rank: rank 0 says it
    if (printer) std::fprintf(stderr, "dtrain-smpi: %s\n", e.what());
    return e.exit_code();
  }
  if (const auto* help = std::get_if<cli::HelpText>(&parsed)) {
    if (printer) std::fputs(help->text.c_str(), stdout);
    return kExitOk;
  }
  // As cli/app.cpp does for the real dtrain.
  try {
    return cli::run_bench_allreduce(std::get<cli::BenchAllreduceOptions>(parsed));
  } catch (const cli::AgreedFailure& f) {
    return f.exit_code;
  } catch (const Error& e) {
    std::fprintf(stderr, "dtrain-smpi: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dtrain-smpi: internal error: %s\n", e.what());
    return kExitRuntime;
  }
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
