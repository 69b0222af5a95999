// NPY and NPZ readers and the NumPy data-set layouts, on good and damaged files written by
// the test itself: each damage gives a DataError naming the file and what was expected.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/errors.h"
#include "data/batch.h"
#include "data/data_source.h"
#include "data/npy.h"
#include "data/npz.h"
#include "testing/npy_files.h"

namespace dtrain::data {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::npy_bytes;
using testing::npz_bytes;
using testing::raw_bytes;

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("npy_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const Bytes& bytes) {
    const std::string path = (dir_ / name).string();
    testing::write_file(path, bytes, false);
    return path;
  }
  DataSplits load(const std::string& path, std::size_t val_size = 1, int classes = 0) {
    DataOptions o;
    o.path = path;
    o.val_size = val_size;
    o.num_classes = classes;
    return load_data_splits(o);
  }
  // The DataError message of load(path), which must name the path and `expected`.
  void expect_error(const std::string& path, const std::string& expected,
                    const std::string& named = "") {
    try {
      load(path);
      ADD_FAILURE() << path << ": no error, expected one saying '" << expected << "'";
    } catch (const DataError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(named.empty() ? path : named), std::string::npos) << msg;
      EXPECT_NE(msg.find(expected), std::string::npos) << msg;
    }
  }
  fs::path dir_;
};

Bytes pixels(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 37 + 11);
  return b;
}

TEST_F(NpyTest, HeaderIsParsedAndDataFollowsIt) {
  const Bytes file = npy_bytes("<f4", {3, 2, 2}, raw_bytes(std::vector<float>(12, 0.5f)));
  const NpyHeader h = parse_npy_header(file, "mem");
  EXPECT_EQ(h.dtype, NpyDtype::kFloat32);
  EXPECT_EQ(h.shape, (std::vector<std::uint64_t>{3, 2, 2}));
  EXPECT_EQ(h.data_offset % 64, 0u);  // numpy aligns the data
  EXPECT_EQ(h.count(), 12u);
}

TEST_F(NpyTest, DirectoryOfUint8ImagesAndInt64LabelsReadsLikeIdx) {
  const Bytes x = pixels(5 * 3 * 4);
  write("train_x.npy", npy_bytes("|u1", {5, 3, 4}, x));
  write("train_y.npy", npy_bytes("<i8", {5}, raw_bytes(std::vector<std::int64_t>{0, 3, 1, 2, 3})));
  write("test_x.npy", npy_bytes("|u1", {2, 3, 4}, pixels(24)));
  write("test_y.npy", npy_bytes("|u1", {2}, Bytes{2, 1}));
  const DataSplits s = load(dir_.string(), 2);
  EXPECT_EQ(s.train.size(), 3u);
  EXPECT_EQ(s.val.size(), 2u);
  EXPECT_EQ(s.test.size(), 2u);
  EXPECT_EQ(s.train.height, 3);
  EXPECT_EQ(s.train.width, 4);
  EXPECT_EQ(s.train.channels, 1);
  EXPECT_EQ(s.train.num_classes, 4);  // 1 + the largest label
  EXPECT_EQ(s.val.labels, (std::vector<std::int32_t>{2, 3}));
  std::vector<float> got(12);
  gather_range(s.val, 1, 1, got.data());
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(got[i], static_cast<float>(x[48 + i]) / 255.0f);
}

TEST_F(NpyTest, FloatExamplesAreKeptAsTheyAreAndFloat64IsRounded) {
  const std::vector<double> v = {0.1, -2.5, 3.25, 1e-3, 7.0, 8.5};
  const std::string x = write("x.npy", npy_bytes("<f8", {3, 2}, raw_bytes(v)));
  write("y.npy", npy_bytes("<i4", {3, 1}, raw_bytes(std::vector<std::int32_t>{1, 0, 1})));
  const DataSplits s = load(x, 1, 5);
  EXPECT_EQ(s.train.height, 1);
  EXPECT_EQ(s.train.width, 2);  // [N, D] is 1xDx1
  EXPECT_EQ(s.train.num_classes, 5);
  std::vector<float> got(6);
  gather_range(s.train, 0, 2, got.data());
  gather_range(s.val, 0, 1, got.data() + 4);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(got[i], static_cast<float>(v[i]));
  // No test files: the validation split is the test split.
  EXPECT_EQ(s.test.size(), 1u);
  EXPECT_NE(s.description.find("no test data"), std::string::npos);
}

TEST_F(NpyTest, UnlabeledExamplesLoadWithoutClasses) {
  const std::string x =
      write("x.npy", npy_bytes("<f4", {4, 2, 2, 3}, raw_bytes(std::vector<float>(48, 1.0f))));
  const DataSplits s = load(x);
  EXPECT_EQ(s.train.num_classes, 0);
  EXPECT_TRUE(s.train.labels.empty());
  EXPECT_EQ(s.train.channels, 3);
}

TEST_F(NpyTest, NpzArchivesStoredAndDeflatedGiveTheSameData) {
  const Bytes x = pixels(6 * 4);
  const Bytes y = raw_bytes(std::vector<std::int64_t>{0, 1, 2, 0, 1, 2});
  const std::vector<std::pair<std::string, Bytes>> members = {
      {"train_x.npy", npy_bytes("|u1", {6, 2, 2}, x)},
      {"train_y.npy", npy_bytes("<i8", {6}, y)},
      {"test_x.npy", npy_bytes("|u1", {1, 2, 2}, pixels(4))},
      {"test_y.npy", npy_bytes("<i8", {1}, raw_bytes(std::vector<std::int64_t>{2}))}};
  for (const bool deflate : {false, true}) {
    const std::string path = write(deflate ? "c.npz" : "s.npz", npz_bytes(members, deflate));
    const DataSplits s = load(path, 2);
    EXPECT_EQ(s.train.pixels, Bytes(x.begin(), x.begin() + 16)) << path;
    EXPECT_EQ(s.train.labels, (std::vector<std::int32_t>{0, 1, 2, 0}));
    EXPECT_EQ(s.test.size(), 1u);
    EXPECT_EQ(s.test.num_classes, 3);
  }
  const std::string plain = write(
      "xy.npz", npz_bytes({{"x.npy", members[0].second}, {"y.npy", members[1].second}}, true));
  EXPECT_EQ(load(plain, 2).train.size(), 4u);
}

