#include "cli/option_parts.h"

#include <fstream>
#include <map>

namespace dtrain::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "usage: dtrain [train] [options]          train (the default command)\n"
    "       dtrain eval --checkpoint PATH     loss/accuracy of a checkpoint on the test set\n"
    "       dtrain inspect PATH [--json]      what a checkpoint holds; checks its integrity\n"
    "       dtrain bench allreduce [options]  our allreduce algorithms vs MPI_Allreduce: time, "
    "algbw, busbw;\n"
    "                                         --tune writes a size->algorithm table, --fit a "
    "cost model\n"
    "       dtrain bench step [--model M]     time per layer of one training step, FLOPs, and "
    "the\n"
    "                                         fraction of the sgemm roofline (one process)\n"
    "       dtrain export --checkpoint PATH --output model.onnx   the network as ONNX\n"
    "       dtrain predict --checkpoint PATH --input x.npy --output y.npy\n"
    "       dtrain explain --checkpoint PATH --test-examples 10 --output-dir DIR   attribution "
    "maps\n"
    "       dtrain plot METRICS.jsonl [--output curves.png]   training curves\n"
    "       dtrain sample --checkpoint PATH [--length 500]   text from a language model\n"
    "       dtrain --help | dtrain COMMAND --help | dtrain --version\n"
    "Run it under MPI, e.g. mpirun -np 4 dtrain --epochs 5\n";

}  // namespace

std::string help_for(const po::options_description& desc, const std::string& title) {
  std::ostringstream out;
  out << kUsage << "\n" << title << "\n" << desc;
  return out.str();
}

// Options of the NumPy, CSV and HDF5 readers, shared by train and eval.
po::options_description data_format_options(data::DataOptions& d) {
  po::options_description desc("Data set options");
  // clang-format off
  desc.add_options()
      ("num-classes", po::value(&d.num_classes)->default_value(0),
       "classes of a labeled NumPy/CSV/HDF5 data set (0 = 1 + the largest label)")
      ("label-column", po::value(&d.label_column),
       "CSV: the label column, by header name or 0-based index (default: the last column)")
      ("data-memory-mb", po::value(&d.memory_limit_mb)->default_value(1024),
       "HDF5: examples larger than this many MiB are read from the file batch by batch")
      ("hdf5-datasets", po::value(&d.hdf5_datasets)->default_value(d.hdf5_datasets),
       "HDF5: train x, train y, test x, test y dataset names (y and test optional)");
  // clang-format on
  return desc;
}

void check_threads(long long threads) {
  require(threads >= 1 && threads <= 1024, "--threads", threads, "an integer in [1, 1024]");
}

void require_given(const std::string& command, const std::string& value, const std::string& what) {
  if (value.empty()) throw ConfigError(command + ": " + what + " is required (see --help)");
}

void store_args(const po::options_description& desc, const std::vector<std::string>& args,
                po::variables_map& vm, const char* positional) {
  po::positional_options_description pos;
  if (positional) pos.add(positional, 1);
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
}

void store_config_file(const po::options_description& desc, const std::string& path,
                       po::variables_map& vm) {
  std::ifstream in(path);
  if (!in) throw ConfigError("--config: cannot read '" + path + "'");
  try {
    po::store(po::parse_config_file(in, desc), vm);
  } catch (const po::error& e) {
    throw ConfigError("--config '" + path + "': " + describe(e));
  }
}

// Boost.Program_options (1.74) builds an error's message by replacing each %placeholder%
// (%option%, %value%, %original_token%...) with the user's text, again and again until none
// is left, so a token that holds its own placeholder (`--epochs=%value%`) never finishes
// (found by fuzz/fuzz_config_file). The message is built from a copy whose user text has
// its '%' signs replaced by a look-alike (U+FF05) that is no placeholder.
std::string describe(const po::error& e) {
  const auto* named = dynamic_cast<const po::error_with_option_name*>(&e);
  if (!named) return e.what();
  struct Substitutions : po::error_with_option_name {
    static std::map<std::string, std::string>& of(po::error_with_option_name& error) {
      return error.*(&Substitutions::m_substitutions);
    }
  };
  po::error_with_option_name safe(*named);
  for (auto& [placeholder, text] : Substitutions::of(safe)) {
    for (std::size_t at = text.find('%'); at != std::string::npos; at = text.find('%', at)) {
      text.replace(at, 1, "\xef\xbc\x85");
    }
  }
  return safe.what();
}

}  // namespace dtrain::cli
