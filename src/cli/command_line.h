#pragma once
// The command line of docs/design.md "Command line", parsed with Boost.Program_options (cli/ is the
// only module that uses Boost): the command word picks the command, whose own parser
// (<command>_options.h) reads the rest.
#include <string>
#include <variant>

#include "cli/bench_allreduce_options.h"
#include "cli/bench_step_options.h"
#include "cli/eval_options.h"
#include "cli/explain_options.h"
#include "cli/export_options.h"
#include "cli/inspect_options.h"
#include "cli/plot_options.h"
#include "cli/predict_options.h"
#include "cli/sample_options.h"
#include "cli/train_options.h"

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
  kExplain,
  kHelp,
  kVersion
};

struct CommandLine {
  Command command = Command::kTrain;
  // The command's own options; std::monostate for kHelp and kVersion.
  std::variant<std::monostate, TrainOptions, EvalOptions, InspectOptions, BenchAllreduceOptions,
               BenchStepOptions, ExportOptions, PredictOptions, PlotOptions, SampleOptions,
               ExplainOptions>
      options;
  std::string help_text;  // filled for Command::kHelp
};

// Throws ConfigError (exit 2) naming the option and the valid values or range, or the
// unknown command; AllreduceTableError (exit 3) for a bad --allreduce-table file. Checks
// that need the number of ranks happen when the command starts.
CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace dtrain::cli
