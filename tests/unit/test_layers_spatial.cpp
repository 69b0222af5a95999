// The spatial layers a DCGAN and its relatives need: conv2d_transpose, upsample,
// avgpool2d and global_avgpool. Each: a forward pass against hand-computed values, a
// finite-difference check of the input gradient and of every parameter, and bad options.
#include <gtest/gtest.h>

#include <numeric>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "ckpt/model_spec.h"
#include "core/errors.h"
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

// 1, 2, 3, ... in NHWC order.
Tensor counting(const Shape& shape) {
  Tensor x(shape);
  for (std::size_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i + 1);
  return x;
}

// Expects build_model to throw a ModelError whose message names the layer and `fragment`.
void expect_model_error(int h, int w, int c, std::vector<LayerConfig> layers,
                        const std::string& fragment) {
  try {
    image_model(h, w, c, std::move(layers));
    ADD_FAILURE() << "expected ModelError mentioning '" << fragment << "'";
  } catch (const ModelError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'bad'"), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  }
}

LayerConfig transpose(int filters, int kernel, int stride = 0, int padding = 0,
                      int output_padding = 0) {
  return {.type = "conv2d_transpose",
          .filters = filters,
          .kernel = kernel,
          .stride = stride,
          .padding = padding,
          .output_padding = output_padding};
}

TEST(Conv2DTranspose, StrideTwoTurnsEachPixelIntoABlock) {
  // Kernel 2 of ones, stride 2: no overlap, each input pixel becomes a 2x2 block (+ bias 0.1).
  auto model = image_model(2, 2, 1, {transpose(1, 2, 2)});
  for (float& v : model->arena().param(0)) v = 1.0f;
  const Tensor& y = model->forward(counting(Shape{1, 2, 2, 1}), {});
  ASSERT_EQ(y.shape(), (Shape{1, 4, 4, 1}));
  const float expected[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(y[i], expected[i] + 0.1f) << i;
}

TEST(Conv2DTranspose, StrideOneOverlapsAddUpWithTheKernelUnflipped) {
  // y[i + kh, j + kw] += x[i, j] * w[kh, kw]; decimal weights show which term went where.
  auto model = image_model(2, 2, 1, {transpose(1, 2)});
  auto w = model->arena().param(0);  // [C_in = 1, (kh, kw, f)]
  w[0] = 1, w[1] = 10, w[2] = 100, w[3] = 1000;
  const Tensor& y = model->forward(counting(Shape{1, 2, 2, 1}), {});
  ASSERT_EQ(y.shape(), (Shape{1, 3, 3, 1}));
  const float expected[9] = {1, 12, 20, 103, 1234, 2040, 300, 3400, 4000};
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(y[i], expected[i] + 0.1f) << i;
}

TEST(Conv2DTranspose, WeightRowsAreInputChannelsAndColumnsFilters) {
  // 1x1 kernel: y[f] = sum_c x[c] * W[c, f] + b[f].
  auto model = image_model(1, 1, 2, {transpose(3, 1)});
  ASSERT_EQ(model->arena().slots()[0].shape, (Shape{2, 3}));
  auto w = model->arena().param(0);
  std::iota(w.begin(), w.end(), 1.0f);  // W = [[1, 2, 3], [4, 5, 6]]
  Tensor x(Shape{1, 1, 1, 2});
  x[0] = 1, x[1] = -2;
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 3}));
  EXPECT_FLOAT_EQ(y[0], 1 - 8 + 0.1f);
  EXPECT_FLOAT_EQ(y[1], 2 - 10 + 0.2f);
  EXPECT_FLOAT_EQ(y[2], 3 - 12 + 0.3f);
}