TEST_F(NpyTest, DamagedNpyFilesAreRefusedNamingTheFileAndTheExpectation) {
  const Bytes good = npy_bytes("<f4", {2, 2}, raw_bytes(std::vector<float>(4, 1.0f)));
  expect_error(write("empty_x.npy", {}), "file is empty");
  Bytes magic = good;
  magic[1] = 'X';
  expect_error(write("magic_x.npy", magic), "expected the magic \\x93NUMPY");
  expect_error(write("trunc_x.npy", Bytes(good.begin(), good.end() - 3)), "truncated data");
  Bytes extra = good;
  extra.push_back(0);
  expect_error(write("extra_x.npy", extra), "trailing bytes");
  expect_error(write("big_x.npy", npy_bytes(">f4", {2, 2}, Bytes(16))), "unsupported dtype '>f4'");
  expect_error(write("cplx_x.npy", npy_bytes("<c8", {2, 2}, Bytes(32))), "unsupported dtype");
  expect_error(write("fort_x.npy", npy_bytes("<f4", {2, 2}, Bytes(16), true)), "C-order");
  expect_error(write("int_x.npy", npy_bytes("<i8", {2, 2}, Bytes(32))), "expected uint8");
  expect_error(write("flat_x.npy", npy_bytes("<f4", {4}, Bytes(16))), "expected [N, D]");
  Bytes header = good;
  header[8] = 0xFF;  // header length beyond the file
  expect_error(write("hdr_x.npy", header), "truncated .npy header");
  Bytes version = good;
  version[6] = 9;
  expect_error(write("ver_x.npy", version), "expected version 1, 2 or 3");
  expect_error((dir_ / "missing_x.npy").string(), "file not found");
}

TEST_F(NpyTest, BadLabelsAreRefusedNamingTheLabelFile) {
  write("a_x.npy", npy_bytes("<f4", {3, 2}, Bytes(24)));
  const std::string y = write("a_y.npy", npy_bytes("<i8", {2}, Bytes(16)));
  try {
    load((dir_ / "a_x.npy").string());
    ADD_FAILURE() << "a label-count mismatch was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(y + ": 2 labels for 3 examples"), std::string::npos)
        << e.what();
  }
  write("b_x.npy", npy_bytes("<f4", {2, 2}, Bytes(16)));
  const std::string b_y = write("b_y.npy", npy_bytes("<f4", {2}, Bytes(8)));
  expect_error((dir_ / "b_x.npy").string(), "expected integer labels", b_y);
  write("c_x.npy", npy_bytes("<f4", {2, 2}, Bytes(16)));
  const std::string c_y =
      write("c_y.npy", npy_bytes("<i4", {2}, raw_bytes(std::vector<std::int32_t>{0, -1})));
  expect_error((dir_ / "c_x.npy").string(), "label -1 at index 1", c_y);
  write("d_x.npy", npy_bytes("<f4", {2, 2}, Bytes(16)));
  write("d_y.npy", npy_bytes("<i4", {2}, raw_bytes(std::vector<std::int32_t>{0, 7})));
  EXPECT_THROW(load((dir_ / "d_x.npy").string(), 1, 3), DataError);  // 7 >= --num-classes 3
}

TEST_F(NpyTest, DamagedNpzArchivesAreRefused) {
  const Bytes member = npy_bytes("|u1", {2, 2}, Bytes{1, 2, 3, 4});
  const Bytes good = npz_bytes({{"x.npy", member}}, true);
  expect_error(write("missing.npz", npz_bytes({{"z.npy", member}}, false)),
               "no array named train_x or x");
  Bytes sig = good;
  sig[0] = 'Q';
  expect_error(write("sig.npz", sig), "no ZIP signature");
  expect_error(write("cut.npz", Bytes(good.begin(), good.end() - 30)), "bad .npz archive");
  Bytes stored = npz_bytes({{"x.npy", member}}, false);
  stored[stored.size() / 3] ^= 0x40;  // inside the member: the CRC no longer matches
  expect_error(write("crc.npz", stored), "bad .npz archive");
  expect_error(write("empty.npz", {}), "file is empty");
}

// Every prefix of a valid file, and every single-byte corruption of one, is either read or
// refused with a DataError: never a crash or a read outside the buffer (ASan builds check).
TEST_F(NpyTest, EveryTruncationAndByteFlipIsHandled) {
  const Bytes npy = npy_bytes("<i8", {3}, raw_bytes(std::vector<std::int64_t>{1, 2, 3}));
  const Bytes npz = npz_bytes({{"x.npy", npy}}, true);
  for (const Bytes* file : {&npy, &npz}) {
    const bool zip = file == &npz;
    auto parse = [&](const Bytes& b) {
      try {
        if (zip)
          parse_npz(b, "mem");
        else
          parse_npy(b, "mem");
      } catch (const DataError&) {
      }
    };
    for (std::size_t n = 0; n < file->size(); ++n) parse(Bytes(file->begin(), file->begin() + n));
    for (std::size_t i = 0; i < file->size(); ++i) {
      Bytes b = *file;
      b[i] ^= 0xA5;
      parse(b);
    }
  }
}

}  // namespace
}  // namespace dtrain::data
