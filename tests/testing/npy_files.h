#pragma once
// NumPy .npy and .npz files written by tests, byte for byte as numpy writes them (format
// 1.0 header padded to 64 bytes; npz members stored or deflated, with ZIP64 extra fields as
// numpy.savez adds them), so the readers are tested without Python.
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "testing/idx_files.h"

namespace dtrain::testing {

// descr: '<f4', '|u1', '<i8', ...; data: the element bytes.
Bytes npy_bytes(const std::string& descr, const std::vector<std::uint64_t>& shape,
                const Bytes& data, bool fortran_order = false);
template <typename T>
Bytes raw_bytes(const std::vector<T>& values) {
  Bytes b(values.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), values.data(), b.size());
  return b;
}
// A ZIP archive of (member name, member bytes), deflated or stored, with ZIP64 extras.
Bytes npz_bytes(const std::vector<std::pair<std::string, Bytes>>& members, bool deflate);

}  // namespace dtrain::testing
