#pragma once
// The options of `dtrain predict`: a checkpoint's network run on the examples of a .npy file.
#include <string>
#include <vector>

#include "cli/option_parts.h"

namespace dtrain::cli {

struct PredictOptions {
  std::string checkpoint;                 // a file, or a directory (its `latest`)
  std::string input;                      // .npy of examples (a GAN: noise)
  std::string output;                     // .npy of probabilities, reconstructions or samples
  std::string classes_path, logits_path;  // --classes, --logits: also write these (classifier)
  int batch = 256;                        // examples per forward pass
  int threads = 1;
};

// args: the command line after `dtrain predict`. Throws ConfigError (exit 2) naming the
// option.
Parsed<PredictOptions> parse_predict_options(const std::vector<std::string>& args);

}  // namespace dtrain::cli
