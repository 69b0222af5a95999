// Every layer: a forward pass with hand-computed values and a finite-difference check of
// the input gradient and of every parameter.
#include <gtest/gtest.h>

#include <cstring>

#include "core/errors.h"
#include "nn/maxpool2d.h"
#include "nn/model_config.h"
#include "testing/gradient_check.h"
#include "testing/layer_models.h"

namespace dtrain::nn {
namespace {

using tensor::Tensor;
using testing::expect_gradients_match;
using testing::fill_separated;
using testing::fill_uniform;
using testing::image_model;
using testing::random_input;

TEST(Dense, ForwardMatchesHandComputedValues) {
  auto model = image_model(1, 1, 2, {{.type = "flatten"}, {.type = "dense", .units = 2}});
  auto w = model->arena().param(0);  // dense1.weight [2 units, 2 inputs]
  w[0] = 1, w[1] = 2, w[2] = -1, w[3] = 0.5f;
  Tensor x(Shape{2, 1, 1, 2});
  x[0] = 1, x[1] = 3, x[2] = -2, x[3] = 4;
  const Tensor& y = model->forward(x, {});
  // bias = [0.1, 0.2]
  EXPECT_FLOAT_EQ(y[0], 1 * 1 + 2 * 3 + 0.1f);
  EXPECT_FLOAT_EQ(y[1], -1 * 1 + 0.5f * 3 + 0.2f);
  EXPECT_FLOAT_EQ(y[2], 1 * -2 + 2 * 4 + 0.1f);
  EXPECT_FLOAT_EQ(y[3], -1 * -2 + 0.5f * 4 + 0.2f);
}

TEST(Dense, GradientCheck) {
  auto model = image_model(1, 1, 7, {{.type = "flatten"}, {.type = "dense", .units = 5}});
  expect_gradients_match(*model, random_input(3, model->input_shape(), 11));
}

TEST(Conv2D, ForwardMatchesHandComputedValues) {
  // 3x3 single-channel image, 2x2 kernel of ones, stride 1, no padding, bias 0.1.
  auto model = image_model(3, 3, 1, {{.type = "conv2d", .filters = 1, .kernel = 2}});
  auto w = model->arena().param(0);
  for (float& v : w) v = 1.0f;
  Tensor x(Shape{1, 3, 3, 1});
  for (int i = 0; i < 9; ++i) x[i] = static_cast<float>(i + 1);
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{1, 2, 2, 1}));
  EXPECT_FLOAT_EQ(y[0], 1 + 2 + 4 + 5 + 0.1f);
  EXPECT_FLOAT_EQ(y[1], 2 + 3 + 5 + 6 + 0.1f);
  EXPECT_FLOAT_EQ(y[2], 4 + 5 + 7 + 8 + 0.1f);
  EXPECT_FLOAT_EQ(y[3], 5 + 6 + 8 + 9 + 0.1f);
}

TEST(Conv2D, PaddingAndStrideShapesAndValues) {
  // Padding 1, stride 2 on a 3x3 image: output 2x2; the corner window sees only 4 pixels.
  auto model = image_model(
      3, 3, 1, {{.type = "conv2d", .filters = 1, .kernel = 3, .stride = 2, .padding = 1}});
  for (float& v : model->arena().param(0)) v = 1.0f;
  Tensor x(Shape{1, 3, 3, 1});
  for (int i = 0; i < 9; ++i) x[i] = static_cast<float>(i + 1);
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{1, 2, 2, 1}));
  EXPECT_FLOAT_EQ(y[0], 1 + 2 + 4 + 5 + 0.1f);
  EXPECT_FLOAT_EQ(y[3], 5 + 6 + 8 + 9 + 0.1f);
}

TEST(Conv2D, GradientCheckMultiChannel) {
  auto model = image_model(5, 6, 2, {{.type = "conv2d", .filters = 3, .kernel = 3}});
  expect_gradients_match(*model, random_input(2, model->input_shape(), 12));
}

TEST(Conv2D, GradientCheckStrideAndPadding) {
  auto model = image_model(
      5, 5, 2, {{.type = "conv2d", .filters = 2, .kernel = 3, .stride = 2, .padding = 1}});
  expect_gradients_match(*model, random_input(2, model->input_shape(), 13));
}

TEST(MaxPool2D, ForwardPicksWindowMaximaPerChannel) {
  auto model = image_model(2, 2, 2, {{.type = "maxpool2d", .kernel = 2}});
  Tensor x(Shape{1, 2, 2, 2});
  const float values[] = {1, -5, 7, -1,
                          3, -2, 2, -8};  // channel 0: 1,7,3,2; channel 1: -5,-1,-2,-8
  for (int i = 0; i < 8; ++i) x[i] = values[i];
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(y[0], 7);
  EXPECT_EQ(y[1], -1);
}

