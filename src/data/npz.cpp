#include "data/npz.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "core/errors.h"

namespace dtrain::data {
namespace {

constexpr std::uint32_t kEndOfCentralDir = 0x06054b50;
constexpr std::uint32_t kZip64EndLocator = 0x07064b50;
constexpr std::uint32_t kZip64End = 0x06064b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint32_t kSaturated32 = 0xFFFFFFFF;
constexpr std::uint64_t kMaxMember = std::uint64_t{1} << 40;

// Bounds-checked little-endian reads over the archive.
class Reader {
 public:
  Reader(std::span<const std::uint8_t> b, const std::string& what) : b_(b), what_(what) {}
  [[noreturn]] void fail(const std::string& why) const {
    throw DataError(what_ + ": bad .npz archive: " + why +
                    " (expected a ZIP of .npy files, "
                    "as numpy.savez writes)");
  }
  void need(std::uint64_t at, std::uint64_t n, const char* record) const {
    if (at > b_.size() || n > b_.size() - at) fail(std::string("truncated ") + record);
  }
  std::uint64_t le(std::uint64_t at, int n) const {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | b_[at + static_cast<std::uint64_t>(i)];
    return v;
  }
  std::span<const std::uint8_t> bytes() const { return b_; }

 private:
  std::span<const std::uint8_t> b_;
  const std::string& what_;
};

struct Member {
  std::string name;
  std::uint16_t method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed = 0, uncompressed = 0, local_offset = 0;
};

// The ZIP64 extra field holds, in this order, only the sizes/offset saturated in the header.
void apply_zip64_extra(const Reader& r, std::uint64_t at, std::uint64_t len, Member& m) {
  const std::uint64_t end = at + len;
  while (at + 4 <= end) {
    const auto id = r.le(at, 2);
    const auto size = r.le(at + 2, 2);
    at += 4;
    if (at + size > end) r.fail("extra field runs past its record");
    if (id == kZip64ExtraId) {
      std::uint64_t p = at;
      auto take = [&](std::uint64_t& field) {
        if (field != kSaturated32) return;
        if (p + 8 > at + size) r.fail("short ZIP64 extra field");
        field = r.le(p, 8);
        p += 8;
      };
      take(m.uncompressed);
      take(m.compressed);
      take(m.local_offset);
    }
    at += size;
  }
}

std::vector<std::uint8_t> inflate_member(const Reader& r, std::span<const std::uint8_t> in,
                                         const Member& m) {
  // One spare byte: a stream that would write more than the stated size fills it and
  // is caught below instead of being cut off silently.
  std::vector<std::uint8_t> out(m.uncompressed + 1);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) r.fail("zlib inflateInit2 failed");
  z.next_in = const_cast<Bytef*>(in.data());
  std::size_t in_left = in.size(), out_done = 0;
  int rc = Z_OK;
  // zlib counts in uInt: feed and drain at most 1 GiB at a time. inflate returns Z_OK only
  // when it made progress, so the loop ends; Z_BUF_ERROR means no progress was possible
  // (input ran out before the end of the stream, or no room left).
  constexpr std::size_t kStep = std::size_t{1} << 30;
  while (rc == Z_OK) {
    const std::size_t give = std::min(in_left, kStep);
    const std::size_t room = std::min(out.size() - out_done, kStep);
    z.avail_in = static_cast<uInt>(give);
    z.next_out = out.data() + out_done;
    z.avail_out = static_cast<uInt>(room);
    rc = inflate(&z, Z_NO_FLUSH);
    in_left -= give - z.avail_in;
    out_done += room - z.avail_out;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || out_done != m.uncompressed) {
    r.fail("member " + m.name + ": corrupt or truncated deflate stream, or not of its stated " +
           "size " + std::to_string(m.uncompressed));
  }
  out.resize(m.uncompressed);
  return out;
}

}  // namespace

