// Layer::matrix_products, the GEMM shapes and FLOPs `dtrain bench step` counts: hand-computed
// for dense, conv2d (both paths) and lstm on tiny specs, and for every layer that runs GEMMs,
// the same calls a tensor::GemmRecorder sees forward() and backward() make.
#include <gtest/gtest.h>

#include <algorithm>

#include "nn/model_config.h"
#include "testing/layer_models.h"

namespace dtrain::nn {
namespace {

using tensor::GemmShape;
using tensor::Trans;
using testing::image_model;
using testing::random_input;
using testing::sequence_model;
constexpr Trans N = Trans::kNo, T = Trans::kYes;

struct Expected {
  Pass pass;
  std::string role;
  GemmShape shape;
  int calls = 1;
  bool via_blas = true;
};

void expect_products(const std::vector<MatrixProduct>& got, const std::vector<Expected>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].pass, want[i].pass) << i;
    EXPECT_EQ(got[i].role, want[i].role) << i;
    EXPECT_EQ(got[i].shape, want[i].shape) << want[i].role << ": " << got[i].shape.to_string();
    EXPECT_EQ(got[i].calls, want[i].calls) << want[i].role;
    EXPECT_EQ(got[i].via_blas, want[i].via_blas) << want[i].role;
  }
}

double flops_of(const std::vector<MatrixProduct>& products, Pass pass) {
  double flops = 0.0;
  for (const auto& p : products) flops += p.pass == pass ? p.flops() : 0.0;
  return flops;
}

LayerConfig layer(std::string type, int units = 0) {
  LayerConfig c;
  c.type = std::move(type);
  c.units = units;
  return c;
}

LayerConfig conv(int filters, int kernel, int padding = 0) {
  LayerConfig c = layer("conv2d");
  c.filters = filters;
  c.kernel = kernel;
  c.padding = padding;
  return c;
}

// Runs one forward and one backward pass of layer `index` (input gradient asked for when
// input_grad) under a GemmRecorder; the calls must be the declared sgemm products.
void expect_recorded_as_declared(Sequential& model, std::size_t index, std::size_t batch,
                                 bool input_grad) {
  const auto x = random_input(batch, model.input_shape(), 7);
  model.forward(x, {.training = true});
  std::vector<GemmShape> declared;
  for (const auto& p : model.layer(index).matrix_products(batch, input_grad)) {
    if (p.via_blas) declared.insert(declared.end(), std::size_t(p.calls), p.shape);
  }
  tensor::GemmRecorder recorder;
  auto& l = const_cast<Layer&>(model.layer(index));
  const Tensor& in = index == 0 ? x : model.layer_output(index - 1);
  Tensor y, dx;
  l.forward(in, y, {.training = true});
  const auto dy = random_input(batch, model.layer_output_shape(index), 8);
  l.backward(in, y, dy, input_grad ? &dx : nullptr);
  auto recorded = recorder.calls();
  std::ranges::sort(recorded);
  std::ranges::sort(declared);
  ASSERT_EQ(recorded.size(), declared.size()) << model.layer(index).type();
  for (std::size_t i = 0; i < recorded.size(); ++i) {
    EXPECT_EQ(recorded[i], declared[i])
        << recorded[i].to_string() << " vs " << declared[i].to_string();
  }
}

