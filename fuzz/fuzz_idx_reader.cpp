// libFuzzer target: the IDX reader (raw or gzip'd) on arbitrary bytes. Any DataError is the
// documented outcome of bad input; anything else (a crash, a sanitizer report, another
// exception, an allocation past libFuzzer's limit) is a bug.
#include <cstddef>
#include <cstdint>

#include "core/errors.h"
#include "data/idx_reader.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static dtrain::fuzz::InputFile file;
  const auto& path = file.hold(data, size);
  try {
    const auto array = dtrain::data::read_idx(path, 0);
    // What the data set loader relies on: the elements are the product of the dimensions.
    std::size_t n = array.dims.empty() ? 0 : 1;
    for (auto d : array.dims) n *= d;
    if (array.bytes.size() != n) __builtin_trap();
  } catch (const dtrain::DataError&) {
  }
  return 0;
}
