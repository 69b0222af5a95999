// load_idx_directory on small directories written by the test, and on the real data set
// when Debian's dataset-fashion-mnist is installed.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "data/fashion_mnist.h"
#include "testing/idx_files.h"

namespace dtrain::data {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::idx_bytes;

constexpr int kSide = 4;  // tiny images keep the files small; the loader takes the size from them

// Image i is filled with byte (i + salt) so tests can tell which example landed where.
Bytes images(std::size_t n, int salt) {
  Bytes b(n * kSide * kSide);
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<std::uint8_t>(i / (kSide * kSide) + salt);
  return b;
}
Bytes labels(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i % 10);
  return b;
}

class FashionMnistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) /
        ("fashion_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const Bytes& bytes, bool gz) {
    testing::write_file((dir_ / name).string() + (gz ? ".gz" : ""), bytes, gz);
  }
  void write_images(const std::string& prefix, std::size_t n, int salt, bool gz) {
    write(prefix + "-images-idx3-ubyte",
          idx_bytes(0x803, {static_cast<std::uint32_t>(n), kSide, kSide}, images(n, salt)), gz);
  }
  void write_labels(const std::string& prefix, const Bytes& l, bool gz) {
    write(prefix + "-labels-idx1-ubyte",
          idx_bytes(0x801, {static_cast<std::uint32_t>(l.size())}, l), gz);
  }
  void write_all(bool gz) {
    write_images("train", 30, 0, gz);
    write_labels("train", labels(30), gz);
    write_images("t10k", 12, 100, gz);
    write_labels("t10k", labels(12), gz);
  }

  template <typename E>
  std::string error_of(std::size_t val_size) {
    try {
      load_idx_directory(dir_.string(), val_size);
    } catch (const E& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
  }

  fs::path dir_;
};

TEST_F(FashionMnistTest, DefaultDirIsDebians) {
  EXPECT_EQ(default_data_dir(), "/usr/share/datasets/fashion-mnist");
}

void check_splits(const DataSplits& s) {
  ASSERT_EQ(s.train.size(), 25u);
  ASSERT_EQ(s.val.size(), 5u);
  ASSERT_EQ(s.test.size(), 12u);
  for (const Dataset* d : {&s.train, &s.val, &s.test}) {
    EXPECT_EQ(d->height, kSide);
    EXPECT_EQ(d->width, kSide);
    EXPECT_EQ(d->channels, 1);
    EXPECT_EQ(d->num_classes, 10);
    EXPECT_EQ(d->labels.size(), d->size());
  }
  // val is the END of the training file, in order.
  EXPECT_EQ(s.train.pixels.front(), 0);
  EXPECT_EQ(s.train.pixels.back(), 24);
  EXPECT_EQ(s.val.pixels.front(), 25);
  EXPECT_EQ(s.val.pixels.back(), 29);
  EXPECT_EQ(s.val.labels, (std::vector<std::int32_t>{5, 6, 7, 8, 9}));
  EXPECT_EQ(s.test.pixels.front(), 100);
  EXPECT_EQ(s.test.labels[11], 1);
}

TEST_F(FashionMnistTest, LoadsGzipFiles) {
  write_all(true);
  const DataSplits s = load_idx_directory(dir_.string(), 5);
  check_splits(s);
  EXPECT_NE(s.description.find(dir_.string()), std::string::npos);
}

TEST_F(FashionMnistTest, LoadsRawFiles) {
  write_all(false);
  check_splits(load_idx_directory(dir_.string(), 5));
}

TEST_F(FashionMnistTest, PrefersGzipWhenBothExist) {
  write_all(false);
  write_images("train", 30, 50, true);  // only the .gz one has salt 50
  EXPECT_EQ(load_idx_directory(dir_.string(), 5).train.pixels.front(), 50);
}

TEST_F(FashionMnistTest, ZeroValSize) {
  write_all(true);
  const DataSplits s = load_idx_directory(dir_.string(), 0);
  EXPECT_EQ(s.train.size(), 30u);
  EXPECT_EQ(s.val.size(), 0u);
  EXPECT_EQ(s.val.height, kSide);
}

