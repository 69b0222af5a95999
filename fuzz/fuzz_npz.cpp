// libFuzzer target: the NPZ (zip of .npy members, stored or deflated) parser on arbitrary
// bytes. DataError is the documented outcome of bad input; anything else is a bug, and so is
// an allocation the input could never fill (libFuzzer's -rss_limit_mb catches it).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/errors.h"
#include "data/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)dtrain::data::parse_npz(std::span<const std::uint8_t>(data, size), "fuzz.npz");
  } catch (const dtrain::DataError&) {
  }
  return 0;
}
