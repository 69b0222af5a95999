#include "data/npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "core/errors.h"

namespace dtrain::data {
namespace {

constexpr std::uint8_t kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
// Far above any data set in use, far below what would let a corrupt header wrap around.
constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 40;
constexpr std::size_t kMaxHeader = std::size_t{1} << 20;

// A tiny reader for the one dict literal numpy writes. Keys are quoted strings; values are
// quoted strings, True/False, or a tuple of non-negative integers.
class DictParser {
 public:
  DictParser(std::string_view text, const std::string& what) : s_(text), what_(what) {}

  void parse(NpyHeader& h) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      if (key == "descr") {
        h.dtype = dtype(quoted());
        have_descr = true;
      } else if (key == "fortran_order") {
        if (boolean()) {
          fail(
              "fortran_order is True (expected a C-order array; save it with "
              "numpy.ascontiguousarray)");
        }
        have_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        have_shape = true;
      } else {
        fail("unknown header key '" + key + "' (expected descr, fortran_order, shape)");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') fail("expected ',' or '}' in the header dict");
    }
    if (!have_descr || !have_order || !have_shape) {
      fail("header dict lacks descr, fortran_order or shape");
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw DataError(what_ + ": bad .npy header: " + why);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
    ++pos_;
  }
  std::string quoted() {
    skip_space();
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string at offset " + std::to_string(pos_));
    const std::size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string v(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return v;
  }
  bool boolean() {
    skip_space();
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("fortran_order: expected True or False");
  }
  std::vector<std::uint64_t> tuple() {
    expect('(');
    std::vector<std::uint64_t> dims;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') fail("shape: expected a non-negative integer");
      std::uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > kMaxBytes) fail("shape: dimension too large");
        v = v * 10 + static_cast<std::uint64_t>(peek() - '0');
        ++pos_;
      }
      if (dims.size() >= 32) fail("shape: more than 32 dimensions");
      dims.push_back(v);
      skip_space();
      if (peek() == ',')
        ++pos_;
      else if (peek() != ')')
        fail("shape: expected ',' or ')'");
    }
    ++pos_;
    return dims;
  }
  NpyDtype dtype(const std::string& d) {
    if (d == "|u1" || d == "<u1" || d == "u1") return NpyDtype::kUint8;
    if (d == "<i4") return NpyDtype::kInt32;
    if (d == "<i8") return NpyDtype::kInt64;
    if (d == "<f4") return NpyDtype::kFloat32;
    if (d == "<f8") return NpyDtype::kFloat64;
    fail("unsupported dtype '" + d +
         "' (expected uint8 |u1, int32 <i4, int64 <i8, float32 <f4 or float64 <f8, "
         "little-endian)");
  }

  std::string_view s_;
  const std::string& what_;
  std::size_t pos_ = 0;
};

}  // namespace

const char* npy_dtype_name(NpyDtype t) {
  switch (t) {
    case NpyDtype::kUint8:
      return "uint8";
    case NpyDtype::kInt32:
      return "int32";
    case NpyDtype::kInt64:
      return "int64";
    case NpyDtype::kFloat32:
      return "float32";
    case NpyDtype::kFloat64:
      return "float64";
  }
  return "?";
}

std::size_t npy_item_size(NpyDtype t) {
  switch (t) {
    case NpyDtype::kUint8:
      return 1;
    case NpyDtype::kInt32:
    case NpyDtype::kFloat32:
      return 4;
    case NpyDtype::kInt64:
    case NpyDtype::kFloat64:
      return 8;
  }
  return 1;
}

