#pragma once
// The options of `dtrain explain`: attribution maps of a classifier's decisions, as pictures.
#include <string>
#include <vector>

#include "cli/option_parts.h"
#include "data/data_source.h"

namespace dtrain::cli {

struct ExplainOptions {
  std::string checkpoint;  // a classifier's checkpoint file, or a directory (its `latest`)
  std::string input;       // .npy of examples in the model's input shape (no labels)
  int test_examples = 0;   // or the first N examples of --data's test split (with labels)
  data::DataOptions data;  // --data and the reader options, as in eval
  std::string method = "integrated-gradients";  // saliency | integrated-gradients | gradcam
  int steps = 64;                               // integrated gradients' path steps
  long target = -1;                             // the class explained (-1: the predicted one)
  std::string output_dir;                       // PNG per example and attributions.npy
  bool sanity_check = false;  // also the maps of a randomly initialized model, and their rank
                              // correlation with the trained model's
  int threads = 1;
};

// args: the command line after `dtrain explain`. Throws ConfigError (exit 2) naming the option.
Parsed<ExplainOptions> parse_explain_options(const std::vector<std::string>& args);

}  // namespace dtrain::cli
