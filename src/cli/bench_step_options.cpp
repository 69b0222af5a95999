#include "cli/bench_step_options.h"

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

Parsed<BenchStepOptions> parse_bench_step_options(const std::vector<std::string>& args) {
  BenchStepOptions o;
  // Signed here, so that a negative value is reported instead of wrapping around.
  long long batch = 128, iterations = 20, warmup = 3, threads = 1;
  po::options_description desc("dtrain bench step options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("model", po::value(&o.model)->default_value("cnn"),
       ("built-in model (" + model_names() + ") or a text-format ModelSpec file").c_str())
      ("batch", po::value(&batch)->default_value(128), "samples per step (>= 1)")
      ("threads", po::value(&threads)->default_value(1),
       "BLAS threads, for the step and for the sgemm roofline (>= 1)")
      ("iterations", po::value(&iterations)->default_value(20),
       "timed steps; figures are medians over them (>= 1)")
      ("warmup", po::value(&warmup)->default_value(3), "untimed steps first (>= 0)")
      ("json", po::bool_switch(&o.json), "print one JSON object");
  // clang-format on
  po::variables_map vm;
  // No positional description, unlike the other commands: Boost then drops bare words
  // instead of rejecting them, as `bench step` always has.
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    return HelpText{help_for(desc, "dtrain bench step [--model M] [--batch B] [--threads T]")};
  }
  require_in(batch, 1, 1 << 20, "--batch");
  check_threads(threads);
  require_in(iterations, 1, 1000000, "--iterations");
  require_in(warmup, 0, 1000000, "--warmup");
  check_model(o.model);
  o.threads = static_cast<int>(threads);
  o.step.batch = static_cast<std::size_t>(batch);
  o.step.iterations = static_cast<int>(iterations);
  o.step.warmup = static_cast<int>(warmup);
  return o;
}

}  // namespace dtrain::cli