TEST(Conv2DTranspose, PaddingCropsAndOutputPaddingExtendsTheOutput) {
  // Kernel 3, stride 2, padding 1, output_padding 1 (the usual "double the size"): 2x2 -> 4x4.
  // Along each axis input 0 reaches outputs {0, 1} and input 1 reaches {1, 2, 3}.
  auto model = image_model(2, 2, 1, {transpose(1, 3, 2, 1, 1)});
  for (float& v : model->arena().param(0)) v = 1.0f;
  const Tensor& y = model->forward(counting(Shape{1, 2, 2, 1}), {});
  ASSERT_EQ(y.shape(), (Shape{1, 4, 4, 1}));
  const float expected[16] = {1, 3, 2, 2, 4, 10, 6, 6, 3, 7, 4, 4, 3, 7, 4, 4};
  for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(y[i], expected[i] + 0.1f) << i;
}

TEST(Conv2DTranspose, OutputShapesFollowTheOnnxFormula) {
  struct Case {
    int h, w, kernel, stride, padding, output_padding;
  };
  for (const Case c : {Case{3, 3, 3, 2, 1, 0}, Case{3, 3, 3, 2, 1, 1}, Case{4, 4, 4, 2, 1, 0},
                       Case{7, 5, 5, 3, 2, 2}, Case{1, 1, 4, 1, 0, 0}, Case{5, 2, 1, 2, 0, 1},
                       Case{3, 4, 3, 1, 1, 0}}) {
    auto model =
        image_model(c.h, c.w, 2, {transpose(3, c.kernel, c.stride, c.padding, c.output_padding)});
    auto side = [&](int in) {
      return std::size_t((in - 1) * c.stride - 2 * c.padding + c.kernel + c.output_padding);
    };
    EXPECT_EQ(model->output_shape(), (Shape{side(c.h), side(c.w), 3}))
        << c.h << "x" << c.w << " k" << c.kernel << " s" << c.stride << " p" << c.padding << " op"
        << c.output_padding;
    EXPECT_EQ(model->forward(random_input(2, model->input_shape(), 3), {}).shape(),
              model->output_shape().with_batch(2));
  }
}

TEST(Conv2DTranspose, IsTheAdjointOfConv2DWithTheSameWeights) {
  // <conv(a), b> == <a, conv_transpose(b)> with zero biases: the transposed convolution's
  // definition, checked through conv2d's im2col against this layer's col2im.
  const int k = 3, s = 2, p = 1;
  auto conv = image_model(
      6, 6, 2, {{.type = "conv2d", .filters = 3, .kernel = k, .stride = s, .padding = p}});
  const Shape small = conv->output_shape();  // 3x3x3
  auto deconv = image_model(int(small[0]), int(small[1]), 3, {transpose(2, k, s, p, 1)}, 2);
  ASSERT_EQ(deconv->output_shape(), conv->input_shape()) << deconv->output_shape().to_string();
  std::copy(conv->arena().param(0).begin(), conv->arena().param(0).end(),
            deconv->arena().param(0).begin());
  for (auto* m : {conv.get(), deconv.get()}) {
    for (float& v : m->arena().param(1)) v = 0.0f;
  }
  const Tensor a = random_input(2, conv->input_shape(), 4), b = random_input(2, small, 5);
  const Tensor& conv_a = conv->forward(a, {});
  const Tensor& deconv_b = deconv->forward(b, {});
  double lhs = 0.0, rhs = 0.0;
  for (std::size_t i = 0; i < b.numel(); ++i) lhs += double(conv_a[i]) * b[i];
  for (std::size_t i = 0; i < a.numel(); ++i) rhs += double(a[i]) * deconv_b[i];
  EXPECT_NEAR(lhs, rhs, 1e-4 * std::max(1.0, std::abs(lhs)));
}

struct TransposeCase {
  int h, w, channels, filters, kernel, stride, padding, output_padding;
};

void PrintTo(const TransposeCase& c, std::ostream* os) {
  *os << c.h << "x" << c.w << "x" << c.channels << " filters " << c.filters << " kernel "
      << c.kernel << " stride " << c.stride << " padding " << c.padding << " output_padding "
      << c.output_padding;
}

class Conv2DTransposeGradient : public ::testing::TestWithParam<TransposeCase> {};

