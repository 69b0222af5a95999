#include "data/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>

#include "core/errors.h"

namespace dtrain::data {
namespace {

// The largest data set we agree to hold: far above any IDX data set in use, far below
// what would make a corrupt header allocate the machine away.
constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 34;
// Bytes requested per gzread: keeps memory growth tied to bytes actually present, so a
// header promising gigabytes in a small file fails as "truncated" instead of allocating.
constexpr std::size_t kChunk = std::size_t{1} << 22;

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}

std::string expected_magic(int expected_ndims) {
  switch (expected_ndims) {
    case 3:
      return "IDX magic " + hex32(kIdxImagesMagic) + " (images)";
    case 1:
      return "IDX magic " + hex32(kIdxLabelsMagic) + " (labels)";
    default:
      return "IDX magic " + hex32(kIdxImagesMagic) + " (images) or " + hex32(kIdxLabelsMagic) +
             " (labels)";
  }
}

class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (file_ == nullptr) {
      std::error_code ec(errno, std::generic_category());
      throw DataError(path_ + ": cannot open for reading: " + ec.message());
    }
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  ~GzFile() {
    if (file_ != nullptr) gzclose(file_);
  }

  // Reads up to n bytes; returns fewer only at the end of the data. A damaged gzip
  // stream (bad header, data error, CRC/length mismatch, cut-off stream) throws.
  std::size_t read(std::uint8_t* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(n - got, kChunk));
      const int r = gzread(file_, out + got, want);
      if (r < 0) throw_stream_error();
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    // zlib reports a gzip stream cut short as Z_BUF_ERROR while still returning the bytes
    // it decoded, so the error state must be checked even after a short successful read.
    int errnum = Z_OK;
    gzerror(file_, &errnum);
    if (errnum != Z_OK) throw_stream_error();
    return got;
  }

  void close() {
    const int rc = gzclose(file_);
    file_ = nullptr;
    if (rc != Z_OK) {
      throw DataError(path_ +
                      ": corrupt gzip stream (expected a complete stream, gzclose "
                      "reported error " +
                      std::to_string(rc) + ")");
    }
  }

 private:
  [[noreturn]] void throw_stream_error() {
    int errnum = Z_OK;
    const char* msg = gzerror(file_, &errnum);
    if (errnum == Z_ERRNO) {
      std::error_code ec(errno, std::generic_category());
      throw DataError(path_ + ": read error: " + ec.message());
    }
    std::string reason = msg != nullptr ? msg : "unknown error";
    // zlib prefixes its message with the path we already put first.
    if (reason.starts_with(path_ + ": ")) reason.erase(0, path_.size() + 2);
    throw DataError(path_ + ": corrupt or truncated gzip stream (expected valid compressed data, " +
                    "zlib says: " + reason + ")");
  }

  std::string path_;
  gzFile file_;
};

std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// How many bytes the file holds once decompressed: a gzip file's trailer records it (ISIZE,
// modulo 2^32: exact below 4 GiB, for a single-member file), a raw file holds itself. Only a
// hint for reserving memory: a wrong one costs a reallocation, never a wrong result.
std::size_t stored_size_hint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, 2> magic{};
  if (!in.read(reinterpret_cast<char*>(magic.data()), magic.size())) return 0;
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) return 0;
  if (magic[0] != 0x1f || magic[1] != 0x8b) return static_cast<std::size_t>(bytes);
  std::array<unsigned char, 4> isize{};
  if (bytes < 18 || !in.seekg(-4, std::ios::end) ||
      !in.read(reinterpret_cast<char*>(isize.data()), isize.size())) {
    return 0;
  }
  return std::size_t{isize[0]} | (std::size_t{isize[1]} << 8) | (std::size_t{isize[2]} << 16) |
         (std::size_t{isize[3]} << 24);
}

}  // namespace

