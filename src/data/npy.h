#pragma once
// NumPy's .npy format: the magic "\x93NUMPY", a version (1.0: 2-byte header length; 2.0
// and 3.0: 4 bytes), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
// padded with spaces to a multiple of 64 bytes, then the elements in C order.
// We accept the dtypes a data set needs: |u1 (uint8), <i4, <i8 (labels), <f4, <f8.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dtrain::data {

enum class NpyDtype { kUint8, kInt32, kInt64, kFloat32, kFloat64 };
const char* npy_dtype_name(NpyDtype t);  // "uint8", "int32", ...
std::size_t npy_item_size(NpyDtype t);

struct NpyHeader {
  NpyDtype dtype = NpyDtype::kUint8;
  std::vector<std::uint64_t> shape;
  std::size_t data_offset = 0;  // where the elements start
  std::uint64_t count() const;  // product of shape (1 for a 0-d array)
};

// Parses and validates the header of an .npy file held in `bytes` (the whole file, or at
// least its header): magic, version, header length, dict syntax, dtype, C order, and that
// exactly count() * item size bytes of data follow. `what` names the file in errors.
// Throws DataError; never reads outside `bytes`. This is the NPY parser's fuzz entry.
NpyHeader parse_npy_header(std::span<const std::uint8_t> bytes, const std::string& what);

struct NpyArray {
  NpyDtype dtype = NpyDtype::kUint8;
  std::vector<std::uint64_t> shape;
  std::vector<std::uint8_t> data;  // count * item size bytes, little-endian, C order
};

// The whole array from an in-memory .npy file (an npz member, a test's buffer).
NpyArray parse_npy(std::span<const std::uint8_t> bytes, const std::string& what);
// Reads a .npy file. Throws DataError naming the path for a missing, unreadable or
// malformed file.
NpyArray read_npy(const std::string& path);

// Writes an .npy file (format 1.0, C order) of `data` (count * item size bytes). Throws
// DataError naming the path when it cannot be written.
void write_npy(const std::string& path, NpyDtype dtype, const std::vector<std::uint64_t>& shape,
               std::span<const std::uint8_t> data);

// Reads a whole file into memory; throws DataError naming the path.
std::vector<std::uint8_t> read_file_bytes(const std::string& path, const std::string& expected);

}  // namespace dtrain::data
