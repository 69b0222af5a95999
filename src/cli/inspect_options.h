#pragma once
// The options of `dtrain inspect PATH`: what a checkpoint holds.
#include <string>
#include <vector>

#include "cli/option_parts.h"

namespace dtrain::cli {

struct InspectOptions {
  std::string checkpoint;  // PATH (or --checkpoint): a file, or a directory (its `latest`)
  bool json = false;
};

// args: the command line after `dtrain inspect`. Throws ConfigError (exit 2) without PATH.
Parsed<InspectOptions> parse_inspect_options(const std::vector<std::string>& args);

}  // namespace dtrain::cli
