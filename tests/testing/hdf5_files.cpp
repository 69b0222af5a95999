#include "testing/hdf5_files.h"

#include <hdf5.h>

#include <stdexcept>

namespace dtrain::testing {

void write_h5(const std::string& path, const std::vector<H5Array>& arrays) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) throw std::runtime_error("cannot create " + path);
  const hid_t links = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links, 1);
  for (const auto& a : arrays) {
    hid_t type = H5T_NATIVE_UINT8;
    if (a.type == H5Type::kInt16) type = H5T_NATIVE_INT16;
    if (a.type == H5Type::kInt64) type = H5T_NATIVE_INT64;
    if (a.type == H5Type::kFloat32) type = H5T_NATIVE_FLOAT;
    if (a.type == H5Type::kFloat64) type = H5T_NATIVE_DOUBLE;
    const std::vector<hsize_t> dims(a.shape.begin(), a.shape.end());
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t props = H5Pcreate(H5P_DATASET_CREATE);
    if (a.chunked) {
      std::vector<hsize_t> chunk = dims;
      chunk[0] = std::min<hsize_t>(dims[0], 64);
      H5Pset_chunk(props, static_cast<int>(chunk.size()), chunk.data());
    }
    const hid_t ds = H5Dcreate2(file, a.name.c_str(), type, space, links, props, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data.data()) < 0) {
      throw std::runtime_error("cannot write " + a.name + " in " + path);
    }
    H5Dclose(ds);
    H5Pclose(props);
    H5Sclose(space);
  }
  H5Pclose(links);
  H5Fclose(file);
}

}  // namespace dtrain::testing
