// libFuzzer target: the NPY parser (an .npy file held in memory, as an npz member is) on
// arbitrary bytes. DataError is the documented outcome of bad input; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/errors.h"
#include "data/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    const auto array = dtrain::data::parse_npy(bytes, "fuzz.npy");
    // What the data set loader relies on: exactly count * item size bytes of elements.
    std::uint64_t count = 1;
    for (auto d : array.shape) count *= d;
    if (array.data.size() != count * dtrain::data::npy_item_size(array.dtype)) __builtin_trap();
  } catch (const dtrain::DataError&) {
  }
  return 0;
}
