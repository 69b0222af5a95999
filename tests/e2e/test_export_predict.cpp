// export, predict and plot through the dtrain binary. For every built-in model ONNX can
// express, the exported file passes onnx's C++ checker and, run in ONNX Runtime (npm
// onnxruntime-node, installed by scripts/install-deps.sh), matches dtrain's own forward
// pass (predict --logits / predict) on a batch to 1e-4. predict writes the same bytes at
// np=1 and np=2. plot writes a PNG of the documented size.
#include <gtest/gtest.h>
#include <onnx/checker.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/model_registry.h"
#include "data/npy.h"
#include "testing/npy_files.h"
#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

namespace fs = std::filesystem;

const std::string kNodeModules = std::string(DTRAIN_SOURCE_DIR) + "/.deps/node/node_modules";

std::vector<float> floats_of(const data::NpyArray& a) {
  EXPECT_EQ(a.dtype, data::NpyDtype::kFloat32);
  std::vector<float> v(a.data.size() / 4);
  std::memcpy(v.data(), a.data.data(), a.data.size());
  return v;
}

// A deterministic batch in [0, 1) (or [-1, 1) for noise) of shape [n, dims...].
std::string write_input(const std::string& path, std::size_t n,
                        const std::vector<std::uint64_t>& dims, bool signed_values) {
  std::size_t per = 1;
  for (const auto d : dims) per *= d;
  std::vector<float> x(n * per);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float u = static_cast<float>((i * 7919 + 13) % 1000) / 1000.0f;
    x[i] = signed_values ? 2.0f * u - 1.0f : u;
  }
  std::vector<std::uint64_t> shape = {n};
  shape.insert(shape.end(), dims.begin(), dims.end());
  write_file(path, npy_bytes("<f4", shape, raw_bytes(x)), false);
  return path;
}

class ExportTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExportTest, OnnxRuntimeMatchesDtrainsForwardPass) {
  const std::string model = GetParam();
  ASSERT_TRUE(fs::exists(kNodeModules + "/onnxruntime-node"))
      << "onnxruntime-node is missing under " << kNodeModules << ": run scripts/install-deps.sh";
  const auto dir = make_temp_dir("export_" + model);
  auto r = run_dtrain(0, "--data synthetic --model " + model +
                             " --epochs 1 --max-steps 3 --batch-size 32 --progress never "
                             "--checkpoint-dir " +
                             dir + "/ck");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_dtrain(0, "export --checkpoint " + dir + "/ck --format onnx --output " + dir + "/m.onnx");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NO_THROW(onnx::checker::check_model(dir + "/m.onnx"));

