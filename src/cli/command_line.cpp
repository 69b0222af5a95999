#include "cli/command_line.h"

#include <utility>

#include "core/errors.h"

namespace dtrain::cli {

namespace po = boost::program_options;

namespace {

// The command's options, or the help that --help asked for instead.
template <typename Options>
CommandLine command_line(Command command, Parsed<Options> parsed) {
  if (auto* help = std::get_if<HelpText>(&parsed)) {
    return {.command = Command::kHelp, .help_text = std::move(help->text)};
  }
  return {.command = command, .options = std::get<Options>(std::move(parsed))};
}

// `dtrain bench allreduce|step ...`; `dtrain bench --help` is the allreduce benchmark's help.
CommandLine parse_bench(const std::vector<std::string>& args) {
  const std::string what = args.size() >= 2 ? args[1] : "";
  std::vector<std::string> rest;
  if (args.size() > 2) rest.assign(args.begin() + 2, args.end());
  if (what == "step") return command_line(Command::kBenchStep, parse_bench_step_options(rest));
  if (what == "allreduce") {
    return command_line(Command::kBenchAllreduce, parse_bench_allreduce_options(rest));
  }
  if (what == "--help" || what == "-h") {
    return command_line(Command::kBenchAllreduce, parse_bench_allreduce_options({what}));
  }
  throw ConfigError(
      "bench: expected 'dtrain bench allreduce [options]' or 'dtrain bench step [options]'");
}

CommandLine parse_command(std::vector<std::string> args) {
  if (!args.empty() && args[0] == "bench") return parse_bench(args);
  const std::string word = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (word == "eval") return command_line(Command::kEval, parse_eval_options(rest));
  if (word == "inspect") return command_line(Command::kInspect, parse_inspect_options(rest));
  if (word == "export") return command_line(Command::kExport, parse_export_options(rest));
  if (word == "predict") return command_line(Command::kPredict, parse_predict_options(rest));
  if (word == "explain") return command_line(Command::kExplain, parse_explain_options(rest));
  if (word == "plot") return command_line(Command::kPlot, parse_plot_options(rest));
  if (word == "sample") return command_line(Command::kSample, parse_sample_options(rest));
  if (!word.empty() && !word.starts_with("-")) {
    throw ConfigError(
        "unknown command '" + word +
        "' (expected train, eval, inspect, export, predict, explain, plot, sample, bench "
        "allreduce or bench step)");
  }
  return command_line(Command::kTrain, parse_train_options(std::move(args)));
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--version" || args[0] == "-V")) {
    return {.command = Command::kVersion};
  }
  // train is the default command, so its word is optional (and `train` before another
  // command word gives that command).
  if (!args.empty() && args[0] == "train") args.erase(args.begin());
  try {
    return parse_command(std::move(args));
  } catch (const po::error& e) {
    throw ConfigError(describe(e) + " (see dtrain --help)");
  }
}

}  // namespace dtrain::cli