TEST(MatrixProducts, DenseIsOneGemmForwardAndTwoBackward) {
  // [5] -> 3 units, batch 4: y = x W^T + b (the bias preloaded, so the GEMM accumulates).
  auto model = image_model(5, 1, 1, {layer("flatten"), layer("dense", 3)});
  const auto& dense = model->layer(1);
  expect_products(dense.matrix_products(4, true),
                  {{Pass::kForward, "forward", {N, T, 4, 3, 5, true}},
                   {Pass::kBackward, "weight grad", {T, N, 3, 5, 4, true}},
                   {Pass::kBackward, "input grad", {N, N, 4, 5, 3, false}}});
  EXPECT_EQ(dense.matrix_products(4, false).size(), 2u);  // no dx, no input-grad GEMM
  EXPECT_DOUBLE_EQ(flops_of(dense.matrix_products(4, true), Pass::kForward), 2.0 * 4 * 3 * 5);
  EXPECT_DOUBLE_EQ(flops_of(dense.matrix_products(4, true), Pass::kBackward), 2 * 2.0 * 4 * 3 * 5);
  EXPECT_DOUBLE_EQ(dense.forward_flops_per_sample(), 2.0 * 3 * 5);
  expect_recorded_as_declared(*model, 1, 4, true);
}

TEST(MatrixProducts, DensePerStepMultipliesTheRowsBySteps) {
  LayerConfig d = layer("dense", 3);
  d.per_step = true;
  d.no_bias = true;  // and without a bias the forward GEMM overwrites
  auto model = sequence_model(2, 5, {d});
  expect_products(model->layer(1).matrix_products(4, false),
                  {{Pass::kForward, "forward", {N, T, 8, 3, 5, false}},
                   {Pass::kBackward, "weight grad", {T, N, 3, 5, 8, true}}});
  expect_recorded_as_declared(*model, 1, 4, true);
}

TEST(MatrixProducts, Conv2DIsTheIm2colGemmAndItsTwoGradients) {
  // 6x6x2 input, 4 filters 3x3, padding 1: 36 output pixels a sample, patches of 18 (> the
  // small-K limit of 16, so sgemm runs all three); batch 2 gives 72 rows.
  auto model = image_model(6, 6, 2, {conv(4, 3, 1)});
  const auto& c = model->layer(0);
  expect_products(c.matrix_products(2, true),
                  {{Pass::kForward, "forward", {N, T, 72, 4, 18, false}},
                   {Pass::kBackward, "weight grad", {T, N, 4, 18, 72, true}},
                   {Pass::kBackward, "input grad", {N, N, 72, 18, 4, false}}});
  EXPECT_DOUBLE_EQ(c.forward_flops_per_sample(), 2.0 * 36 * 4 * 18);
  expect_recorded_as_declared(*model, 0, 2, true);
}

TEST(MatrixProducts, SmallKConvRunsForwardAndWeightGradOutsideSgemm) {
  // 1 channel, 3x3: K = 9, the direct kernels of tensor/small_k.h; 5x5 valid -> 3x3 out.
  auto model = image_model(5, 5, 1, {conv(8, 3)});
  expect_products(model->layer(0).matrix_products(3, true),
                  {{Pass::kForward, "forward", {N, T, 27, 8, 9, false}, 1, false},
                   {Pass::kBackward, "weight grad", {T, N, 8, 9, 27, true}, 1, false},
                   {Pass::kBackward, "input grad", {N, N, 27, 9, 8, false}}});
  expect_recorded_as_declared(*model, 0, 3, true);  // the input gradient alone is sgemm
}

TEST(MatrixProducts, LstmRunsPerStepRecurrenceGemms) {
  // T = 3 steps of F = 2 features, H = 4 units (4 gates: 16 rows), batch 5: 15 time-major rows.
  auto model = sequence_model(3, 2, {layer("lstm", 4)});
  const auto& lstm = model->layer(1);
  expect_products(lstm.matrix_products(5, true),
                  {{Pass::kForward, "input projection", {N, T, 15, 16, 2, true}},
                   {Pass::kForward, "recurrence", {N, T, 5, 16, 4, true}, 2},
                   {Pass::kBackward, "recurrence grad", {N, N, 5, 4, 16, false}, 2},
                   {Pass::kBackward, "weight grad", {T, N, 16, 2, 15, true}},
                   {Pass::kBackward, "recurrent weight grad", {T, N, 16, 4, 10, true}},
                   {Pass::kBackward, "input grad", {N, N, 15, 2, 16, false}}});
  // Forward: 2*15*16*2 + 2 steps * 2*5*16*4; backward: 2 * 2*5*4*16 + 2*16*2*15 + 2*16*4*10
  // + 2*15*2*16.
  EXPECT_DOUBLE_EQ(flops_of(lstm.matrix_products(5, true), Pass::kForward), 960.0 + 1280.0);
  EXPECT_DOUBLE_EQ(flops_of(lstm.matrix_products(5, true), Pass::kBackward),
                   1280.0 + 960.0 + 1280.0 + 960.0);
  expect_recorded_as_declared(*model, 1, 5, true);
}

