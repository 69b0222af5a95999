#pragma once
// Pieces of the option parsers that several commands share: the help layout, the data-set
// reader options, the checks of --threads and --model, and Boost's error messages. Each
// command's own options live in <command>_options.{h,cpp}.
#include <boost/program_options.hpp>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "core/errors.h"
#include "data/data_source.h"

namespace dtrain::cli {

// What --help asked for instead of running a command: the text to print.
struct HelpText {
  std::string text;
};
// A command's parser returns its options, or the help text when --help was given.
template <typename Options>
using Parsed = std::variant<Options, HelpText>;

// The usage summary, a title, then the options of one command.
std::string help_for(const boost::program_options::options_description& desc,
                     const std::string& title);
// --num-classes, --label-column, --data-memory-mb, --hdf5-datasets (train, eval).
boost::program_options::options_description data_format_options(data::DataOptions& d);

// "cnn, mlp, ...": the built-in models, for help texts and messages.
std::string model_names();
// ConfigError unless name is a built-in model or a file (--model of train and bench step).
void check_model(const std::string& name);
// ConfigError unless 1 <= threads <= 1024 (--threads of every command that has it).
void check_threads(long long threads);

// ConfigError "OPTION: got VALUE, expected EXPECTED" unless ok.
template <typename T>
void require(bool ok, const std::string& option, const T& value, const std::string& expected) {
  if (!ok) {
    std::ostringstream v;
    v << value;
    throw ConfigError(option + ": got " + v.str() + ", expected " + expected);
  }
}

// ConfigError "COMMAND: WHAT is required (see --help)" when value is empty.
void require_given(const std::string& command, const std::string& value, const std::string& what);

// Stores args into vm: positional, if given, names the option that one bare word sets; any
// other bare word is an error.
void store_args(const boost::program_options::options_description& desc,
                const std::vector<std::string>& args, boost::program_options::variables_map& vm,
                const char* positional = nullptr);
// Stores the INI file `path` (`--config FILE`) into vm. Called after the command line is
// stored: Boost keeps values already stored, so the command line wins. ConfigError names
// the file.
void store_config_file(const boost::program_options::options_description& desc,
                       const std::string& path, boost::program_options::variables_map& vm);
// Boost's message for e, safe from the user's '%' signs.
std::string describe(const boost::program_options::error& e);

}  // namespace dtrain::cli