TEST_F(FashionMnistTest, ValSizeTooLarge) {
  write_all(true);
  for (std::size_t v : {30u, 31u, 1000u}) {
    const std::string msg = error_of<ConfigError>(v);
    EXPECT_NE(msg.find("--val-size"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[0, 29]"), std::string::npos) << msg;
  }
  EXPECT_EQ(load_idx_directory(dir_.string(), 29).train.size(), 1u);
}

TEST_F(FashionMnistTest, MissingDirectoryNamesPackage) {
  const std::string missing = (dir_ / "absent").string();
  try {
    load_idx_directory(missing, 0);
    FAIL() << "no error";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(missing), std::string::npos) << msg;
    EXPECT_NE(msg.find("apt-get install dataset-fashion-mnist"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--data DIR"), std::string::npos) << msg;
  }
}

TEST_F(FashionMnistTest, MissingFileIsNamed) {
  write_all(true);
  fs::remove(dir_ / "t10k-labels-idx1-ubyte.gz");
  const std::string msg = error_of<DataError>(5);
  EXPECT_NE(msg.find("t10k-labels-idx1-ubyte"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir_.string()), std::string::npos) << msg;
}

TEST_F(FashionMnistTest, CountMismatchNamesBothFiles) {
  write_all(true);
  write_labels("train", labels(29), true);
  const std::string msg = error_of<DataError>(5);
  EXPECT_NE(msg.find("train-images-idx3-ubyte.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train-labels-idx1-ubyte.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("30"), std::string::npos) << msg;
  EXPECT_NE(msg.find("29"), std::string::npos) << msg;
}

TEST_F(FashionMnistTest, LabelOutOfRange) {
  write_all(true);
  Bytes l = labels(12);
  l[7] = 10;
  write_labels("t10k", l, true);
  const std::string msg = error_of<DataError>(5);
  EXPECT_NE(msg.find("t10k-labels-idx1-ubyte.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label 10 at index 7"), std::string::npos) << msg;
}

TEST_F(FashionMnistTest, SwappedFilesAreRejected) {
  write_all(true);
  write("train-images-idx3-ubyte", idx_bytes(0x801, {30}, labels(30)), true);
  const std::string msg = error_of<DataError>(5);
  EXPECT_NE(msg.find("0x00000803 (images)"), std::string::npos) << msg;
}

TEST_F(FashionMnistTest, TrainAndTestSizesMustAgree) {
  write_all(true);
  write("t10k-images-idx3-ubyte", idx_bytes(0x803, {1, 2, 8}, Bytes(16)), true);
  write_labels("t10k", labels(1), true);
  const std::string msg = error_of<DataError>(5);
  EXPECT_NE(msg.find("4x4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2x8"), std::string::npos) << msg;
}

TEST(FashionMnistReal, LoadsInstalledDataSet) {
  if (!fs::exists(fs::path(default_data_dir()) / "train-images-idx3-ubyte.gz") &&
      !fs::exists(fs::path(default_data_dir()) / "train-images-idx3-ubyte")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << default_data_dir();
  }
  const DataSplits s = load_idx_directory(default_data_dir(), 5000);
  EXPECT_EQ(s.train.size(), 55000u);
  EXPECT_EQ(s.val.size(), 5000u);
  EXPECT_EQ(s.test.size(), 10000u);
  for (const Dataset* d : {&s.train, &s.val, &s.test}) {
    EXPECT_EQ(d->height, 28);
    EXPECT_EQ(d->width, 28);
    EXPECT_EQ(d->channels, 1);
    ASSERT_EQ(d->labels.size(), d->size());
    std::vector<int> per_class(10, 0);
    for (std::int32_t label : d->labels) {
      ASSERT_GE(label, 0);
      ASSERT_LT(label, 10);
      ++per_class[static_cast<std::size_t>(label)];
    }
    for (int c : per_class) EXPECT_GT(c, 0);
  }
}

}  // namespace
}  // namespace dtrain::data
