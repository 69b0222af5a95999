#pragma once
// The options of `dtrain eval`: a checkpoint's loss and accuracy on the test set, and for a
// GAN how a classifier judges its samples.
#include <string>
#include <vector>

#include "cli/option_parts.h"
#include "data/data_source.h"

namespace dtrain::cli {

struct EvalOptions {
  std::string checkpoint;  // --checkpoint: a file, or a directory (its `latest`)
  // A GAN checkpoint: judge its samples with this classifier checkpoint.
  std::string classifier;
  int samples = 1000;
  // --data (path), --val-size and the reader options, as in training; the seed is the
  // checkpoint's.
  data::DataOptions data;
  int threads = 1;
  bool json = false;
};

// args: the command line after `dtrain eval`. Throws ConfigError (exit 2) naming the option.
Parsed<EvalOptions> parse_eval_options(const std::vector<std::string>& args);

}  // namespace dtrain::cli
