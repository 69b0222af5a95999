// ONNX export of the transformer layers (embedding, position_embedding, per_step dense,
// layernorm, gelu, attention) and of residual blocks over sequences and images: each small
// network below, with random weights and distinct biases, is exported, passes onnx's C++
// checker and, run in ONNX Runtime, matches dtrain's own forward pass on a batch to 1e-4.
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

LayerConfig residual(std::vector<LayerConfig> inner) {
  return {.type = "residual", .layers = std::move(inner)};
}

LayerConfig per_step_dense(int units) {
  return {.type = "dense", .units = units, .per_step = true};
}

std::vector<ExportCase> cases() {
  return {
      // A pre-norm transformer block over a [6, 4] sequence (2 heads of 2).
      {"transformer_block",
       {"transformer_block",
        6,
        1,
        4,
        {{.type = "reshape", .shape = {6, 4}},
         residual({{.type = "layernorm"}, {.type = "attention", .heads = 2}}),
         residual({{.type = "layernorm", .epsilon = 1e-3f},
                   per_step_dense(8),
                   {.type = "gelu"},
                   per_step_dense(4)}),
         {.type = "layernorm"},
         per_step_dense(3)}}},
      // Token ids in, logits per position out: a GPT of one block.
      {"tiny_gpt",
       {"tiny_gpt",
        5,
        1,
        1,
        {{.type = "embedding", .units = 6, .vocab = 7},
         {.type = "position_embedding"},
         residual({{.type = "layernorm"}, {.type = "attention", .heads = 3}}),
         {.type = "layernorm"},
         per_step_dense(7)}}},
      // A ResNet block over an image (the inner convs run on NCHW, the Add on NHWC), and a
      // nested residual of per-pixel layers.
      {"resnet_block",
       {"resnet_block",
        5,
        4,
        2,
        {{.type = "conv2d", .filters = 3, .kernel = 3, .padding = 1},
         residual({{.type = "conv2d", .filters = 3, .kernel = 3, .padding = 1},
                   {.type = "relu"},
                   {.type = "conv2d", .filters = 3, .kernel = 3, .padding = 1}}),
         {.type = "relu"},
         residual({{.type = "layernorm"}, residual({{.type = "gelu"}})}),
         {.type = "flatten"},
         {.type = "dense", .units = 2}}}},
  };
}

class TransformerExport : public ::testing::TestWithParam<std::size_t> {};

TEST_P(TransformerExport, OnnxRuntimeMatchesDtrainsForwardPass) {
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
    // layernorm's gamma away from 1, so a dropped scale shows.
    auto p = model->arena().param(&slot - model->arena().slots().data());
    if (slot.name.find("layernorm") != std::string::npos && slot.name.ends_with(".weight")) {
      for (std::size_t i = 0; i < p.size(); ++i) p[i] = 0.5f + 0.2f * static_cast<float>(i);
    }
  }
  const auto dir = make_temp_dir("export_transformer_" + c.name);
  const std::string onnx_path = dir + "/m.onnx";
  {
    const onnx::ModelProto m = exporter::to_onnx(c.config, *model, "test");
    std::ofstream out(onnx_path, std::ios::binary);
    ASSERT_TRUE(m.SerializeToOstream(&out));
  }
  EXPECT_NO_THROW(onnx::checker::check_model(onnx_path));

  tensor::Tensor x(model->input_shape().with_batch(3));
  fill_uniform(x, 18);
  if (c.config.layers[0].type == "embedding") {  // token ids 0..vocab-1
    for (std::size_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>((i * 5 + 3) % 7);
  }
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

INSTANTIATE_TEST_SUITE_P(Layers, TransformerExport,
                         ::testing::Range<std::size_t>(0, cases().size()),
                         [](const auto& param_info) { return cases()[param_info.param].name; });

}  // namespace
}  // namespace dtrain::testing
