// --data in the NumPy, CSV and HDF5 formats through the dtrain binary: the same slice of
// Fashion-MNIST trains to bitwise the same parameters as from IDX files, and bad files end
// the run with exit 3 naming the file; a model that does not fit the data exits 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/fashion_subset.h"
#include "testing/npy_files.h"
#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

using nlohmann::json;

std::string params_sha256(const std::string& checkpoint_dir) {
  const auto r = run_dtrain(0, "inspect " + checkpoint_dir + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(r.output)["params_sha256"];
}

// Trains the mlp for one epoch at np=2 on `data`; returns the checkpoint's parameter hash.
std::string train_on(const std::string& data, const std::string& dir,
                     const std::string& extra = "") {
  const auto r =
      run_dtrain(2, "--data " + data + " --model mlp --epochs 1 --batch-size 100 " +
                        "--val-size 200 --progress never --checkpoint-dir " + dir + " " + extra);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return params_sha256(dir);
}

TEST(DataFormats, NpyAndHdf5CopiesOfFashionMnistTrainBitwiseLikeTheIdxFiles) {
  const auto dir = make_temp_dir("formats_vs_idx");
  const FashionSubset s = read_fashion_subset(1200, 300);
  write_idx_subset(s, dir + "/idx");
  write_npy_subset(s, dir + "/npy");
  write_hdf5_subset(s, dir + "/f.h5");
  const std::string idx = train_on(dir + "/idx", dir + "/ck_idx");
  EXPECT_EQ(idx.size(), 64u);
  EXPECT_EQ(train_on(dir + "/npy", dir + "/ck_npy"), idx) << "npy";
  EXPECT_EQ(train_on(dir + "/f.h5", dir + "/ck_h5"), idx) << "hdf5 in memory";
  // --data-memory-mb 0: every batch and evaluation range read from the file on demand.
  EXPECT_EQ(train_on(dir + "/f.h5", dir + "/ck_h5d", "--data-memory-mb 0"), idx) << "on demand";
}

// A table of 4 features and 3 classes (class = which of three feature sums is largest) with a
// model of its own: CSV rows are 1x4x1 examples.
TEST(DataFormats, CsvTableTrainsATabularModel) {
  const auto dir = make_temp_dir("csv_train");
  std::string csv = "f0,f1,f2,f3,label\n";
  for (int i = 0; i < 600; ++i) {
    const double a = ((i * 37) % 101) / 101.0, b = ((i * 53) % 97) / 97.0,
                 c = ((i * 71) % 89) / 89.0, d = ((i * 13) % 83) / 83.0;
    const double s0 = a + b, s1 = b + c, s2 = c + d;
    const int label = s0 >= s1 && s0 >= s2 ? 0 : (s1 >= s2 ? 1 : 2);
    csv += std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(c) + "," +
           std::to_string(d) + "," + std::to_string(label) + "\n";
  }
  write_file(dir + "/train.csv", Bytes(csv.begin(), csv.end()), false);
  const std::string spec =
      "name: \"tabular\"\ninput_height: 1\ninput_width: 4\ninput_channels: 1\n"
      "layers { type: \"flatten\" }\nlayers { type: \"dense\" units: 32 }\n"
      "layers { type: \"relu\" }\nlayers { type: \"dense\" units: 3 }\n";
  write_file(dir + "/tabular.pbtxt", Bytes(spec.begin(), spec.end()), false);
  const auto r = run_dtrain(2, "--data " + dir + "/train.csv --model " + dir +
                                   "/tabular.pbtxt --val-size 100 --epochs 15 --batch-size 32 "
                                   "--lr 0.01 --progress never --metrics " +
                                   dir + "/m.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("csv at " + dir + "/train.csv (500 train, 100 val, 100 test"),
            std::string::npos)
      << r.output;
  const auto lines = read_lines(dir + "/m.jsonl");
  ASSERT_FALSE(lines.empty());
  EXPECT_GT(json::parse(lines.back())["test_acc"].get<double>(), 0.8) << r.output;
}

TEST(DataFormats, BadFilesExitThreeNamingTheFile) {
  const auto dir = make_temp_dir("bad_data");
  write_file(dir + "/x.npy", npy_bytes("<f4", {4, 28, 28}, Bytes(4 * 784 * 4 - 8)), false);
  auto r = run_dtrain(2, "--data " + dir + "/x.npy --model mlp --epochs 1 --progress never");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find(dir + "/x.npy: truncated data"), std::string::npos) << r.output;

  write_file(dir + "/t.csv", Bytes{'a', ',', 'b', '\n', '1', ',', 'q', '\n'}, false);
  r = run_dtrain(0, "--data " + dir + "/t.csv --model mlp --epochs 1 --progress never");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("t.csv line 2, column 2"), std::string::npos) << r.output;
}

TEST(DataFormats, ModelThatDoesNotFitTheDataNamesBothShapes) {
  const auto dir = make_temp_dir("shape_mismatch");
  std::vector<float> x(40 * 6, 0.5f);
  std::vector<std::int64_t> y(40, 1);
  write_file(dir + "/x.npy", npy_bytes("<f4", {40, 2, 3}, raw_bytes(x)), false);
  write_file(dir + "/y.npy", npy_bytes("<i8", {40}, raw_bytes(y)), false);
  const auto r = run_dtrain(
      0, "--data " + dir + "/x.npy --val-size 5 --model mlp --epochs 1 --progress never");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("expects inputs [28, 28, 1] but --data " + dir + "/x.npy holds 2x3x1"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace dtrain::testing
