#pragma once
// IDX files written by tests (the data-set parser's inputs, good and damaged).
#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::testing {

using Bytes = std::vector<std::uint8_t>;

// Big-endian magic and dimensions followed by the data bytes, as in the IDX format.
Bytes idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const Bytes& data);
// Writes the bytes raw or gzip'd; throws std::runtime_error naming the path on failure.
void write_file(const std::string& path, const Bytes& bytes, bool gzip);

}  // namespace dtrain::testing
