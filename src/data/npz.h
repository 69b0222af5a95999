#pragma once
// NumPy's .npz archives (numpy.savez, numpy.savez_compressed): a ZIP file whose members are
// .npy files named "<array>.npy", stored or deflated, with ZIP64 records when large (numpy
// always writes them). We read the central directory at the end of the file, then each
// member through its local header; deflated members are inflated with zlib.
#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "data/npy.h"

namespace dtrain::data {

// All arrays of an archive held in `bytes`, by name without ".npy". Throws DataError
// naming `what` for anything that is not a well-formed archive of .npy members (bad
// signature, truncated record, unsupported compression, CRC mismatch, bad member).
// Never reads outside `bytes`: the archive parser's fuzz entry.
std::map<std::string, NpyArray> parse_npz(std::span<const std::uint8_t> bytes,
                                          const std::string& what);
std::map<std::string, NpyArray> read_npz(const std::string& path);

}  // namespace dtrain::data