std::map<std::string, NpyArray> parse_npz(std::span<const std::uint8_t> bytes,
                                          const std::string& what) {
  Reader r(bytes, what);
  if (bytes.empty()) throw DataError(what + ": file is empty (expected a .npz archive)");
  if (bytes.size() < 4 || r.le(0, 4) != kLocalHeader) {
    r.fail("no ZIP signature PK\\x03\\x04 at the start");
  }
  // The end-of-central-directory record is the last 22 bytes plus a comment of <= 64 KiB.
  if (bytes.size() < 22) r.fail("truncated end record");
  std::uint64_t eocd = bytes.size() - 22;
  const std::uint64_t lowest = eocd > 0xFFFF ? eocd - 0xFFFF : 0;
  while (r.le(eocd, 4) != kEndOfCentralDir) {
    if (eocd == lowest) r.fail("no end-of-central-directory record");
    --eocd;
  }
  std::uint64_t entries = r.le(eocd + 10, 2);
  std::uint64_t cd_offset = r.le(eocd + 16, 4);
  if ((entries == 0xFFFF || cd_offset == kSaturated32) && eocd >= 20 &&
      r.le(eocd - 20, 4) == kZip64EndLocator) {
    const std::uint64_t z64 = r.le(eocd - 20 + 8, 8);
    r.need(z64, 56, "ZIP64 end record");
    if (r.le(z64, 4) != kZip64End) r.fail("bad ZIP64 end record signature");
    entries = r.le(z64 + 32, 8);
    cd_offset = r.le(z64 + 48, 8);
  }

  std::map<std::string, NpyArray> arrays;
  std::uint64_t at = cd_offset;
  for (std::uint64_t e = 0; e < entries; ++e) {
    r.need(at, 46, "central directory");
    if (r.le(at, 4) != kCentralHeader) r.fail("bad central directory signature");
    Member m;
    const auto flags = r.le(at + 8, 2);
    m.method = static_cast<std::uint16_t>(r.le(at + 10, 2));
    m.crc = static_cast<std::uint32_t>(r.le(at + 16, 4));
    m.compressed = r.le(at + 20, 4);
    m.uncompressed = r.le(at + 24, 4);
    const auto name_len = r.le(at + 28, 2), extra_len = r.le(at + 30, 2),
               comment_len = r.le(at + 32, 2);
    m.local_offset = r.le(at + 42, 4);
    r.need(at + 46, name_len + extra_len + comment_len, "central directory entry");
    m.name.assign(reinterpret_cast<const char*>(bytes.data() + at + 46), name_len);
    apply_zip64_extra(r, at + 46 + name_len, extra_len, m);
    at += 46 + name_len + extra_len + comment_len;

    if (flags & 1) r.fail("member " + m.name + " is encrypted");
    if (m.method != 0 && m.method != 8) {
      r.fail("member " + m.name + " uses compression method " + std::to_string(m.method) +
             " (expected 0, stored, or 8, deflate)");
    }
    // Deflate expands at most 1032:1, so a larger stated size is damage, and refusing it
    // keeps a corrupt header from allocating memory the data could never fill.
    if (m.uncompressed > kMaxMember || m.compressed > kMaxMember ||
        (m.method == 8 && m.uncompressed > m.compressed * 1032 + 64)) {
      r.fail("member " + m.name + " claims an absurd size");
    }
    r.need(m.local_offset, 30, "local header");
    if (r.le(m.local_offset, 4) != kLocalHeader) r.fail("bad local header of " + m.name);
    const std::uint64_t data_at =
        m.local_offset + 30 + r.le(m.local_offset + 26, 2) + r.le(m.local_offset + 28, 2);
    r.need(data_at, m.compressed, "member data");
    const auto stored = bytes.subspan(data_at, m.compressed);
    std::vector<std::uint8_t> plain;
    if (m.method == 0) {
      if (m.compressed != m.uncompressed) r.fail("stored member " + m.name + " changes size");
      plain.assign(stored.begin(), stored.end());
    } else {
      plain = inflate_member(r, stored, m);
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    for (std::size_t done = 0; done < plain.size();) {
      const auto n = static_cast<uInt>(std::min<std::size_t>(plain.size() - done, 1u << 30));
      crc = crc32(crc, plain.data() + done, n);
      done += n;
    }
    if (crc != m.crc) r.fail("member " + m.name + ": CRC mismatch (damaged archive)");
    if (!m.name.ends_with(".npy")) continue;  // numpy writes only .npy members; skip others
    const std::string array = m.name.substr(0, m.name.size() - 4);
    arrays[array] = parse_npy(plain, what + " member " + m.name);
  }
  return arrays;
}

std::map<std::string, NpyArray> read_npz(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path, "a .npz archive");
  return parse_npz(bytes, path);
}

}  // namespace dtrain::data
