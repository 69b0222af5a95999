#include "cli/export_options.h"

#include "core/errors.h"

namespace dtrain::cli {

namespace po = boost::program_options;

Parsed<ExportOptions> parse_export_options(const std::vector<std::string>& args) {
  ExportOptions o;
  po::options_description desc("dtrain export options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("checkpoint", po::value(&o.checkpoint), "checkpoint file or directory (its `latest`)")
      ("format", po::value(&o.format)->default_value("onnx"), "onnx (the only format)")
      ("output", po::value(&o.output), "the file to write");
  // clang-format on
  po::variables_map vm;
  store_args(desc, args, vm);
  po::notify(vm);
  if (vm.count("help")) {
    return HelpText{
        help_for(desc, "dtrain export --checkpoint PATH --format onnx --output model.onnx")};
  }
  require_given("export", o.checkpoint, "--checkpoint PATH");
  require_given("export", o.output, "--output FILE");
  require(o.format == "onnx", "--format", o.format, "onnx");
  return o;
}

}  // namespace dtrain::cli
