#pragma once
// The options of `dtrain export`: a checkpoint's network as a file of another framework.
#include <string>
#include <vector>

#include "cli/option_parts.h"

namespace dtrain::cli {

struct ExportOptions {
  std::string checkpoint;       // a file, or a directory (its `latest`)
  std::string format = "onnx";  // the only one
  std::string output;           // the file to write
};

// args: the command line after `dtrain export`. Throws ConfigError (exit 2) naming the option.
Parsed<ExportOptions> parse_export_options(const std::vector<std::string>& args);

}  // namespace dtrain::cli
