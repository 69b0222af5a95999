// The HDF5 reader on files written by the test: in memory and read on demand give the same
// floats; bad files and missing or mistyped datasets are DataErrors naming file and dataset.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/errors.h"
#include "data/batch.h"
#include "data/data_source.h"
#include "testing/hdf5_files.h"
#include "testing/npy_files.h"

namespace dtrain::data {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::H5Array;
using testing::H5Type;
using testing::raw_bytes;

class Hdf5Test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("h5_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  DataSplits load(const std::string& p, std::size_t limit_mb = 1024,
                  const std::string& names = "/train/x,/train/y,/test/x,/test/y") {
    DataOptions o;
    o.path = p;
    o.val_size = 3;
    o.memory_limit_mb = limit_mb;
    o.hdf5_datasets = names;
    return load_data_splits(o);
  }
  void expect_error(const std::string& p, const std::string& expected,
                    const std::string& names = "/train/x,/train/y,/test/x,/test/y") {
    try {
      load(p, 1024, names);
      ADD_FAILURE() << "no error for " << p << ", expected '" << expected << "'";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
  fs::path dir_;
};

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 29 + 5);
  return b;
}

TEST_F(Hdf5Test, OnDemandRowsEqualTheInMemoryCopy) {
  const std::size_t n = 100;
  std::vector<std::int64_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int64_t>(i % 7);
  for (const bool chunked : {false, true}) {
    for (const H5Type t : {H5Type::kUint8, H5Type::kFloat32}) {
      Bytes x = pattern(n * 12);
      if (t == H5Type::kFloat32) {
        std::vector<float> f(n * 12);
        for (std::size_t i = 0; i < f.size(); ++i) f[i] = float(i) * 0.25f - 3.0f;
        x = raw_bytes(f);
      }
      const std::string p = path("d.h5");
      testing::write_h5(p, {{"/train/x", t, {n, 3, 4}, x, chunked},
                            {"/train/y", H5Type::kInt64, {n}, raw_bytes(labels), chunked}});
      const DataSplits mem = load(p, 1024), disk = load(p, 0);
      ASSERT_EQ(disk.train.source != nullptr, true);
      ASSERT_EQ(mem.train.source, nullptr);
      EXPECT_EQ(disk.train.size(), n - 3);
      EXPECT_EQ(disk.val.size(), 3u);
      EXPECT_EQ(disk.train.labels, mem.train.labels);
      EXPECT_EQ(disk.train.num_classes, 7);
      const std::vector<std::uint32_t> idx = {5, 6, 7, 90, 2, 3, 96};  // runs and singles
      std::vector<float> a(idx.size() * 12), b(idx.size() * 12);
      gather_images(mem.train, idx, a.data());
      gather_images(disk.train, idx, b.data());
      EXPECT_EQ(a, b);
      std::vector<float> va(36), vb(36);
      gather_range(mem.val, 0, 3, va.data());
      gather_range(disk.val, 0, 3, vb.data());
      EXPECT_EQ(va, vb);
      EXPECT_EQ(mem.test.size(), 3u);  // no test datasets: the validation split
    }
  }
}

TEST_F(Hdf5Test, BadFilesAndDatasetsAreRefused) {
  testing::write_file(path("empty.h5"), {}, false);
  expect_error(path("empty.h5"), "file is empty");
  testing::write_file(path("text.h5"), Bytes{'h', 'e', 'l', 'l', 'o'}, false);
  expect_error(path("text.h5"), "not an HDF5 file");
  const std::vector<std::int64_t> y = {0, 1, 2, 1, 0, 2};
  testing::write_h5(path("ok.h5"), {{"/train/x", H5Type::kUint8, {6, 2, 2}, pattern(24)},
                                    {"/train/y", H5Type::kInt64, {6}, raw_bytes(y)}});
  expect_error(path("ok.h5"), "no dataset /data/x", "/data/x,/data/y,,");
  testing::write_h5(path("i16.h5"), {{"/train/x", H5Type::kInt16, {6, 2}, Bytes(24)}});
  expect_error(path("i16.h5"), "integer examples other than uint8");
  testing::write_h5(path("count.h5"), {{"/train/x", H5Type::kUint8, {6, 2}, pattern(12)},
                                       {"/train/y", H5Type::kInt64, {5}, Bytes(40)}});
  expect_error(path("count.h5"), "5 labels for 6 examples");
  testing::write_h5(path("fy.h5"), {{"/train/x", H5Type::kUint8, {6, 2}, pattern(12)},
                                    {"/train/y", H5Type::kFloat32, {6}, Bytes(24)}});
  expect_error(path("fy.h5"), "labels are not integers");
  testing::write_h5(path("flat.h5"), {{"/train/x", H5Type::kUint8, {6}, pattern(6)}});
  expect_error(path("flat.h5"), "expected [N, D]");
  // A file cut short: refused, whatever part is missing.
  const auto size = fs::file_size(path("ok.h5"));
  for (const std::uintmax_t keep : {size / 2, size - 1}) {
    fs::copy_file(path("ok.h5"), path("cut.h5"), fs::copy_options::overwrite_existing);
    fs::resize_file(path("cut.h5"), keep);
    EXPECT_THROW(load(path("cut.h5")), DataError) << keep;
  }
  EXPECT_THROW(load(path("ok.h5"), 1024, ""), ConfigError);
}

}  // namespace
}  // namespace dtrain::data
