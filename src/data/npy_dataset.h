#pragma once
// NumPy data sets for --data:
//   DIR holding train_x.npy [train_y.npy] [test_x.npy test_y.npy];
//   FILE.npy: the examples; labels from the same name with its last 'x' replaced by 'y'
//     (x.npy -> y.npy, train_x.npy -> train_y.npy) when that file exists; for a train_x.npy
//     the test split comes from test_x.npy/test_y.npy beside it when present;
//   FILE.npz: arrays train_x [train_y] [test_x test_y], or x [y].
// Without labels the data set is unlabeled (autoencoder, GAN). Without a test split the
// validation split doubles as the test split.
#include <cstddef>
#include <string>

#include "data/dataset.h"

namespace dtrain::data {

DataSplits load_npy_data(const std::string& path, std::size_t val_size, int num_classes);
// True when dir holds train_x.npy (so --data DIR means NumPy files).
bool is_npy_directory(const std::string& dir);

}  // namespace dtrain::data
