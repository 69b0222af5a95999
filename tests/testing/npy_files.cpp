#include "testing/npy_files.h"

#include <zlib.h>

#include <stdexcept>

namespace dtrain::testing {
namespace {

void put(Bytes& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

Bytes deflate_raw(const Bytes& in) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  Bytes out(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

Bytes npy_bytes(const std::string& descr, const std::vector<std::uint64_t>& shape,
                const Bytes& data, bool fortran_order) {
  std::string dims;
  for (const auto d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  if (shape.size() == 1) dims.resize(dims.size() - 1);
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran_order ? "True" : "False") +
                       ", 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  put(out, header.size(), 2);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes npz_bytes(const std::vector<std::pair<std::string, Bytes>>& members, bool deflate) {
  Bytes out, central;
  for (const auto& [name, plain] : members) {
    const Bytes stored = deflate ? deflate_raw(plain) : plain;
    const auto crc = crc32(0L, plain.data(), static_cast<uInt>(plain.size()));
    const std::uint64_t offset = out.size();
    // Local header with saturated sizes and a ZIP64 extra field (numpy's force_zip64).
    put(out, 0x04034b50, 4);
    put(out, 45, 2);
    put(out, 0, 2);
    put(out, deflate ? 8 : 0, 2);
    put(out, 0, 4);  // time, date
    put(out, crc, 4);
    put(out, 0xFFFFFFFF, 4);
    put(out, 0xFFFFFFFF, 4);
    put(out, name.size(), 2);
    put(out, 20, 2);
    out.insert(out.end(), name.begin(), name.end());
    put(out, 1, 2);
    put(out, 16, 2);
    put(out, plain.size(), 8);
    put(out, stored.size(), 8);
    out.insert(out.end(), stored.begin(), stored.end());
    // Central directory entry: sizes saturated too, the offset plain.
    put(central, 0x02014b50, 4);
    put(central, 45, 2);
    put(central, 45, 2);
    put(central, 0, 2);
    put(central, deflate ? 8 : 0, 2);
    put(central, 0, 4);
    put(central, crc, 4);
    put(central, 0xFFFFFFFF, 4);
    put(central, 0xFFFFFFFF, 4);
    put(central, name.size(), 2);
    put(central, 20, 2);
    put(central, 0, 2);  // comment
    put(central, 0, 2);  // disk
    put(central, 0, 2);  // internal attributes
    put(central, 0, 4);  // external attributes
    put(central, offset, 4);
    central.insert(central.end(), name.begin(), name.end());
    put(central, 1, 2);
    put(central, 16, 2);
    put(central, plain.size(), 8);
    put(central, stored.size(), 8);
  }
  const std::uint64_t cd_offset = out.size();
  out.insert(out.end(), central.begin(), central.end());
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, members.size(), 2);
  put(out, members.size(), 2);
  put(out, central.size(), 4);
  put(out, cd_offset, 4);
  put(out, 0, 2);
  return out;
}

}  // namespace dtrain::testing
