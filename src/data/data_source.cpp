#include "data/data_source.h"

#include <filesystem>

#include "core/errors.h"
#include "data/csv_dataset.h"
#include "data/fashion_mnist.h"
#include "data/hdf5_dataset.h"
#include "data/npy_dataset.h"
#include "data/synthetic.h"
#include "data/text_dataset.h"

namespace dtrain::data {
namespace {

namespace fs = std::filesystem;

// --data synthetic: sizes chosen so an e2e run takes seconds; --val-size does not apply.
constexpr std::size_t kSyntheticTrain = 6000, kSyntheticVal = 1000, kSyntheticTest = 1000;

bool holds(const std::string& dir, const std::string& name) {
  std::error_code ec;
  return fs::exists(fs::path(dir) / name, ec);
}

}  // namespace

DataSplits load_data_splits(const DataOptions& o) {
  const std::string& p = o.path;
  if (p == "synthetic") {
    return make_synthetic(kSyntheticTrain, kSyntheticVal, kSyntheticTest, o.seed);
  }
  if (p.starts_with(kTextDataPrefix)) {
    return load_text_data(p.substr(std::string_view(kTextDataPrefix).size()), o.seq_len);
  }
  if (p.ends_with(".npy") || p.ends_with(".npz")) {
    return load_npy_data(p, o.val_size, o.num_classes);
  }
  if (p.ends_with(".h5") || p.ends_with(".hdf5")) {
    return load_hdf5_data(p, o.val_size, o.num_classes, parse_hdf5_names(o.hdf5_datasets),
                          o.memory_limit_mb << 20);
  }
  if (p.ends_with(".csv")) return load_csv_data(p, o.val_size, o.num_classes, o.label_column);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (is_npy_directory(p)) return load_npy_data(p, o.val_size, o.num_classes);
    if (is_csv_directory(p)) return load_csv_data(p, o.val_size, o.num_classes, o.label_column);
    if (holds(p, "train-images-idx3-ubyte.gz") || holds(p, "train-images-idx3-ubyte")) {
      return load_idx_directory(p, o.val_size);
    }
  }
  // A missing path without a data-file suffix: the IDX loader's message says how to install
  // Debian's data set, the default.
  if (!fs::exists(p, ec)) return load_idx_directory(p, o.val_size);
  if (fs::is_directory(p, ec)) {
    throw DataError(p + ": no data set found in this directory (expected the Fashion-MNIST " +
                    "IDX files train-images-idx3-ubyte[.gz] etc., NumPy train_x.npy [train_y.npy " +
                    "test_x.npy test_y.npy], or CSV train.csv [test.csv])");
  }
  throw DataError(p + ": unknown data file type (expected a .npy, .npz, .csv, .h5 or .hdf5 " +
                  "file, a directory, 'synthetic' or text:FILE)");
}

}  // namespace dtrain::data
