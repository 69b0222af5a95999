#pragma once
// Loads Fashion-MNIST (or any MNIST-layout directory) from its four IDX files.
#include <cstddef>
#include <string>

#include "data/dataset.h"

namespace dtrain::data {

inline constexpr int kFashionMnistClasses = 10;

// Where Debian's dataset-fashion-mnist package installs the files; the --data default.
std::string default_data_dir();

// Reads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte from dir, each gzip'd (".gz", preferred when both exist) or raw.
// The last val_size training examples become `val`, the rest `train`; t10k is `test`.
// Image size comes from the files (28x28x1 for Fashion-MNIST); train and test must agree.
// Throws DataError for a missing directory or file and for malformed or inconsistent
// files (count mismatch, label >= 10), ConfigError when val_size leaves no training data.
DataSplits load_idx_directory(const std::string& dir, std::size_t val_size);

}  // namespace dtrain::data