TEST_P(Conv2DTransposeGradient, Check) {
  const auto c = GetParam();
  auto model = image_model(c.h, c.w, c.channels,
                           {transpose(c.filters, c.kernel, c.stride, c.padding, c.output_padding)});
  expect_gradients_match(*model, random_input(2, model->input_shape(), 6));
}

INSTANTIATE_TEST_SUITE_P(
    StridePaddingChannels, Conv2DTransposeGradient,
    ::testing::Values(TransposeCase{3, 4, 2, 3, 3, 1, 0, 0},    // overlapping, stride 1
                      TransposeCase{3, 2, 3, 2, 3, 2, 1, 1},    // doubling with output_padding
                      TransposeCase{2, 3, 2, 2, 4, 2, 1, 0},    // DCGAN's kernel 4 stride 2
                      TransposeCase{2, 2, 1, 2, 2, 3, 0, 2},    // stride > kernel: gaps
                      TransposeCase{3, 3, 2, 1, 1, 2, 0, 1},    // 1x1 kernel
                      TransposeCase{4, 3, 2, 2, 3, 1, 1, 0}));  // padding at stride 1

TEST(Conv2DTranspose, ParameterGradientsAccumulateAndInputGradientIsOverwritten) {
  auto model = image_model(2, 3, 2, {transpose(2, 3, 2, 1, 1)});
  const Tensor x = random_input(2, model->input_shape(), 7);
  Tensor dy(model->output_shape().with_batch(2));
  fill_uniform(dy, 8);
  model->arena().zero_grads();
  model->forward(x, {});
  model->backward(x, dy, true);
  const std::vector<float> once(model->arena().grads().begin(), model->arena().grads().end());
  const Tensor dx_once = model->input_grad();
  model->backward(x, dy, true);
  for (std::size_t i = 0; i < once.size(); ++i) {
    EXPECT_FLOAT_EQ(model->arena().grads()[i], 2 * once[i]) << i;
  }
  for (std::size_t i = 0; i < dx_once.numel(); ++i) EXPECT_EQ(model->input_grad()[i], dx_once[i]);
}

TEST(Conv2DTranspose, FlopsCountTheGemm) {
  auto model = image_model(4, 4, 8, {transpose(3, 4, 2, 1)});
  // 2 * (H*W) * C_in * (K*K*F)
  EXPECT_DOUBLE_EQ(model->layer(0).forward_flops_per_sample(), 2.0 * 16 * 8 * 16 * 3);
}

TEST(Conv2DTranspose, BadOptionsAreRefusedNamingTheLayer) {
  auto bad = [](LayerConfig c) {
    c.name = "bad";
    return std::vector<LayerConfig>{c};
  };
  expect_model_error(3, 3, 1, bad(transpose(1, 3, 2, 0, 2)), "output_padding");
  expect_model_error(3, 3, 1, bad(transpose(1, 3, 0, 0, 1)), "output_padding");  // stride 1
  expect_model_error(3, 3, 1, bad(transpose(1, 3, 2, 0, -1)), "output_padding");
  expect_model_error(3, 3, 1, bad(transpose(0, 3)), "filters");
  expect_model_error(3, 3, 1, bad(transpose(-2, 3)), "filters");
  expect_model_error(3, 3, 1, bad(transpose(1, 0)), "kernel");
  expect_model_error(3, 3, 1, bad(transpose(1, 3, 1, -1)), "padding");
  expect_model_error(1, 1, 1, bad(transpose(1, 1, 1, 1)), "crops");
  expect_model_error(3, 3, 1, bad(transpose(1, 3, 1, 2147483647)), "crops");  // not a wrap
  expect_model_error(2, 2, 1, {{.type = "flatten"}, bad(transpose(1, 2))[0]}, "image input");
  // Sizes that would overflow int (what fuzz/fuzz_model_spec tries first) are refused.
  expect_model_error(3, 3, 1, bad(transpose(1, 3, 2147483647)), "limit");
  expect_model_error(3, 3, 1, bad(transpose(1, 1 << 30)), "limit");
  expect_model_error(3, 3, 2, bad(transpose(1 << 30, 3)), "limit");
  expect_model_error(3, 3, 1, bad(transpose(1, 3, 1 << 30, 0, (1 << 30) - 1)), "limit");
}

