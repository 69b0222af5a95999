#include "cli/explain_options.h"

#include "core/errors.h"
#include "data/fashion_mnist.h"
#include "eval/attribution.h"

namespace dtrain::cli {

namespace po = boost::program_options;

Parsed<ExplainOptions> parse_explain_options(const std::vector<std::string>& args) {
  ExplainOptions o;
  po::options_description desc("dtrain explain options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("checkpoint", po::value(&o.checkpoint),
       "a classifier's checkpoint file, or a checkpoint directory (its `latest`)")
      ("input", po::value(&o.input), ".npy of examples [N, ...] in the model's input shape")
      ("test-examples", po::value(&o.test_examples)->default_value(0),
       "or explain the first N examples of --data's test split (their true class in the caption)")
      ("data", po::value(&o.data.path)->default_value(data::default_data_dir()),
       "with --test-examples: the data set, as in training")
      ("method", po::value(&o.method)->default_value(o.method),
       "saliency | integrated-gradients | gradcam")
      ("steps", po::value(&o.steps)->default_value(64),
       "integrated gradients: points on the path from the black image to the input (>= 1)")
      ("target", po::value(&o.target)->default_value(-1),
       "the class to explain (-1: each example's predicted class)")
      ("output-dir", po::value(&o.output_dir),
       "write explain-<i>.png per example (input, map, overlay) and attributions.npy [N, H, W]")
      ("sanity-check", po::bool_switch(&o.sanity_check),
       "also explain with randomly initialized weights and print each map's rank correlation "
       "with the trained model's (Adebayo et al. 2018: low means the maps depend on the model)")
      ("threads", po::value(&o.threads)->default_value(1), "BLAS threads (>= 1)");
  // clang-format on
  desc.add(data_format_options(o.data));
  po::variables_map vm;
  store_args(desc, args, vm);
  po::notify(vm);
  if (vm.count("help")) {
    return HelpText{help_for(
        desc,
        "dtrain explain --checkpoint PATH (--input x.npy | --test-examples N) --output-dir DIR")};
  }
  require_given("explain", o.checkpoint, "--checkpoint PATH");
  require_given("explain", o.output_dir, "--output-dir DIR");
  if (o.input.empty() == (o.test_examples == 0)) {
    throw ConfigError("explain: give either --input FILE.npy or --test-examples N (N >= 1)");
  }
  require(o.test_examples >= 0, "--test-examples", o.test_examples, "an integer >= 0");
  require(o.steps >= 1 && o.steps <= 4096, "--steps", o.steps, "an integer in [1, 4096]");
  require(o.target >= -1, "--target", o.target, "a class index, or -1 for the predicted class");
  eval::parse_attribution_method(o.method);  // names the option and the choices
  check_threads(o.threads);
  return o;
}

}  // namespace dtrain::cli
