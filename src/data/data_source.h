#pragma once
// --data dispatch: which reader a path means.
//   synthetic                        the generated stand-in (data/synthetic.h)
//   DIR with train-images-idx3-ubyte[.gz]   Fashion-MNIST IDX files (data/fashion_mnist.h)
//   DIR with train_x.npy, FILE.npy, FILE.npz  NumPy (data/npy_dataset.h)
//   DIR with train.csv, FILE.csv     CSV tables (data/csv_dataset.h)
//   FILE.h5 / FILE.hdf5              HDF5 (data/hdf5_dataset.h)
//   text:FILE                        any file as a byte stream (data/text_dataset.h)
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace dtrain::data {

struct DataOptions {
  std::string path;  // --data
  std::size_t val_size = 5000;
  std::uint64_t seed = 0;    // synthetic
  int num_classes = 0;       // --num-classes; 0: 1 + the largest label
  std::string label_column;  // --label-column (CSV): a header name or 0-based index; "" = last
  // --data-memory-mb (HDF5): examples larger than this are read on demand, batch by batch.
  std::size_t memory_limit_mb = 1024;
  // --hdf5-datasets: train x, train y, test x, test y (y and test optional).
  std::string hdf5_datasets = "/train/x,/train/y,/test/x,/test/y";
  // text:FILE: characters a model reads per sequence (the language model's input_height).
  int seq_len = 0;
};

// Throws DataError (exit 3) naming the path and the layouts it accepts when it matches
// none, and whatever the chosen reader throws.
DataSplits load_data_splits(const DataOptions& options);

}  // namespace dtrain::data