TEST(MatrixProducts, EveryGemmLayerDeclaresWhatItRuns) {
  LayerConfig gru = layer("gru", 3), rnn = layer("rnn", 3), lstm_seq = layer("lstm", 3);
  gru.return_sequences = true;
  lstm_seq.return_sequences = true;
  for (const auto& l : {gru, rnn, lstm_seq}) {
    auto model = sequence_model(4, 2, {l});
    expect_recorded_as_declared(*model, 1, 3, true);
    expect_recorded_as_declared(*model, 1, 3, false);
  }
  auto single_step = sequence_model(1, 2, {layer("lstm", 3)});  // no recurrence GEMMs
  EXPECT_EQ(single_step->layer(1).matrix_products(3, true).size(), 3u);
  expect_recorded_as_declared(*single_step, 1, 3, true);
  LayerConfig t = layer("conv2d_transpose");
  t.filters = 3;
  t.kernel = 3;
  t.stride = 2;
  t.padding = 1;
  t.output_padding = 1;
  auto transpose = image_model(3, 3, 4, {t});
  expect_recorded_as_declared(*transpose, 0, 2, true);
  expect_recorded_as_declared(*transpose, 0, 2, false);
  auto conv_no_dx = image_model(6, 6, 2, {conv(4, 3, 1)});
  expect_recorded_as_declared(*conv_no_dx, 0, 2, false);
}

// Attention's per-head GEMMs run once per (sample, head); a residual declares its inner
// layers' products (the first with the block's input_grad, the rest always with one).
TEST(MatrixProducts, AttentionAndResidualDeclareWhatTheyRun) {
  LayerConfig att = layer("attention");
  att.heads = 2;
  auto model = sequence_model(3, 4, {att});
  const auto products = model->layer(1).matrix_products(5, true);
  ASSERT_EQ(products.size(), 12u);
  EXPECT_EQ(products[1].role, "scores");
  EXPECT_EQ(products[1].calls, 10);
  EXPECT_EQ(products[1].shape, (GemmShape{N, T, 3, 3, 2, false}));
  // 8 T C^2 + 4 T^2 C per sample.
  EXPECT_EQ(model->layer(1).forward_flops_per_sample(), 8.0 * 3 * 16 + 4.0 * 9 * 4);
  expect_recorded_as_declared(*model, 1, 5, true);
  expect_recorded_as_declared(*model, 1, 5, false);
  LayerConfig block = layer("residual");
  block.layers = {layer("layernorm"), att, layer("dense", 4)};
  block.layers[2].per_step = true;
  auto res = sequence_model(3, 4, {block});
  expect_recorded_as_declared(*res, 1, 2, true);
  expect_recorded_as_declared(*res, 1, 2, false);
}

TEST(MatrixProducts, ElementwiseLayersDeclareNone) {
  LayerConfig maxpool = layer("maxpool2d");
  maxpool.kernel = 2;
  auto model = image_model(4, 4, 2, {layer("relu"), maxpool, layer("flatten")});
  for (std::size_t i = 0; i < model->num_layers(); ++i) {
    EXPECT_TRUE(model->layer(i).matrix_products(8, true).empty()) << model->layer(i).type();
    EXPECT_EQ(model->layer(i).forward_flops_per_sample(), 0.0);
  }
}

}  // namespace
}  // namespace dtrain::nn
