#include "cli/eval_options.h"

#include "core/errors.h"
#include "data/fashion_mnist.h"

namespace dtrain::cli {

namespace po = boost::program_options;

Parsed<EvalOptions> parse_eval_options(const std::vector<std::string>& args) {
  EvalOptions o;
  po::options_description desc("dtrain eval options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("checkpoint", po::value(&o.checkpoint),
       "checkpoint file, or a checkpoint directory (its `latest`)")
      ("classifier", po::value(&o.classifier),
       "a GAN checkpoint: classify --samples generated images with this classifier checkpoint "
       "and report the share classified with confidence >= 0.9 and the classes that appear")
      ("samples", po::value(&o.samples)->default_value(1000), "generated images to judge (>= 1)")
      ("data", po::value(&o.data.path)->default_value(data::default_data_dir()),
       "directory of the t10k IDX files, or 'synthetic' (the test split is evaluated)")
      ("val-size", po::value(&o.data.val_size)->default_value(5000),
       "as in training (train files only)")
      ("threads", po::value(&o.threads)->default_value(1), "BLAS threads per rank (>= 1)")
      ("json", po::bool_switch(&o.json), "print one JSON object");
  // clang-format on
  desc.add(data_format_options(o.data));
  po::variables_map vm;
  store_args(desc, args, vm);
  po::notify(vm);
  if (vm.count("help")) return HelpText{help_for(desc, "dtrain eval --checkpoint PATH")};
  if (o.checkpoint.empty()) {
    throw ConfigError("eval: --checkpoint PATH is required (a checkpoint file or directory)");
  }
  check_threads(o.threads);
  require(o.samples >= 1, "--samples", o.samples, "an integer >= 1");
  return o;
}

}  // namespace dtrain::cli
