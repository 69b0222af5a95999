// read_idx on good and damaged files, raw and gzip'd, written by the test itself.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "data/idx_reader.h"
#include "testing/idx_files.h"

namespace dtrain::data {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::idx_bytes;

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

class IdxReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("idx_reader_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_raw(const std::string& name, const Bytes& bytes) {
    const std::string path = (dir_ / name).string();
    testing::write_file(path, bytes, /*gzip=*/false);
    return path;
  }
  std::string write_gz(const std::string& name, const Bytes& bytes) {
    const std::string path = (dir_ / name).string();
    testing::write_file(path, bytes, /*gzip=*/true);
    return path;
  }
  Bytes read_back(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
  }

  // Runs read_idx, expecting a DataError whose message contains every fragment.
  void expect_error(const std::string& path, const std::vector<std::string>& fragments,
                    int expected_ndims = 0) {
    try {
      read_idx(path, expected_ndims);
      ADD_FAILURE() << "no error for " << path;
    } catch (const DataError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << msg;
    }
  }

  fs::path dir_;
};

TEST_F(IdxReaderTest, ReadsRawImages) {
  const Bytes data = pattern(3 * 4 * 5);
  const auto path = write_raw("images", idx_bytes(kIdxImagesMagic, {3, 4, 5}, data));
  const IdxArray a = read_idx(path, 3);
  EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{3, 4, 5}));
  EXPECT_EQ(a.bytes, data);
  EXPECT_EQ(a.count(), 3u);
}

TEST_F(IdxReaderTest, ReadsGzipLabels) {
  const Bytes data = pattern(257);
  const auto path = write_gz("labels.gz", idx_bytes(kIdxLabelsMagic, {257}, data));
  const IdxArray a = read_idx(path, 1);
  EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{257}));
  EXPECT_EQ(a.bytes, data);
}

TEST_F(IdxReaderTest, ReadsLargerThanOneChunk) {
  // More than the reader's 4 MiB chunk, so the incremental growth path is exercised.
  const Bytes data = pattern(5u << 20);
  const auto path = write_gz("big.gz", idx_bytes(kIdxImagesMagic, {5u << 10, 32, 32}, data));
  EXPECT_EQ(read_idx(path).bytes, data);
}

TEST_F(IdxReaderTest, ZeroItemsIsValid) {
  const auto path = write_raw("empty-set", idx_bytes(kIdxImagesMagic, {0, 28, 28}, {}));
  const IdxArray a = read_idx(path, 3);
  EXPECT_EQ(a.count(), 0u);
  EXPECT_TRUE(a.bytes.empty());
}

TEST_F(IdxReaderTest, MissingFile) {
  expect_error((dir_ / "nope.gz").string(), {"not found"});
}

TEST_F(IdxReaderTest, DirectoryInsteadOfFile) {
  fs::create_directories(dir_ / "sub");
  expect_error((dir_ / "sub").string(), {"directory"});
}

TEST_F(IdxReaderTest, EmptyFile) {
  expect_error(write_raw("empty", {}), {"empty", "0x00000803"}, 3);
  expect_error(write_gz("empty.gz", {}), {"empty"}, 1);
}

TEST_F(IdxReaderTest, WrongMagic) {
  const auto path = write_raw("bad-magic", idx_bytes(0x12345678, {1}, {0}));
  expect_error(path, {"expected IDX magic 0x00000803 (images)", "found 0x12345678"}, 3);
  expect_error(path, {"0x00000803", "0x00000801", "found 0x12345678"});
}

TEST_F(IdxReaderTest, LabelsWhereImagesExpected) {
  const auto path = write_gz("labels.gz", idx_bytes(kIdxLabelsMagic, {2}, {1, 2}));
  expect_error(path, {"0x00000803 (images)", "found 0x00000801"}, 3);
}

TEST_F(IdxReaderTest, UnsupportedElementType) {
  // 0x0D is IDX float: a well-formed file of a type dtrain does not read.
  const auto path = write_raw("floats", idx_bytes(0x00000D01, {1}, {0, 0, 0, 0}));
  expect_error(path, {"found 0x00000D01", "element type 0x0D", "0x08"});
}

TEST_F(IdxReaderTest, TruncatedHeader) {
  expect_error(write_raw("short-magic", {0, 0}), {"truncated header", "2 bytes"});
  Bytes header = idx_bytes(kIdxImagesMagic, {10, 28, 28}, {});
  header.resize(9);
  expect_error(write_gz("short-dims.gz", header), {"truncated header", "found 5 bytes"});
}

TEST_F(IdxReaderTest, TruncatedData) {
  const Bytes bytes = idx_bytes(kIdxImagesMagic, {10, 28, 28}, pattern(10 * 28 * 28 - 1));
  expect_error(write_raw("trunc", bytes), {"truncated data", "7840", "found 7839"});
  expect_error(write_gz("trunc.gz", bytes), {"truncated data", "7840", "found 7839"});
}

TEST_F(IdxReaderTest, TrailingGarbage) {
  const Bytes bytes = idx_bytes(kIdxLabelsMagic, {4}, pattern(7));
  expect_error(write_raw("trailing", bytes), {"trailing garbage", "promise 4", "found 7"});
  expect_error(write_gz("trailing.gz", bytes), {"trailing garbage", "found 7"});
}

TEST_F(IdxReaderTest, AbsurdDimensionsDoNotAllocate) {
  // 2^32-1 cubed overflows 64 bits; the reader must refuse before multiplying or allocating.
  expect_error(
      write_raw("huge", idx_bytes(kIdxImagesMagic, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {})),
      {"absurd dimensions"});
  // Large but within the cap: fails as truncated, without reserving the promised gigabytes.
  expect_error(write_raw("big-claim", idx_bytes(kIdxImagesMagic, {1000000, 100, 100}, pattern(10))),
               {"truncated data", "found 10"});
}

TEST_F(IdxReaderTest, CorruptGzipStream) {
  const Bytes good = idx_bytes(kIdxImagesMagic, {20, 28, 28}, pattern(20 * 28 * 28));
  Bytes gz = read_back(write_gz("good.gz", good));
  ASSERT_GT(gz.size(), 40u);

  Bytes flipped = gz;  // damage the deflate data in the middle of the stream
  for (std::size_t i = gz.size() / 2; i < gz.size() / 2 + 8; ++i) flipped[i] ^= 0xA5;
  expect_error(write_raw("flipped.gz", flipped), {"gzip"});

  Bytes bad_crc = gz;  // the CRC32 in the trailer (8 bytes from the end)
  bad_crc[gz.size() - 8] ^= 0xFF;
  expect_error(write_raw("bad-crc.gz", bad_crc), {"gzip"});

  Bytes cut = gz;  // the stream ends before the data the header promises
  cut.resize(gz.size() - 12);
  expect_error(write_raw("cut.gz", cut), {"gzip"});
}

}  // namespace
}  // namespace dtrain::data
