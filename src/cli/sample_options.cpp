#include "cli/sample_options.h"

#include <cmath>

#include "core/errors.h"

namespace dtrain::cli {

namespace po = boost::program_options;

Parsed<SampleOptions> parse_sample_options(const std::vector<std::string>& args) {
  SampleOptions o;
  po::options_description desc("dtrain sample options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("checkpoint", po::value(&o.checkpoint),
       "a language model's checkpoint file or directory (its `latest`)")
      ("length", po::value(&o.length)->default_value(500),
       "characters to generate (after the prime)")
      ("temperature", po::value(&o.temperature)->default_value(0.8, "0.8"),
       "> 0: logits are divided by it before the softmax (lower: more conservative)")
      ("prime", po::value(&o.prime), "text to start from (printed first; bytes of the vocabulary)")
      ("seed", po::value(&o.seed)->default_value(0), "random seed of the draws")
      ("threads", po::value(&o.threads)->default_value(1), "BLAS threads (>= 1)");
  // clang-format on
  po::variables_map vm;
  store_args(desc, args, vm);
  po::notify(vm);
  if (vm.count("help")) {
    return HelpText{help_for(
        desc, "dtrain sample --checkpoint PATH [--length 500] [--temperature 0.8] [--prime TEXT]")};
  }
  require_given("sample", o.checkpoint, "--checkpoint PATH");
  require(o.length >= 0, "--length", o.length, "an integer >= 0");
  // std::to_string, not require's stream: the message has always shown six decimals.
  if (!(o.temperature > 0.0) || !std::isfinite(o.temperature)) {
    throw ConfigError("--temperature: got " + std::to_string(o.temperature) +
                      ", expected a number > 0");
  }
  check_threads(o.threads);
  return o;
}

}  // namespace dtrain::cli
