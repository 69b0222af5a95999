#pragma once
// A small slice of Debian's Fashion-MNIST (the first N training and M test examples),
// written by the tests in the formats dtrain reads, so a format's run can be compared with
// the IDX run bit for bit.
#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::testing {

struct FashionSubset {
  std::vector<std::uint8_t> train_x, test_x;  // 28*28 bytes per example
  std::vector<std::uint8_t> train_y, test_y;
};

// Reads the first `train` and `test` examples from /usr/share/datasets/fashion-mnist.
FashionSubset read_fashion_subset(std::size_t train, std::size_t test);
// The four IDX files (raw) in dir.
void write_idx_subset(const FashionSubset& s, const std::string& dir);
// train_x.npy (uint8 [N, 28, 28]), train_y.npy (int64), test_x.npy, test_y.npy in dir.
void write_npy_subset(const FashionSubset& s, const std::string& dir);
// /train/x (uint8 [N, 28, 28], chunked by 64 rows), /train/y (int64), /test/x, /test/y.
void write_hdf5_subset(const FashionSubset& s, const std::string& path);

}  // namespace dtrain::testing
