#pragma once
// Turns arrays read from NPY, NPZ or HDF5 files into Datasets, and finishes a set of splits
// the same way for every format: validation tail, test split, class count, checks.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/npy.h"

namespace dtrain::data {

// The example shape of an array of shape [N, ...] in dtrain's HWC layout:
// [N, D] -> 1xDx1, [N, H, W] -> HxWx1, [N, H, W, C] -> HxWxC. Throws DataError naming
// `what` for other ranks or a zero or oversized dimension.
struct ExampleShape {
  int height = 0, width = 0, channels = 0;
};
ExampleShape example_shape(const std::vector<std::uint64_t>& shape, const std::string& what);

// x: uint8 (kept as bytes, scaled to [0,1] like IDX), float32 or float64 (kept as float).
// y (optional): uint8, int32 or int64 labels of shape [N] or [N, 1], >= 0, as many as x has
// examples. Throws DataError naming the file of the array at fault.
Dataset dataset_from_arrays(NpyArray x, const NpyArray* y, const std::string& what_x,
                            const std::string& what_y);
// Labels of a y array, checked as above for `examples` examples.
std::vector<std::int32_t> labels_from_array(const NpyArray& y, std::size_t examples,
                                            const std::string& what_y);

// Cuts the last val_size training examples off as `val`; without a test split the test
// split is a copy of `val` (said in the description). Sets num_classes on every split to
// `num_classes` (when > 0) or 1 + the largest label, after checking every label is below
// it; an unlabeled train split leaves every split unlabeled. Checks that train and test
// have the same example shape. `source` names the data in errors and the description.
// Throws DataError (bad files) or ConfigError (--val-size, --num-classes).
DataSplits finish_splits(Dataset train, std::optional<Dataset> test, std::size_t val_size,
                         int num_classes, const std::string& source, const std::string& format);

}  // namespace dtrain::data