// conv2d shares conv2d_transpose's checks (nn/conv_geometry.h): the same refusals, named
// after the layer, and no int overflow on sizes a fuzzer picks.
TEST(Conv2D, BadOptionsAreRefusedNamingTheLayer) {
  auto bad = [](int filters, int kernel, int stride = 0, int padding = 0) {
    return std::vector<LayerConfig>{{.type = "conv2d",
                                     .name = "bad",
                                     .filters = filters,
                                     .kernel = kernel,
                                     .stride = stride,
                                     .padding = padding}};
  };
  expect_model_error(3, 3, 1, bad(0, 3), "filters");
  expect_model_error(3, 3, 1, bad(-2, 3), "filters");
  expect_model_error(3, 3, 1, bad(1, 0), "kernel");
  expect_model_error(3, 3, 1, bad(1, 3, 1, -1), "padding");
  expect_model_error(3, 3, 1, bad(1, 4), "does not fit");
  expect_model_error(3, 3, 1, bad(1, 6, 1, 1), "does not fit");
  expect_model_error(2, 2, 1, {{.type = "flatten"}, bad(1, 2)[0]}, "image input");
  expect_model_error(3, 3, 1, bad(1, 3, 1, 2147483647), "limit");  // not a wrap
  expect_model_error(3, 3, 1, bad(1, 1 << 14, 1, 1 << 13), "limit");
  expect_model_error(3, 3, 2, bad(1 << 30, 3), "limit");
}

TEST(Conv2D, SharesItsOptionAndInputMessagesWithConv2DTranspose) {
  auto message = [](int h, int w, int c, std::vector<LayerConfig> layers) -> std::string {
    try {
      image_model(h, w, c, std::move(layers));
    } catch (const ModelError& e) {
      const std::string what = e.what();
      return what.substr(what.find("): ") + 3);  // past "layer 'name' (type): "
    }
    return "no error";
  };
  for (const auto& [filters, kernel, padding] :
       std::vector<std::tuple<int, int, int>>{{0, 3, 0}, {1, 0, 0}, {1, 3, -1}}) {
    LayerConfig conv{.type = "conv2d", .filters = filters, .kernel = kernel, .padding = padding};
    LayerConfig deconv = transpose(filters, kernel, 0, padding);
    const std::string text = message(3, 3, 1, {conv});
    EXPECT_NE(text.find("must be positive"), std::string::npos) << text;
    EXPECT_EQ(text, message(3, 3, 1, {deconv}));
  }
  const std::string text =
      message(2, 2, 1, {{.type = "flatten"}, {.type = "conv2d", .filters = 1, .kernel = 1}});
  EXPECT_NE(text.find("image input"), std::string::npos) << text;
  EXPECT_EQ(text, message(2, 2, 1, {{.type = "flatten"}, transpose(1, 1)}));
}

TEST(Upsample, ForwardRepeatsEachPixel) {
  auto model = image_model(2, 2, 2, {{.type = "upsample", .scale = 2}});
  ASSERT_EQ(model->output_shape(), (Shape{4, 4, 2}));
  const Tensor& y = model->forward(counting(Shape{1, 2, 2, 2}), {});
  // Channel 0 of the input is 1 3 / 5 7, channel 1 is 2 4 / 6 8.
  const float c0[16] = {1, 1, 3, 3, 1, 1, 3, 3, 5, 5, 7, 7, 5, 5, 7, 7};
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(y[2 * i], c0[i]) << i;
    EXPECT_EQ(y[2 * i + 1], c0[i] + 1) << i;
  }
}

TEST(Upsample, ScaleOneIsTheIdentity) {
  auto model = image_model(2, 3, 2, {{.type = "upsample", .scale = 1}});
  const Tensor x = random_input(2, model->input_shape(), 9);
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), x.shape());
  for (std::size_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y[i], x[i]);
}

