#pragma once
// Pieces of the option parser shared by options.cpp and model_io_options.cpp.
#include <boost/program_options.hpp>
#include <string>

#include "data/data_source.h"

namespace dtrain::cli {

// The usage summary, a title, then the options of one command.
std::string help_for(const boost::program_options::options_description& desc,
                     const std::string& title);
// --num-classes, --label-column, --data-memory-mb, --hdf5-datasets.
boost::program_options::options_description data_format_options(data::DataOptions& d);

}  // namespace dtrain::cli
