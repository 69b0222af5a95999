#pragma once
// The options of `dtrain plot METRICS.jsonl`: the training curves of a run as a PNG.
#include <string>
#include <vector>

#include "cli/option_parts.h"

namespace dtrain::cli {

struct PlotOptions {
  std::string metrics;  // METRICS.jsonl (or --metrics): the metrics file of a run
  std::string output;   // PNG to write; default: metrics with .png
};

// args: the command line after `dtrain plot`. Throws ConfigError (exit 2) without METRICS.
Parsed<PlotOptions> parse_plot_options(const std::vector<std::string>& args);

}  // namespace dtrain::cli