TEST(MaxPool2D, GradientCheckOddSizeDropsEdge) {
  auto model = image_model(5, 5, 3, {{.type = "maxpool2d", .kernel = 2}});
  EXPECT_EQ(model->output_shape(), (Shape{2, 2, 3}));
  expect_gradients_match(*model, random_input(2, model->input_shape(), 14, true));
}

TEST(MaxPool2D, GradientCheckOverlappingWindows) {
  auto model = image_model(5, 5, 2, {{.type = "maxpool2d", .kernel = 3, .stride = 1}});
  expect_gradients_match(*model, random_input(2, model->input_shape(), 15, true));
}

TEST(Activations, ForwardValues) {
  Tensor x(Shape{1, 1, 1, 3});
  x[0] = -2, x[1] = 0.5f, x[2] = 3;
  auto relu = image_model(1, 1, 3, {{.type = "relu"}});
  EXPECT_EQ(relu->forward(x, {})[0], 0.0f);
  EXPECT_EQ(relu->forward(x, {})[2], 3.0f);
  auto leaky = image_model(1, 1, 3, {{.type = "leaky_relu", .alpha = 0.2f}});
  EXPECT_FLOAT_EQ(leaky->forward(x, {})[0], -0.4f);
  auto sigmoid = image_model(1, 1, 3, {{.type = "sigmoid"}});
  EXPECT_NEAR(sigmoid->forward(x, {})[1], 1.0 / (1.0 + std::exp(-0.5)), 1e-6);
  auto tanh_model = image_model(1, 1, 3, {{.type = "tanh"}});
  EXPECT_NEAR(tanh_model->forward(x, {})[2], std::tanh(3.0), 1e-6);
}

class ActivationGradient : public ::testing::TestWithParam<std::string> {};

TEST_P(ActivationGradient, Check) {
  auto model = image_model(3, 4, 2, {{.type = GetParam()}});
  expect_gradients_match(*model, random_input(2, model->input_shape(), 16, true));
}

INSTANTIATE_TEST_SUITE_P(All, ActivationGradient,
                         ::testing::Values("relu", "leaky_relu", "sigmoid", "tanh"));

TEST(Flatten, GradientCheckAndShape) {
  auto model = image_model(2, 3, 2, {{.type = "flatten"}});
  EXPECT_EQ(model->output_shape(), (Shape{12}));
  expect_gradients_match(*model, random_input(2, model->input_shape(), 17));
}

TEST(Sequential, ReferenceCnnGradientCheckEndToEnd) {
  // The reference network's structure on a small image, checked through every layer.
  auto model = image_model(8, 8, 1,
                           {{.type = "conv2d", .filters = 4, .kernel = 3},
                            {.type = "relu"},
                            {.type = "maxpool2d", .kernel = 2},
                            {.type = "flatten"},
                            {.type = "dense", .units = 6},
                            {.type = "relu"},
                            {.type = "dense", .units = 3}},
                           3);
  EXPECT_EQ(model->output_shape(), (Shape{3}));
  expect_gradients_match(*model, random_input(2, model->input_shape(), 18, true),
                         {.step = 1e-3, .tolerance = 1e-2});
}

TEST(Sequential, ParameterGradientsAccumulateAcrossBackwardCalls) {
  auto model = image_model(1, 1, 4, {{.type = "flatten"}, {.type = "dense", .units = 3}});
  Tensor x = random_input(2, model->input_shape(), 19);
  Tensor dy(Shape{2, 3});
  fill_uniform(dy, 20);
  model->arena().zero_grads();
  model->forward(x, {});
  model->backward(x, dy);
  std::vector<float> once(model->arena().grads().begin(), model->arena().grads().end());
  model->backward(x, dy);
  for (std::size_t i = 0; i < once.size(); ++i) {
    EXPECT_FLOAT_EQ(model->arena().grads()[i], 2 * once[i]);
  }
}

