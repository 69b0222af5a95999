// ONNX export of the spatial layers (conv2d_transpose, upsample, avgpool2d, global_avgpool):
// each small network below, with random weights and non-zero biases, is exported, passes
// onnx's C++ checker and, run in ONNX Runtime (npm onnxruntime-node, installed by
// scripts/install-deps.sh), matches dtrain's own forward pass on a batch to 1e-4. The
// shapes are non-square and odd so that a swapped axis, a kernel read the wrong way round or
// a dropped edge shows up.
#include <gtest/gtest.h>
#include <onnx/checker.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "data/npy.h"
#include "export/onnx_export.h"
#include "testing/gradient_check.h"
#include "testing/npy_files.h"
#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

namespace fs = std::filesystem;
using nn::LayerConfig;

const std::string kNodeModules = std::string(DTRAIN_SOURCE_DIR) + "/.deps/node/node_modules";

struct ExportCase {
  std::string name;
  nn::ModelConfig config;
};

std::vector<ExportCase> cases() {
  return {
      {"generator",
       {"generator",
        3,
        2,
        2,
        {{.type = "conv2d_transpose",
          .filters = 3,
          .kernel = 3,
          .stride = 2,
          .padding = 1,
          .output_padding = 1},
         {.type = "leaky_relu", .alpha = 0.2f},
         {.type = "conv2d_transpose", .filters = 2, .kernel = 4, .stride = 2, .padding = 1},
         {.type = "upsample", .scale = 2},
         {.type = "tanh"}}}},
      {"strided_gaps",
       {"strided_gaps",
        2,
        3,
        2,
        {{.type = "conv2d_transpose", .filters = 2, .kernel = 2, .stride = 3, .output_padding = 2},
         {.type = "conv2d_transpose", .filters = 3, .kernel = 5}}}},
      {"pooling",
       {"pooling",
        7,
        5,
        3,
        {{.type = "upsample", .scale = 3},
         {.type = "avgpool2d", .kernel = 3, .stride = 2},
         {.type = "conv2d", .filters = 4, .kernel = 3},
         {.type = "avgpool2d", .kernel = 2},
         {.type = "global_avgpool"},
         {.type = "dense", .units = 2}}}},
      {"pool_then_flatten",
       {"pool_then_flatten",
        5,
        6,
        2,
        {{.type = "avgpool2d", .kernel = 2}, {.type = "flatten"}, {.type = "dense", .units = 3}}}},
      // Per channel on NCHW after a convolution, per feature on a flat input; the running
      // statistics and gamma are set below so evaluation mode shows in every value.
      {"batchnorm",
       {"batchnorm",
        5,
        4,
        2,
        {{.type = "conv2d", .filters = 3, .kernel = 2},
         {.type = "batchnorm", .name = "bn_image", .epsilon = 1e-3f},
         {.type = "relu"},
         {.type = "flatten"},
         {.type = "dense", .units = 4},
         {.type = "batchnorm", .name = "bn_flat"}}}},
  };
}

class SpatialExport : public ::testing::TestWithParam<std::size_t> {};

TEST_P(SpatialExport, OnnxRuntimeMatchesDtrainsForwardPass) {
  const ExportCase c = cases()[GetParam()];
  ASSERT_TRUE(fs::exists(kNodeModules + "/onnxruntime-node"))
      << "onnxruntime-node is missing under " << kNodeModules << ": run scripts/install-deps.sh";
  auto model = nn::build_model(c.config);
  model->init_params(17);
  for (const auto& slot : model->arena().slots()) {
    if (slot.name.ends_with(".bias")) {
      auto b = model->arena().param(&slot - model->arena().slots().data());
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.1f * static_cast<float>(i + 1);
    }
    auto p = model->arena().param(&slot - model->arena().slots().data());
    for (std::size_t i = 0; i < p.size(); ++i) {
      const float k = static_cast<float>(i);
      if (slot.name.ends_with(".running_mean")) p[i] = 0.3f * k - 0.2f;
      if (slot.name.ends_with(".running_var")) p[i] = 0.5f + 0.25f * k;
      if (slot.name.starts_with("bn_") && slot.name.ends_with(".weight")) p[i] = 0.5f + 0.2f * k;
    }
  }
  const auto dir = make_temp_dir("export_spatial_" + c.name);
  const std::string onnx_path = dir + "/m.onnx";
  {
    const onnx::ModelProto m = exporter::to_onnx(c.config, *model, "test");
    std::ofstream out(onnx_path, std::ios::binary);
    ASSERT_TRUE(m.SerializeToOstream(&out));
  }
  EXPECT_NO_THROW(onnx::checker::check_model(onnx_path));

  tensor::Tensor x(model->input_shape().with_batch(3));
  fill_uniform(x, 18);
  std::vector<std::uint64_t> dims = {3};
  for (std::size_t i = 0; i < model->input_shape().rank(); ++i) {
    dims.push_back(model->input_shape()[i]);
  }
  write_file(dir + "/x.npy",
             npy_bytes("<f4", dims, raw_bytes(std::vector<float>(x.data(), x.data() + x.numel()))),
             false);
  const tensor::Tensor& ours = model->forward(x, {});
  const auto r = run_command("NODE_PATH=" + kNodeModules + " node " + DTRAIN_SOURCE_DIR +
                             "/tests/onnx/run_onnx.js " + onnx_path + " " + dir + "/x.npy " + dir +
                             "/ort.npy");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const auto theirs = data::read_npy(dir + "/ort.npy");
  std::vector<std::uint64_t> our_dims;
  for (std::size_t i = 0; i < ours.shape().rank(); ++i) our_dims.push_back(ours.shape()[i]);
  EXPECT_EQ(theirs.shape, our_dims);
  ASSERT_EQ(theirs.data.size(), ours.numel() * sizeof(float));
  std::vector<float> v(ours.numel());
  std::memcpy(v.data(), theirs.data.data(), theirs.data.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    worst = std::max(worst, std::abs(double(v[i]) - double(ours[i])));
  }
  EXPECT_LE(worst, 1e-4) << c.name << ": largest difference between dtrain and ONNX Runtime";
}

INSTANTIATE_TEST_SUITE_P(Layers, SpatialExport, ::testing::Range<std::size_t>(0, cases().size()),
                         [](const auto& param_info) { return cases()[param_info.param].name; });

}  // namespace
}  // namespace dtrain::testing
