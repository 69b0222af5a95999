#include "testing/fashion_subset.h"

#include <filesystem>

#include "data/fashion_mnist.h"
#include "data/idx_reader.h"
#include "testing/hdf5_files.h"
#include "testing/idx_files.h"
#include "testing/npy_files.h"

namespace dtrain::testing {
namespace {

std::vector<std::uint8_t> head(const std::vector<std::uint8_t>& v, std::size_t n) {
  return {v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n)};
}

std::vector<std::int64_t> widen(const std::vector<std::uint8_t>& v) {
  return {v.begin(), v.end()};
}

}  // namespace

FashionSubset read_fashion_subset(std::size_t train, std::size_t test) {
  const std::string dir = data::default_data_dir() + "/";
  FashionSubset s;
  s.train_x = head(data::read_idx(dir + "train-images-idx3-ubyte.gz", 3).bytes, train * 784);
  s.train_y = head(data::read_idx(dir + "train-labels-idx1-ubyte.gz", 1).bytes, train);
  s.test_x = head(data::read_idx(dir + "t10k-images-idx3-ubyte.gz", 3).bytes, test * 784);
  s.test_y = head(data::read_idx(dir + "t10k-labels-idx1-ubyte.gz", 1).bytes, test);
  return s;
}

void write_idx_subset(const FashionSubset& s, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const auto n = static_cast<std::uint32_t>(s.train_y.size());
  const auto m = static_cast<std::uint32_t>(s.test_y.size());
  write_file(dir + "/train-images-idx3-ubyte", idx_bytes(0x803, {n, 28, 28}, s.train_x), false);
  write_file(dir + "/train-labels-idx1-ubyte", idx_bytes(0x801, {n}, s.train_y), false);
  write_file(dir + "/t10k-images-idx3-ubyte", idx_bytes(0x803, {m, 28, 28}, s.test_x), false);
  write_file(dir + "/t10k-labels-idx1-ubyte", idx_bytes(0x801, {m}, s.test_y), false);
}

void write_npy_subset(const FashionSubset& s, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::uint64_t n = s.train_y.size(), m = s.test_y.size();
  write_file(dir + "/train_x.npy", npy_bytes("|u1", {n, 28, 28}, s.train_x), false);
  write_file(dir + "/train_y.npy", npy_bytes("<i8", {n}, raw_bytes(widen(s.train_y))), false);
  write_file(dir + "/test_x.npy", npy_bytes("|u1", {m, 28, 28}, s.test_x), false);
  write_file(dir + "/test_y.npy", npy_bytes("<i8", {m}, raw_bytes(widen(s.test_y))), false);
}

void write_hdf5_subset(const FashionSubset& s, const std::string& path) {
  const std::uint64_t n = s.train_y.size(), m = s.test_y.size();
  write_h5(path, {{"/train/x", H5Type::kUint8, {n, 28, 28}, s.train_x, true},
                  {"/train/y", H5Type::kInt64, {n}, raw_bytes(widen(s.train_y))},
                  {"/test/x", H5Type::kUint8, {m, 28, 28}, s.test_x, true},
                  {"/test/y", H5Type::kInt64, {m}, raw_bytes(widen(s.test_y))}});
}

}  // namespace dtrain::testing