TEST(Upsample, BackwardSumsTheCopies) {
  auto model = image_model(1, 2, 1, {{.type = "upsample", .scale = 3}});
  const Tensor x = random_input(1, model->input_shape(), 10);
  model->forward(x, {});
  const Tensor dy = counting(Shape{1, 3, 6, 1});  // rows 1..6, 7..12, 13..18
  model->backward(x, dy, true);
  EXPECT_FLOAT_EQ(model->input_grad()[0], (1 + 2 + 3) + (7 + 8 + 9) + (13 + 14 + 15));
  EXPECT_FLOAT_EQ(model->input_grad()[1], (4 + 5 + 6) + (10 + 11 + 12) + (16 + 17 + 18));
}

TEST(Upsample, GradientCheck) {
  auto model = image_model(2, 3, 2, {{.type = "upsample", .scale = 3}});
  expect_gradients_match(*model, random_input(2, model->input_shape(), 11));
}

TEST(Upsample, BadScaleIsRefused) {
  expect_model_error(2, 2, 1, {{.type = "upsample", .name = "bad"}}, "scale");
  expect_model_error(2, 2, 1, {{.type = "upsample", .name = "bad", .scale = -2}}, "scale");
  expect_model_error(2, 2, 1, {{.type = "upsample", .name = "bad", .scale = 1 << 30}}, "limit");
  expect_model_error(2, 2, 1,
                     {{.type = "flatten"}, {.type = "upsample", .name = "bad", .scale = 2}},
                     "image input");
}

TEST(AvgPool2D, ForwardAveragesEachWindowPerChannel) {
  auto model = image_model(2, 2, 2, {{.type = "avgpool2d", .kernel = 2}});
  Tensor x(Shape{1, 2, 2, 2});
  const float values[] = {1, -5, 7, -1, 3, -2, 2, -8};
  for (int i = 0; i < 8; ++i) x[i] = values[i];
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 2}));
  EXPECT_FLOAT_EQ(y[0], (1 + 7 + 3 + 2) / 4.0f);
  EXPECT_FLOAT_EQ(y[1], (-5 - 1 - 2 - 8) / 4.0f);
}

TEST(AvgPool2D, OddSizeDropsTheEdgeAsMaxPoolDoes) {
  auto avg = image_model(5, 5, 1, {{.type = "avgpool2d", .kernel = 2}});
  auto max = image_model(5, 5, 1, {{.type = "maxpool2d", .kernel = 2}});
  EXPECT_EQ(avg->output_shape(), max->output_shape());
  EXPECT_EQ(avg->output_shape(), (Shape{2, 2, 1}));
  const Tensor x = counting(Shape{1, 5, 5, 1});
  const Tensor& y = avg->forward(x, {});
  EXPECT_FLOAT_EQ(y[0], (1 + 2 + 6 + 7) / 4.0f);
  EXPECT_FLOAT_EQ(y[3], (13 + 14 + 18 + 19) / 4.0f);
  Tensor dy(Shape{1, 2, 2, 1});
  dy.fill(1.0f);
  avg->backward(x, dy, true);
  const Tensor& dx = avg->input_grad();
  EXPECT_FLOAT_EQ(dx[0], 0.25f);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(dx[4 * 5 + i], 0.0f) << "last row, column " << i;
    EXPECT_EQ(dx[i * 5 + 4], 0.0f) << "last column, row " << i;
  }
}

TEST(AvgPool2D, GradientCheckOddSize) {
  auto model = image_model(5, 5, 3, {{.type = "avgpool2d", .kernel = 2}});
  expect_gradients_match(*model, random_input(2, model->input_shape(), 12));
}

TEST(AvgPool2D, GradientCheckOverlappingWindows) {
  auto model = image_model(5, 4, 2, {{.type = "avgpool2d", .kernel = 3, .stride = 1}});
  EXPECT_EQ(model->output_shape(), (Shape{3, 2, 2}));
  expect_gradients_match(*model, random_input(2, model->input_shape(), 13));
}

