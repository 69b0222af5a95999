#include "cli/plot_options.h"

namespace dtrain::cli {

namespace po = boost::program_options;

Parsed<PlotOptions> parse_plot_options(const std::vector<std::string>& args) {
  PlotOptions o;
  po::options_description desc("dtrain plot options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("metrics", po::value(&o.metrics), "the metrics file of a run (also positional)")
      ("output", po::value(&o.output), "PNG to write (default: METRICS with .png)");
  // clang-format on
  po::variables_map vm;
  store_args(desc, args, vm, "metrics");
  po::notify(vm);
  if (vm.count("help")) {
    return HelpText{help_for(desc, "dtrain plot METRICS.jsonl [--output curves.png]")};
  }
  require_given("plot", o.metrics, "METRICS.jsonl");
  if (o.output.empty()) {
    const auto dot = o.metrics.rfind('.');
    o.output = (dot == std::string::npos ? o.metrics : o.metrics.substr(0, dot)) + ".png";
  }
  return o;
}

}  // namespace dtrain::cli