  const bool gan = model.starts_with("gan");
  const std::uint64_t noise =
      gan ? static_cast<std::uint64_t>(cli::load_model_config(model).noise_dim) : 0;
  const std::string x = write_input(
      dir + "/x.npy", 7,
      gan ? std::vector<std::uint64_t>{1, 1, noise} : std::vector<std::uint64_t>{28, 28, 1}, gan);
  const bool classifier = !gan && model != "autoencoder" && model != "conv-autoencoder";
  r = run_dtrain(0, "predict --checkpoint " + dir + "/ck --input " + x + " --output " + dir +
                        "/p.npy --batch 3" + (classifier ? " --logits " + dir + "/ours.npy" : ""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string ours = dir + (classifier ? "/ours.npy" : "/p.npy");
  r = run_command("NODE_PATH=" + kNodeModules + " node " + DTRAIN_SOURCE_DIR +
                  "/tests/onnx/run_onnx.js " + dir + "/m.onnx " + x + " " + dir + "/ort.npy");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const auto a = data::read_npy(ours), b = data::read_npy(dir + "/ort.npy");
  EXPECT_EQ(a.shape, b.shape);
  const auto va = floats_of(a), vb = floats_of(b);
  ASSERT_EQ(va.size(), vb.size());
  ASSERT_FALSE(va.empty());
  double worst = 0.0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    worst = std::max(worst, std::abs(double(va[i]) - double(vb[i])));
  }
  EXPECT_LE(worst, 1e-4) << model << ": largest difference between dtrain and ONNX Runtime";
}

INSTANTIATE_TEST_SUITE_P(BuiltIns, ExportTest,
                         ::testing::Values("cnn", "mlp", "rnn", "lstm", "autoencoder", "gan",
                                           "gan-mlp", "conv-autoencoder"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           std::ranges::replace(name, '-', '_');  // gtest: letters, digits, _
                           return name;
                         });

TEST(Predict, OneAndTwoRanksWriteIdenticalFiles) {
  const auto dir = make_temp_dir("predict_ranks");
  auto r = run_dtrain(0,
                      "--data synthetic --model cnn --epochs 1 --max-steps 3 --batch-size 32 "
                      "--progress never --checkpoint-dir " +
                          dir + "/ck");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string x = write_input(dir + "/x.npy", 11, {28, 28, 1}, false);
  for (const int np : {1, 2}) {
    const std::string tag = dir + "/np" + std::to_string(np);
    r = run_dtrain(np, "predict --checkpoint " + dir + "/ck --input " + x + " --output " + tag +
                           "_p.npy --classes " + tag + "_c.npy --batch 4");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  for (const char* suffix : {"_p.npy", "_c.npy"}) {
    const auto one = data::read_npy(dir + "/np1" + suffix);
    const auto two = data::read_npy(dir + "/np2" + suffix);
    EXPECT_EQ(one.shape[0], 11u) << suffix;
    EXPECT_EQ(one.shape, two.shape) << suffix;
    EXPECT_EQ(one.data, two.data) << suffix;
  }
  // Probabilities sum to one per row; classes are their arg max.
  const auto p = floats_of(data::read_npy(dir + "/np1_p.npy"));
  for (std::size_t i = 0; i < 11; ++i) {
    double sum = 0.0;
    for (std::size_t j = 0; j < 10; ++j) sum += p[i * 10 + j];
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
  // A wrong input shape is refused naming both shapes.
  write_input(dir + "/bad.npy", 2, {10, 10, 1}, false);
  r = run_dtrain(0, "predict --checkpoint " + dir + "/ck --input " + dir + "/bad.npy --output " +
                        dir + "/o.npy");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("holds 10x10x1 examples"), std::string::npos) << r.output;
}

TEST(Plot, WritesAPngOfTheDocumentedSize) {
  const auto dir = make_temp_dir("plot");
  const auto metrics = dir + "/run.jsonl";
  auto r = run_dtrain(0,
                      "--data synthetic --model mlp --epochs 2 --max-steps 20 --batch-size 64 "
                      "--progress never --plot --metrics " +
                          metrics);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const std::string& png : {dir + "/run.png", dir + "/again.png"}) {
    if (png.ends_with("again.png")) {
      r = run_dtrain(0, "plot " + metrics + " --output " + png);
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    std::ifstream f(png, std::ios::binary);
    ASSERT_TRUE(f) << png << " not written";
    std::vector<unsigned char> head(24);
    f.read(reinterpret_cast<char*>(head.data()), 24);
    EXPECT_EQ(std::memcmp(head.data(), "\x89PNG\r\n\x1a\n", 8), 0);
    const auto be32 = [&](std::size_t at) {
      return (head[at] << 24) | (head[at + 1] << 16) | (head[at + 2] << 8) | head[at + 3];
    };
    EXPECT_EQ(be32(16), 1000) << "width";
    EXPECT_EQ(be32(20), 400) << "height";
  }
  write_file(dir + "/junk.jsonl", Bytes{'n', 'o', '\n'}, false);
  r = run_dtrain(0, "plot " + dir + "/junk.jsonl");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("junk.jsonl line 1"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace dtrain::testing
