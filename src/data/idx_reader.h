#pragma once
// Reader for the IDX format of (Fashion-)MNIST: a big-endian header (two zero bytes, an
// element type, the number of dimensions, then one uint32 per dimension) followed by the
// elements. Files may be gzip'd or raw; zlib reads both through the same calls.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::data {

inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // unsigned byte, 3 dims
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned byte, 1 dim

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> bytes;  // product(dims) elements, row-major

  std::size_t count() const { return dims.empty() ? 0 : dims[0]; }
};

// Reads a whole IDX file of unsigned bytes with 1 dimension (labels) or 3 (images).
// expected_ndims = 1 or 3 demands that kind and names it in the error; 0 accepts either.
// Every failure (unreadable file, wrong magic, truncated or oversized data, corrupt gzip
// stream, absurd dimensions) throws DataError naming the path, what was expected and
// what was found.
IdxArray read_idx(const std::string& path, int expected_ndims = 0);

}  // namespace dtrain::data
