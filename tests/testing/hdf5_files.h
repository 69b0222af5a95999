#pragma once
// HDF5 files written by tests with the HDF5 C API: datasets (groups created as needed) of
// uint8, int16, int64, float32 or float64 elements, contiguous or chunked.
#include <cstdint>
#include <string>
#include <vector>

#include "testing/idx_files.h"

namespace dtrain::testing {

enum class H5Type { kUint8, kInt16, kInt64, kFloat32, kFloat64 };
struct H5Array {
  std::string name;  // e.g. "/train/x"
  H5Type type;
  std::vector<std::uint64_t> shape;
  Bytes data;  // native little-endian elements
  bool chunked = false;
};
void write_h5(const std::string& path, const std::vector<H5Array>& arrays);

}  // namespace dtrain::testing