TEST(AvgPool2D, BadOptionsAreRefused) {
  expect_model_error(4, 4, 1, {{.type = "avgpool2d", .name = "bad"}}, "kernel");
  expect_model_error(4, 4, 1, {{.type = "avgpool2d", .name = "bad", .kernel = 5}}, "larger");
  expect_model_error(4, 4, 1,
                     {{.type = "flatten"}, {.type = "avgpool2d", .name = "bad", .kernel = 2}},
                     "image input");
}

TEST(GlobalAvgPool, ForwardAveragesEachChannel) {
  auto model = image_model(2, 3, 2, {{.type = "global_avgpool"}});
  ASSERT_EQ(model->output_shape(), (Shape{2}));
  const Tensor& y = model->forward(counting(Shape{2, 2, 3, 2}), {});
  ASSERT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_FLOAT_EQ(y[0], (1 + 3 + 5 + 7 + 9 + 11) / 6.0f);
  EXPECT_FLOAT_EQ(y[1], (2 + 4 + 6 + 8 + 10 + 12) / 6.0f);
  EXPECT_FLOAT_EQ(y[2], (13 + 15 + 17 + 19 + 21 + 23) / 6.0f);
  EXPECT_FLOAT_EQ(y[3], (14 + 16 + 18 + 20 + 22 + 24) / 6.0f);
}

TEST(GlobalAvgPool, GradientCheck) {
  auto model = image_model(3, 2, 3, {{.type = "global_avgpool"}, {.type = "dense", .units = 2}});
  expect_gradients_match(*model, random_input(2, model->input_shape(), 14));
}

TEST(GlobalAvgPool, NonImageInputIsRefused) {
  expect_model_error(2, 2, 1, {{.type = "flatten"}, {.type = "global_avgpool", .name = "bad"}},
                     "image input");
}

TEST(SpatialLayers, ReferenceGeneratorAndDiscriminatorGradientCheck) {
  // A small DCGAN-like stack through every new layer.
  auto model = image_model(2, 2, 3,
                           {transpose(4, 4, 2, 1),
                            {.type = "leaky_relu", .alpha = 0.2f},
                            {.type = "upsample", .scale = 2},
                            {.type = "conv2d", .filters = 3, .kernel = 3, .padding = 1},
                            {.type = "avgpool2d", .kernel = 2},
                            {.type = "global_avgpool"},
                            {.type = "dense", .units = 1}},
                           3);
  EXPECT_EQ(model->layer_output_shape(0), (Shape{4, 4, 4}));
  EXPECT_EQ(model->output_shape(), (Shape{1}));
  expect_gradients_match(*model, random_input(2, model->input_shape(), 15, true),
                         {.step = 1e-3, .tolerance = 1e-2});
}

TEST(SpatialLayers, SpecOptionsRoundTripThroughTheProto) {
  const auto config = ckpt::parse_model_spec_text(R"(
    input_height: 2 input_width: 2 input_channels: 3
    layers { type: "conv2d_transpose" filters: 4 kernel: 3 stride: 2 padding: 1 output_padding: 1 }
    layers { type: "upsample" scale: 2 }
    layers { type: "avgpool2d" kernel: 2 }
    layers { type: "global_avgpool" }
  )",
                                                  "spatial.pbtxt");
  ASSERT_EQ(config.layers.size(), 4u);
  EXPECT_EQ(config.layers[0].output_padding, 1);
  EXPECT_EQ(config.layers[1].scale, 2);
  const auto again = ckpt::from_proto(ckpt::to_proto(config));
  EXPECT_EQ(again.layers[0].output_padding, 1);
  EXPECT_EQ(again.layers[1].scale, 2);
  auto model = build_model(config);
  EXPECT_EQ(model->layer_output_shape(0), (Shape{4, 4, 4}));
  EXPECT_EQ(model->layer_output_shape(1), (Shape{8, 8, 4}));
  EXPECT_EQ(model->output_shape(), (Shape{4}));
}

}  // namespace
}  // namespace dtrain::nn