TEST(ModelConfig, ShapeErrorsNameTheLayer) {
  try {
    image_model(4, 4, 1, {{.type = "conv2d", .name = "big", .filters = 2, .kernel = 7}});
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("'big'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(image_model(4, 4, 1, {{.type = "dense", .units = 3}}), ModelError);  // needs flatten
  EXPECT_THROW(image_model(4, 4, 1, {{.type = "bogus"}}), ModelError);
  EXPECT_THROW(image_model(4, 4, 1, {{.type = "flatten"}, {.type = "dense", .units = 0}}),
               ModelError);
  EXPECT_THROW(image_model(4, 4, 1, {{.type = "dense", .init = "zeros"}}), ModelError);
}

// Found by fuzz/fuzz_model_spec (out of memory): a dense layer of 1,444,444 units after 256
// inputs (370M parameters) made the arena allocate 3 GiB before anything was checked.
TEST(ModelConfig, ModelsBeyondTheParameterLimitAreRefusedBeforeAllocating) {
  try {
    image_model(1, 1, 256,
                {{.type = "flatten"}, {.type = "dense", .name = "huge", .units = 1444444}});
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("'huge.weight'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dtrain::nn

namespace dtrain::nn {
namespace {

// The fast path (relu moved after the pool, run inside it, and a small-K conv fused with a
// pool that tiles its output) against the layers as written: tiling windows (one streaming
// backward pass), overlapping and gapped ones (the scatter), a relu written after the pool;
// 1 input channel (the conv in the small-K kernels, fused with a tiling pool) and 2 (sgemm);
// filters below, at and past a whole register block; with and without the input gradient
// (which makes a fused conv run its own backward). Ties included: the input has whole
// windows of equal values, and negative windows.
struct FastPathCase {
  std::vector<LayerConfig> middle;
  int channels = 2;
  int filters = 3;
  bool input_grad = true;
};

void expect_relu_pool_fast_path_bitwise(const FastPathCase& c) {
  std::vector<LayerConfig> layers{{.type = "conv2d", .filters = c.filters, .kernel = 3}};
  layers.insert(layers.end(), c.middle.begin(), c.middle.end());
  layers.push_back({.type = "flatten"});
  layers.push_back({.type = "dense", .units = 4});
  ModelConfig config{"reorder", 9, 9, c.channels, layers};
  auto fast = build_model(config);
  auto plain = build_model(config, /*reorder_relu_maxpool=*/false);
  EXPECT_EQ(fast->layer(1).type(), "maxpool2d");
  EXPECT_EQ(plain->layer(1).type(), c.middle[0].type);
  const bool relu = c.middle.size() > 1;
  EXPECT_EQ(relu, dynamic_cast<const MaxPool2D&>(fast->layer(1)).fused_relu());
  EXPECT_FALSE(dynamic_cast<const MaxPool2D&>(plain->layer(c.middle[0].type == "relu" ? 2 : 1))
                   .fused_relu());
  fast->init_params(21);
  plain->init_params(21);
  Tensor x(fast->input_shape().with_batch(3));
  testing::fill_uniform(x, 22);
  for (std::size_t i = 0; i < 18; ++i) x[i] = 0.25f;   // equal values
  for (std::size_t i = 81; i < 99; ++i) x[i] = -0.5f;  // and negative ones, second sample
  Tensor dy(Shape{3, 4});
  testing::fill_uniform(dy, 23);
  for (int step = 0; step < 2; ++step) {  // the second step reuses every buffer
    for (auto* m : {fast.get(), plain.get()}) {
      m->arena().zero_grads();
      m->forward(x, {.training = true});
      m->backward(x, dy, c.input_grad);
    }
    const auto ga = fast->arena().grads(), gb = plain->arena().grads();
    EXPECT_EQ(0, std::memcmp(ga.data(), gb.data(), ga.size() * sizeof(float)));
    if (c.input_grad) {
      EXPECT_EQ(0, std::memcmp(fast->input_grad().data(), plain->input_grad().data(),
                               x.numel() * sizeof(float)));
    }
    const Tensor& a = fast->forward(x, {});
    const Tensor& b = plain->forward(x, {});
    ASSERT_EQ(a.numel(), b.numel());
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.numel() * sizeof(float)));
  }
  // A fused conv never stores its full-size output.
  const int pool_kernel = c.middle[c.middle[0].type == "relu" ? 1 : 0].kernel;
  const int pool_stride = c.middle[c.middle[0].type == "relu" ? 1 : 0].stride;
  const bool fused_conv = c.channels == 1 && pool_stride == pool_kernel;
  EXPECT_EQ(fused_conv, fast->layer_output(0).numel() == 0);
  EXPECT_NE(0u, plain->layer_output(0).numel());
}

TEST(Sequential, ReluMaxPoolFastPathIsBitwiseIdentical) {
  for (int kernel : {2, 3}) {
    for (int stride : {1, 2, 3}) {
      SCOPED_TRACE("kernel " + std::to_string(kernel) + " stride " + std::to_string(stride));
      const LayerConfig pool{.type = "maxpool2d", .kernel = kernel, .stride = stride};
      for (int channels : {1, 2}) {
        for (int filters : {3, 32, 40}) {
          for (bool input_grad : {false, true}) {
            SCOPED_TRACE("channels " + std::to_string(channels) + " filters " +
                         std::to_string(filters) + " input grad " + std::to_string(input_grad));
            expect_relu_pool_fast_path_bitwise(
                {{{.type = "relu"}, pool}, channels, filters, input_grad});
            expect_relu_pool_fast_path_bitwise(
                {{pool, {.type = "relu"}}, channels, filters, input_grad});
            expect_relu_pool_fast_path_bitwise({{pool}, channels, filters, input_grad});
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace dtrain::nn
