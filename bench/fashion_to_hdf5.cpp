// Writes Debian's Fashion-MNIST as an HDF5 file for dtrain's --data (the on-demand reading
// benchmark, bench/hdf5_on_demand.sh):  fashion_to_hdf5 OUT.h5 [IDX_DIR] [REPEAT]
// /train/x uint8 [N, 28, 28] chunked by 64 rows, /train/y int64, /test/x, /test/y. REPEAT
// > 1 tiles the training set that many times (a larger data set with the same images).
#include <hdf5.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/fashion_mnist.h"
#include "data/idx_reader.h"

namespace {

void write(hid_t file, const char* name, hid_t type, std::vector<hsize_t> dims, const void* data) {
  const hid_t links = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links, 1);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t props = H5Pcreate(H5P_DATASET_CREATE);
  std::vector<hsize_t> chunk = dims;
  chunk[0] = std::min<hsize_t>(64, dims[0]);
  H5Pset_chunk(props, static_cast<int>(chunk.size()), chunk.data());
  const hid_t ds = H5Dcreate2(file, name, type, space, links, props, H5P_DEFAULT);
  if (ds < 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    std::fprintf(stderr, "fashion_to_hdf5: cannot write %s\n", name);
    std::exit(1);
  }
  H5Dclose(ds);
  H5Pclose(props);
  H5Sclose(space);
  H5Pclose(links);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fashion_to_hdf5 OUT.h5 [IDX_DIR] [REPEAT]\n");
    return 2;
  }
  const std::string dir = argc > 2 ? argv[2] : dtrain::data::default_data_dir();
  const int repeat = argc > 3 ? std::atoi(argv[3]) : 1;
  const auto read = [&](const std::string& base, int dims) {
    return dtrain::data::read_idx(dir + "/" + base + ".gz", dims);
  };
  const auto train_x = read("train-images-idx3-ubyte", 3), train_y = read("train-labels-idx1-ubyte", 1);
  const auto test_x = read("t10k-images-idx3-ubyte", 3), test_y = read("t10k-labels-idx1-ubyte", 1);
  std::vector<std::uint8_t> x;
  std::vector<std::int64_t> y;
  for (int r = 0; r < repeat; ++r) {
    x.insert(x.end(), train_x.bytes.begin(), train_x.bytes.end());
    y.insert(y.end(), train_y.bytes.begin(), train_y.bytes.end());
  }
  const std::vector<std::int64_t> ty(test_y.bytes.begin(), test_y.bytes.end());
  const hid_t file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return 1;
  write(file, "/train/x", H5T_NATIVE_UINT8, {y.size(), 28, 28}, x.data());
  write(file, "/train/y", H5T_NATIVE_INT64, {y.size()}, y.data());
  write(file, "/test/x", H5T_NATIVE_UINT8, {ty.size(), 28, 28}, test_x.bytes.data());
  write(file, "/test/y", H5T_NATIVE_INT64, {ty.size()}, ty.data());
  H5Fclose(file);
  std::printf("%s: %zu train (x%d), %zu test examples\n", argv[1], y.size(), repeat, ty.size());
  return 0;
}
