// GRU ("reset after", PyTorch's gate order r, z, n): parameters, one and two steps against
// the equations by hand, finite-difference checks with and without return_sequences,
// batch independence, accumulation, errors.
#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.h"
#include "nn/model_config.h"
#include "testing/gradient_check.h"
#include "testing/layer_models.h"

namespace dtrain::nn {
namespace {

using tensor::Tensor;
using testing::expect_gradients_match;
using testing::fill_uniform;
using testing::param_named;
using testing::random_input;
using testing::sequence_model;
using testing::set_distinct_biases;

double sigmoid(double a) {
  return 1.0 / (1.0 + std::exp(-a));
}

TEST(GRU, ParametersAndZeroBiases) {
  auto model = sequence_model(4, 3, {{.type = "gru", .name = "g", .units = 2}});
  EXPECT_EQ(model->output_shape(), (Shape{2}));
  const auto& slots = model->arena().slots();
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_EQ(slots[0].name, "g.weight");
  EXPECT_EQ(slots[0].shape, (Shape{6, 3}));
  EXPECT_EQ(slots[1].name, "g.recurrent_weight");
  EXPECT_EQ(slots[1].shape, (Shape{6, 2}));
  EXPECT_EQ(slots[2].name, "g.bias");
  EXPECT_EQ(slots[2].shape, (Shape{6}));
  EXPECT_EQ(slots[3].name, "g.recurrent_bias");
  EXPECT_EQ(slots[3].shape, (Shape{6}));
  for (float b : param_named(*model, "g.bias")) EXPECT_EQ(b, 0.0f);
  for (float b : param_named(*model, "g.recurrent_bias")) EXPECT_EQ(b, 0.0f);
}

TEST(GRU, OneStepMatchesHandComputedValues) {
  // T=1, F=1, H=1, x=0.5, h_{-1}=0 (so W_h must not matter, but b_hn does, times r):
  // r = sigmoid(0.25 + 0.25 + 0.3) = 0.689974, z = sigmoid(-0.125 + 0.1 - 0.4) = 0.395321,
  // n = tanh(0.375 - 0.2 + r*0.6) = 0.529165, h = (1-z)*n = 0.319975.
  for (const bool sequences : {false, true}) {
    auto model = sequence_model(
        1, 1, {{.type = "gru", .name = "g", .units = 1, .return_sequences = sequences}});
    const float wx[3] = {0.5f, -0.25f, 0.75f};  // r, z, n
    const float bi[3] = {0.25f, 0.1f, -0.2f};
    const float bh[3] = {0.3f, -0.4f, 0.6f};
    for (int k = 0; k < 3; ++k) {
      param_named(*model, "g.weight")[k] = wx[k];
      param_named(*model, "g.recurrent_weight")[k] = 9.0f;
      param_named(*model, "g.bias")[k] = bi[k];
      param_named(*model, "g.recurrent_bias")[k] = bh[k];
    }
    Tensor x(Shape{1, 1, 1, 1});
    x[0] = 0.5f;
    const Tensor& y = model->forward(x, {});
    EXPECT_EQ(y.shape(), sequences ? (Shape{1, 1, 1}) : (Shape{1, 1}));
    EXPECT_NEAR(y[0], 0.319975, 1e-6) << sequences;
  }
}

TEST(GRU, TwoStepsMatchTheEquations) {
  auto model =
      sequence_model(2, 1, {{.type = "gru", .name = "g", .units = 1, .return_sequences = true}});
  const float wx[3] = {0.5f, -0.3f, 0.8f};
  const float wh[3] = {-0.7f, 0.4f, 0.6f};
  const float bi[3] = {0.1f, 0.2f, -0.2f};
  const float bh[3] = {-0.1f, 0.3f, 0.25f};
  for (int k = 0; k < 3; ++k) {
    param_named(*model, "g.weight")[k] = wx[k];
    param_named(*model, "g.recurrent_weight")[k] = wh[k];
    param_named(*model, "g.bias")[k] = bi[k];
    param_named(*model, "g.recurrent_bias")[k] = bh[k];
  }
  Tensor x(Shape{1, 2, 1, 1});
  x[0] = 0.9f, x[1] = -0.6f;
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{1, 2, 1}));
  double h = 0;
  for (int t = 0; t < 2; ++t) {
    auto q = [&](int k) { return double(wh[k]) * h + bh[k]; };
    const double r = sigmoid(double(wx[0]) * x[t] + bi[0] + q(0));
    const double z = sigmoid(double(wx[1]) * x[t] + bi[1] + q(1));
    const double n = std::tanh(double(wx[2]) * x[t] + bi[2] + r * q(2));
    h = (1 - z) * n + z * h;
    EXPECT_NEAR(y[t], h, 1e-6) << t;
  }
}

TEST(GRU, GradientCheckThroughTime) {
  auto model = sequence_model(5, 3, {{.type = "gru", .units = 4}}, 4);
  set_distinct_biases(*model, 0.02f);
  expect_gradients_match(*model, random_input(3, model->input_shape(), 41));
}

TEST(GRU, GradientCheckWithSequencesAndDenseHead) {
  auto model = sequence_model(4, 2,
                              {{.type = "gru", .units = 3, .return_sequences = true},
                               {.type = "dense", .units = 2, .per_step = true}},
                              5);
  set_distinct_biases(*model, 0.02f);
  expect_gradients_match(*model, random_input(2, model->input_shape(), 42));
}

TEST(GRU, SamplesInABatchAreIndependent) {
  auto model = sequence_model(4, 3, {{.type = "gru", .units = 5}}, 6);
  set_distinct_biases(*model, 0.02f);
  const Tensor x = random_input(3, model->input_shape(), 43);
  const Tensor batched = model->forward(x, {});
  for (std::size_t s = 0; s < 3; ++s) {
    Tensor one(model->input_shape().with_batch(1));
    std::copy_n(x.data() + s * one.numel(), one.numel(), one.data());
    const Tensor& y = model->forward(one, {});
    for (std::size_t j = 0; j < 5; ++j) EXPECT_FLOAT_EQ(y[j], batched[s * 5 + j]) << s << "," << j;
  }
}

TEST(GRU, ParameterGradientsAccumulateAndEmptyBatchAddsNothing) {
  auto model = sequence_model(3, 2, {{.type = "gru", .units = 3}}, 7);
  set_distinct_biases(*model, 0.02f);
  const Tensor x = random_input(2, model->input_shape(), 44);
  Tensor dy(Shape{2, 3});
  fill_uniform(dy, 45);
  model->arena().zero_grads();
  model->forward(x, {});
  model->backward(x, dy, true);
  const std::vector<float> once(model->arena().grads().begin(), model->arena().grads().end());
  model->backward(x, dy, true);
  for (std::size_t i = 0; i < once.size(); ++i) {
    EXPECT_NEAR(model->arena().grads()[i], 2 * once[i], 1e-6 + 1e-5 * std::abs(once[i]));
  }
  const Tensor empty(model->input_shape().with_batch(0));
  EXPECT_EQ(model->forward(empty, {}).shape(), (Shape{0, 3}));
  model->arena().zero_grads();
  model->backward(empty, Tensor(Shape{0, 3}), true);
  for (float g : model->arena().grads()) EXPECT_EQ(g, 0.0f);
}

TEST(GRU, ShapeErrorsNameTheLayer) {
  try {
    build_model({"test", 4, 4, 1, {{.type = "gru", .name = "seq_layer", .units = 3}}});
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("'seq_layer'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sequence_model(4, 4, {{.type = "gru", .name = "no_units"}}), ModelError);
}

}  // namespace
}  // namespace dtrain::nn
