#include "cli/predict_options.h"

#include "core/errors.h"

namespace dtrain::cli {

namespace po = boost::program_options;

Parsed<PredictOptions> parse_predict_options(const std::vector<std::string>& args) {
  PredictOptions o;
  po::options_description desc("dtrain predict options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("checkpoint", po::value(&o.checkpoint), "checkpoint file or directory (its `latest`)")
      ("input", po::value(&o.input),
       ".npy of examples [N, ...] in the model's input shape (a GAN: noise [N, noise_dim])")
      ("output", po::value(&o.output),
       ".npy to write: class probabilities [N, K] (classifier), reconstructions "
       "(autoencoder) or samples (GAN generator), float32, in input order")
      ("classes", po::value(&o.classes_path), "also write the predicted classes (int64 [N])")
      ("logits", po::value(&o.logits_path), "also write a classifier's logits [N, K]")
      ("batch", po::value(&o.batch)->default_value(256), "examples per forward pass")
      ("threads", po::value(&o.threads)->default_value(1), "BLAS threads per rank (>= 1)");
  // clang-format on
  po::variables_map vm;
  store_args(desc, args, vm);
  po::notify(vm);
  if (vm.count("help")) {
    return HelpText{
        help_for(desc, "dtrain predict --checkpoint PATH --input x.npy --output y.npy")};
  }
  require_given("predict", o.checkpoint, "--checkpoint PATH");
  require_given("predict", o.input, "--input FILE.npy");
  require_given("predict", o.output, "--output FILE.npy");
  require(o.batch >= 1, "--batch", o.batch, "an integer >= 1");
  check_threads(o.threads);
  return o;
}

}  // namespace dtrain::cli
