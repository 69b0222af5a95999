// Options of `dtrain bench step`: which model, at which batch and BLAS threads, for how many
// steps. One process, so no MPI options.
#include <boost/program_options.hpp>
#include <filesystem>

#include "cli/model_registry.h"
#include "cli/option_parts.h"
#include "cli/options.h"
#include "core/errors.h"

namespace dtrain::cli {

namespace po = boost::program_options;

namespace {

void require_in(long long value, long long lo, long long hi, const std::string& option) {
  if (value < lo || value > hi) {
    throw ConfigError(option + ": got " + std::to_string(value) + ", expected an integer in [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

}  // namespace

void parse_bench_step_command(const std::vector<std::string>& args, CliOptions& o) {
  o.command = Command::kBenchStep;
  // Signed here, so that a negative value is reported instead of wrapping around.
  long long batch = 128, iterations = 20, warmup = 3, threads = 1;
  std::string models;
  for (const auto& n : builtin_model_names()) models += (models.empty() ? "" : ", ") + n;
  po::options_description desc("dtrain bench step options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("model", po::value(&o.train.model_name)->default_value("cnn"),
       ("built-in model (" + models + ") or a text-format ModelSpec file").c_str())
      ("batch", po::value(&batch)->default_value(128), "samples per step (>= 1)")
      ("threads", po::value(&threads)->default_value(1),
       "BLAS threads, for the step and for the sgemm roofline (>= 1)")
      ("iterations", po::value(&iterations)->default_value(20),
       "timed steps; figures are medians over them (>= 1)")
      ("warmup", po::value(&warmup)->default_value(3), "untimed steps first (>= 0)")
      ("json", po::bool_switch(&o.json), "print one JSON object");
  // clang-format on
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    o.command = Command::kHelp;
    o.help_text = help_for(desc, "dtrain bench step [--model M] [--batch B] [--threads T]");
    return;
  }
  require_in(batch, 1, 1 << 20, "--batch");
  require_in(threads, 1, 1024, "--threads");
  require_in(iterations, 1, 1000000, "--iterations");
  require_in(warmup, 0, 1000000, "--warmup");
  std::error_code ec;
  if (!is_builtin_model(o.train.model_name) &&
      !std::filesystem::is_regular_file(o.train.model_name, ec)) {
    throw ConfigError("--model: got " + o.train.model_name + ", expected a built-in model (" +
                      models + ") or a ModelSpec file");
  }
  o.threads = static_cast<int>(threads);
  o.bench_step.batch = static_cast<std::size_t>(batch);
  o.bench_step.iterations = static_cast<int>(iterations);
  o.bench_step.warmup = static_cast<int>(warmup);
}

}  // namespace dtrain::cli
