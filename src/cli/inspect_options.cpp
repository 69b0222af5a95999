#include "cli/inspect_options.h"

#include "core/errors.h"

namespace dtrain::cli {

namespace po = boost::program_options;

Parsed<InspectOptions> parse_inspect_options(const std::vector<std::string>& args) {
  InspectOptions o;
  po::options_description desc("dtrain inspect PATH options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("checkpoint", po::value(&o.checkpoint), "checkpoint file or directory (also positional)")
      ("json", po::bool_switch(&o.json), "print one JSON object");
  // clang-format on
  po::variables_map vm;
  store_args(desc, args, vm, "checkpoint");
  po::notify(vm);
  if (vm.count("help")) return HelpText{help_for(desc, "dtrain inspect PATH")};
  if (o.checkpoint.empty()) {
    throw ConfigError("inspect: PATH is required (a checkpoint file or directory)");
  }
  return o;
}

}  // namespace dtrain::cli