std::uint64_t NpyHeader::count() const {
  std::uint64_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

NpyHeader parse_npy_header(std::span<const std::uint8_t> bytes, const std::string& what) {
  if (bytes.empty()) throw DataError(what + ": file is empty (expected a .npy array)");
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    throw DataError(what + ": not a .npy file (expected the magic \\x93NUMPY at the start)");
  }
  const int major = bytes[6];
  std::size_t header_len = 0;
  std::size_t start = 0;
  if (major == 1) {
    header_len = std::size_t{bytes[8]} | (std::size_t{bytes[9]} << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw DataError(what + ": truncated .npy header");
    header_len = std::size_t{bytes[8]} | (std::size_t{bytes[9]} << 8) |
                 (std::size_t{bytes[10]} << 16) | (std::size_t{bytes[11]} << 24);
    start = 12;
  } else {
    throw DataError(what + ": .npy version " + std::to_string(major) +
                    " (expected version 1, 2 or 3)");
  }
  if (header_len > kMaxHeader || header_len > bytes.size() - start) {
    throw DataError(what + ": truncated .npy header (it claims " + std::to_string(header_len) +
                    " bytes, the file has " + std::to_string(bytes.size() - start) + " after it)");
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + start), header_len);
  NpyHeader h;
  DictParser(text, what).parse(h);
  h.data_offset = start + header_len;

  std::uint64_t total = npy_item_size(h.dtype);
  std::string shape;
  for (const auto d : h.shape) {
    if (!shape.empty()) shape += ',';
    shape += std::to_string(d);
    if (d != 0 && total > kMaxBytes / d) {
      throw DataError(what + ": absurd shape (" + shape + "...) (expected at most " +
                      std::to_string(kMaxBytes) + " bytes)");
    }
    total *= d;
  }
  const std::uint64_t have = bytes.size() - h.data_offset;
  if (have != total) {
    throw DataError(what + ": " + (have < total ? "truncated data" : "trailing bytes") +
                    " (shape (" + shape + ") of " + npy_dtype_name(h.dtype) + " promises " +
                    std::to_string(total) + " bytes, found " + std::to_string(have) + ")");
  }
  return h;
}

NpyArray parse_npy(std::span<const std::uint8_t> bytes, const std::string& what) {
  const NpyHeader h = parse_npy_header(bytes, what);
  NpyArray a;
  a.dtype = h.dtype;
  a.shape = h.shape;
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(h.data_offset), bytes.end());
  return a;
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path, const std::string& expected) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    throw DataError(path + ": file not found (expected " + expected + ")");
  }
  if (std::filesystem::is_directory(status)) {
    throw DataError(path + ": is a directory (expected " + expected + ")");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    throw DataError(path + ": cannot open for reading: " +
                    std::error_code(errno, std::generic_category()).message());
  }
  std::vector<std::uint8_t> bytes;
  bytes.reserve(static_cast<std::size_t>(std::filesystem::file_size(path, ec)));  // no regrowth
  std::uint8_t buf[1 << 16];
  for (std::size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) {
    bytes.insert(bytes.end(), buf, buf + got);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw DataError(path + ": read error (expected " + expected + ")");
  return bytes;
}

void write_npy(const std::string& path, NpyDtype dtype, const std::vector<std::uint64_t>& shape,
               std::span<const std::uint8_t> data) {
  static const char* const kDescr[] = {"|u1", "<i4", "<i8", "<f4", "<f8"};
  std::string dims;
  for (const auto d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // (n,) for one dimension, as numpy
  if (shape.size() == 1) dims.resize(dims.size() - 1);
  std::string header = std::string("{'descr': '") + kDescr[static_cast<int>(dtype)] +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // numpy pads with spaces so the data start at a multiple of 64 bytes.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    throw DataError(
        path + ": cannot create: " + std::error_code(errno, std::generic_category()).message());
  }
  const std::uint8_t lead[10] = {0x93,
                                 'N',
                                 'U',
                                 'M',
                                 'P',
                                 'Y',
                                 1,
                                 0,
                                 static_cast<std::uint8_t>(header.size() & 0xFF),
                                 static_cast<std::uint8_t>(header.size() >> 8)};
  bool ok = std::fwrite(lead, 1, sizeof lead, f) == sizeof lead &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            (data.empty() || std::fwrite(data.data(), 1, data.size(), f) == data.size());
  ok = std::fclose(f) == 0 && ok;
  if (!ok) throw DataError(path + ": write failed");
}

NpyArray read_npy(const std::string& path) {
  std::vector<std::uint8_t> bytes = read_file_bytes(path, "a .npy array");
  const NpyHeader h = parse_npy_header(bytes, path);
  NpyArray a;
  a.dtype = h.dtype;
  a.shape = h.shape;
  // Drop the header in place: a large array is never held twice.
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(h.data_offset));
  a.data = std::move(bytes);
  return a;
}

}  // namespace dtrain::data