IdxArray read_idx(const std::string& path, int expected_ndims) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    throw DataError(path + ": file not found (expected an IDX file, gzip'd or raw)");
  }
  if (std::filesystem::is_directory(status)) {
    throw DataError(path + ": is a directory (expected an IDX file, gzip'd or raw)");
  }

  GzFile file(path);
  std::array<std::uint8_t, 4> head{};
  const std::size_t head_got = file.read(head.data(), head.size());
  if (head_got == 0) {
    throw DataError(path + ": file is empty (expected " + expected_magic(expected_ndims) + ")");
  }
  if (head_got < head.size()) {
    throw DataError(path + ": truncated header (expected a 4-byte " +
                    expected_magic(expected_ndims) + " but the file has only " +
                    std::to_string(head_got) + " bytes)");
  }
  const std::uint32_t magic = big_endian32(head.data());
  const int ndims = head[3];
  const bool known = magic == kIdxImagesMagic || magic == kIdxLabelsMagic;
  if (!known || (expected_ndims != 0 && ndims != expected_ndims)) {
    std::string detail;
    if (head[0] == 0 && head[1] == 0 && head[2] != 0x08) {
      char type[8];
      std::snprintf(type, sizeof type, "0x%02X", static_cast<unsigned>(head[2]));
      detail =
          std::string(" (element type ") + type + "; only unsigned byte, type 0x08, is supported)";
    }
    throw DataError(path + ": expected " + expected_magic(expected_ndims) + " but found " +
                    hex32(magic) + detail);
  }

  IdxArray out;
  out.dims.resize(static_cast<std::size_t>(ndims));
  std::vector<std::uint8_t> raw_dims(out.dims.size() * 4);
  const std::size_t dims_got = file.read(raw_dims.data(), raw_dims.size());
  if (dims_got < raw_dims.size()) {
    throw DataError(path + ": truncated header (expected " + std::to_string(ndims) +
                    " dimension sizes, " + std::to_string(raw_dims.size()) + " bytes, found " +
                    std::to_string(dims_got) + " bytes)");
  }
  std::uint64_t total = 1;
  std::string shape;
  for (std::size_t i = 0; i < out.dims.size(); ++i) {
    out.dims[i] = big_endian32(raw_dims.data() + 4 * i);
    if (i > 0) shape += 'x';
    shape += std::to_string(out.dims[i]);
    // Checked before multiplying so the product cannot wrap around.
    if (out.dims[i] != 0 && total > kMaxElements / out.dims[i]) {
      throw DataError(path + ": absurd dimensions " + shape + "... (expected at most " +
                      std::to_string(kMaxElements) + " elements in total)");
    }
    total *= out.dims[i];
  }

  const auto expected = static_cast<std::size_t>(total);
  // One allocation of the final size: growing chunk by chunk reallocates, and the last
  // copy briefly holds most of the data twice, which is the run's peak when the model is
  // small (the mlp's peak RSS fell from 131 to 101 MB with this and split_tail's copy
  // gone). Never more than the file says it holds, so a header promising gigabytes in a
  // small file still grows chunk by chunk and fails as "truncated".
  out.bytes.reserve(std::min(expected, stored_size_hint(path)));
  std::size_t have = 0;
  while (have < expected) {
    const std::size_t want = std::min(kChunk, expected - have);
    out.bytes.resize(have + want);
    const std::size_t got = file.read(out.bytes.data() + have, want);
    have += got;
    if (got < want) break;
  }
  if (have < expected) {
    throw DataError(path + ": truncated data (dimensions " + shape + " promise " +
                    std::to_string(expected) + " bytes of data, found " + std::to_string(have) +
                    ")");
  }

  std::array<std::uint8_t, 4096> extra{};
  std::size_t trailing = 0;
  for (std::size_t got; (got = file.read(extra.data(), extra.size())) > 0;) trailing += got;
  if (trailing > 0) {
    throw DataError(path + ": trailing garbage (dimensions " + shape + " promise " +
                    std::to_string(expected) + " bytes of data, found " +
                    std::to_string(expected + trailing) + ")");
  }
  file.close();
  return out;
}

}  // namespace dtrain::data
