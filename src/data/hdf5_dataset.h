#pragma once
// HDF5 data sets for --data FILE.h5 / FILE.hdf5 (serial libhdf5 from Debian). Datasets
// (names overridable with --hdf5-datasets) /train/x [N, ...], /train/y [N] and optionally
// /test/x, /test/y; x is uint8 (scaled to [0,1] like IDX) or float32/float64, y integers.
//
// Examples whose in-memory size (1 byte per uint8 value, 4 per float) exceeds
// --data-memory-mb stay in the file: each gather reads only the rows it needs, one
// hyperslab (a [rows, ...] box) per run of consecutive indices, so a rank holds one batch,
// never the data set. Labels are always read whole (4 bytes per example).
#include <cstddef>
#include <string>

#include "data/dataset.h"

namespace dtrain::data {

struct Hdf5Names {
  std::string train_x = "/train/x", train_y = "/train/y", test_x = "/test/x", test_y = "/test/y";
};
// "a,b,c,d" (y and test may be left empty: "/x,,," ) -> names; ConfigError when malformed.
Hdf5Names parse_hdf5_names(const std::string& list);

DataSplits load_hdf5_data(const std::string& path, std::size_t val_size, int num_classes,
                          const Hdf5Names& names, std::size_t memory_limit_bytes);

}  // namespace dtrain::data
