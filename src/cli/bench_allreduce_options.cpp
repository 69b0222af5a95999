#include "cli/bench_allreduce_options.h"

#include <sstream>

#include "core/errors.h"

namespace dtrain::cli {

namespace po = boost::program_options;

namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

}  // namespace

Parsed<BenchAllreduceOptions> parse_bench_allreduce_options(const std::vector<std::string>& args) {
  BenchAllreduceOptions o;
  auto& b = o.bench;
  std::string algos;
  po::options_description desc("dtrain bench allreduce options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("min-bytes", po::value(&b.min_bytes)->default_value(8), "smallest message (bytes)")
      ("max-bytes", po::value(&b.max_bytes)->default_value(std::size_t{256} << 20, "268435456"),
       "largest message (bytes); sizes double from min to max")
      ("iters", po::value(&b.iters)->default_value(0), "timed iterations per size (0 = by size)")
      ("algo", po::value(&algos)->default_value("auto,mpi"),
       "comma-separated: auto, ring, rd, rabenseifner, hierarchical, mpi (measured in turns)")
      ("allreduce-table", po::value(&o.allreduce_table_path),
       "the table `auto` uses (default: the built-in one)")
      ("tune", po::bool_switch(&o.tune),
       "measure ring, rd, rabenseifner, hierarchical and write the fastest per size as a "
       "table to --output")
      ("output", po::value(&o.output), "table file that --tune writes")
      ("fit", po::bool_switch(&o.fit),
       "fit alpha, beta (and measure gamma) of each algorithm's cost model and print them")
      ("fit-json", po::value(&o.fit_json), "also write the fit as JSON to FILE (--fit)")
      ("json", po::bool_switch(&o.json), "one JSON object per algorithm and size")
      ("private-buffer", po::bool_switch(&b.private_buffer),
       "measure on a plain private buffer instead of one from the communicator's shared "
       "arrays (as the trainer's gradients are): hierarchical then stages through copies");
  // clang-format on
  po::variables_map vm;
  store_args(desc, args, vm);
  po::notify(vm);
  if (vm.count("help")) return HelpText{help_for(desc, "dtrain bench allreduce")};
  b.algos = split_commas(algos);
  require(!b.algos.empty(), "--algo", algos, "a comma-separated list of algorithms");
  for (const auto& a : b.algos) {
    require(a == "auto" || comm::parse_algo(a).has_value(), "--algo", algos,
            "a comma-separated list of auto, ring, rd, rabenseifner, hierarchical, mpi");
  }
  if (o.tune) {
    require(!o.output.empty(), "--tune", "without --output",
            "--output FILE (where the table goes)");
    b.algos = {"ring", "rd", "rabenseifner", "hierarchical"};
  } else {
    require(o.output.empty(), "--output", o.output, "only together with --tune");
  }
  if (!o.fit_json.empty()) o.fit = true;
  if (!o.allreduce_table_path.empty()) {
    o.allreduce_table = comm::AlgorithmTable::read_file(o.allreduce_table_path);
  }
  return o;
}

}  // namespace dtrain::cli
