// SimpleRNN and LSTM: forward passes with hand-computed values, finite-difference checks of
// backpropagation through time (input and every parameter), shapes and their errors.
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

TEST(SimpleRNN, ParametersAndOutputShape) {
  auto model = sequence_model(5, 3, {{.type = "rnn", .name = "r", .units = 4}});
  EXPECT_EQ(model->output_shape(), (Shape{4}));
  const auto& slots = model->arena().slots();
  ASSERT_EQ(slots.size(), 3u);
  EXPECT_EQ(slots[0].name, "r.weight");
  EXPECT_EQ(slots[0].shape, (Shape{4, 3}));
  EXPECT_EQ(slots[1].name, "r.recurrent_weight");
  EXPECT_EQ(slots[1].shape, (Shape{4, 4}));
  EXPECT_EQ(slots[2].name, "r.bias");
  EXPECT_EQ(slots[2].shape, (Shape{4}));
  for (float b : model->arena().param(2)) EXPECT_EQ(b, 0.0f);
}

TEST(SimpleRNN, ForwardMatchesHandComputedValues) {
  // T=2, F=1, H=1: h0 = tanh(wx x0 + b), h1 = tanh(wx x1 + wh h0 + b).
  auto model = sequence_model(2, 1, {{.type = "rnn", .name = "r", .units = 1}});
  param_named(*model, "r.weight")[0] = 0.5f;
  param_named(*model, "r.recurrent_weight")[0] = -1.5f;
  param_named(*model, "r.bias")[0] = 0.1f;
  Tensor x(Shape{2, 2, 1, 1});
  x[0] = 1.0f, x[1] = 2.0f;   // sample 0
  x[2] = -0.4f, x[3] = 0.3f;  // sample 1
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{2, 1}));
  const double h0 = std::tanh(0.5 * 1.0 + 0.1);
  EXPECT_NEAR(y[0], std::tanh(0.5 * 2.0 - 1.5 * h0 + 0.1), 1e-6);
  const double g0 = std::tanh(0.5 * -0.4 + 0.1);
  EXPECT_NEAR(y[1], std::tanh(0.5 * 0.3 - 1.5 * g0 + 0.1), 1e-6);
}

TEST(SimpleRNN, GradientCheckThroughTime) {
  auto model = sequence_model(5, 3, {{.type = "rnn", .units = 4}}, 2);
  set_distinct_biases(*model);
  expect_gradients_match(*model, random_input(3, model->input_shape(), 31));
}

TEST(SimpleRNN, GradientCheckSingleStepAndDenseHead) {
  auto model =
      sequence_model(1, 4, {{.type = "rnn", .units = 3}, {.type = "dense", .units = 2}}, 3);
  set_distinct_biases(*model);
  expect_gradients_match(*model, random_input(2, model->input_shape(), 32));
}

TEST(LSTM, ParametersAndForgetBiasOfOne) {
  auto model = sequence_model(4, 3, {{.type = "lstm", .name = "l", .units = 2}});
  EXPECT_EQ(model->output_shape(), (Shape{2}));
  const auto& slots = model->arena().slots();
  ASSERT_EQ(slots.size(), 3u);
  EXPECT_EQ(slots[0].shape, (Shape{8, 3}));
  EXPECT_EQ(slots[1].shape, (Shape{8, 2}));
  EXPECT_EQ(slots[2].shape, (Shape{8}));
  // Gate order i, f, g, o: only the forget block starts at 1.
  const auto b = param_named(*model, "l.bias");
  const float expected[] = {0, 0, 1, 1, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(b[i], expected[i]) << i;
}

TEST(LSTM, OneStepMatchesHandComputedValues) {
  // T=1, F=1, H=1, x=0.5: a_i = 0.5, a_g = 0.125, a_o = 1.25 (a_f meets c_{-1} = 0), so
  // i = 0.622459, g = 0.124353, o = 0.777300, c = i*g = 0.077405, h = o*tanh(c) = 0.060047.
  auto model = sequence_model(1, 1, {{.type = "lstm", .name = "l", .units = 1}});
  const float wx[4] = {0.5f, -0.25f, 0.75f, 1.5f};  // i, f, g, o
  const float b[4] = {0.25f, 1.0f, -0.25f, 0.5f};
  for (int k = 0; k < 4; ++k) {
    param_named(*model, "l.weight")[k] = wx[k];
    param_named(*model, "l.recurrent_weight")[k] = 9.0f;  // h_{-1} = 0: must not matter
    param_named(*model, "l.bias")[k] = b[k];
  }
  Tensor x(Shape{1, 1, 1, 1});
  x[0] = 0.5f;
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{1, 1}));
  EXPECT_NEAR(y[0], 0.0600468, 1e-6);
}

TEST(LSTM, TwoStepsMatchTheCellEquations) {
  // F=1, H=1, T=2: the recurrence and the cell state carried from step 0 to step 1.
  auto model = sequence_model(2, 1, {{.type = "lstm", .name = "l", .units = 1}});
  const float wx[4] = {0.5f, -0.3f, 0.8f, 1.2f};  // i, f, g, o
  const float wh[4] = {-0.7f, 0.4f, 0.6f, -0.2f};
  const float b[4] = {0.1f, 1.0f, -0.2f, 0.3f};
  for (int k = 0; k < 4; ++k) {
    param_named(*model, "l.weight")[k] = wx[k];
    param_named(*model, "l.recurrent_weight")[k] = wh[k];
    param_named(*model, "l.bias")[k] = b[k];
  }
  Tensor x(Shape{1, 2, 1, 1});
  x[0] = 0.9f, x[1] = -0.6f;
  double h = 0, c = 0;
  for (int t = 0; t < 2; ++t) {
    auto a = [&](int k) { return double(wx[k]) * x[t] + double(wh[k]) * h + b[k]; };
    const double i = sigmoid(a(0)), f = sigmoid(a(1)), g = std::tanh(a(2)), o = sigmoid(a(3));
    c = f * c + i * g;
    h = o * std::tanh(c);
  }
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{1, 1}));
  EXPECT_NEAR(y[0], h, 1e-6);
}

TEST(LSTM, GradientCheckThroughTime) {
  auto model = sequence_model(5, 3, {{.type = "lstm", .units = 4}}, 4);
  set_distinct_biases(*model);
  expect_gradients_match(*model, random_input(3, model->input_shape(), 41));
}

TEST(LSTM, GradientCheckWithDefaultInitAndDenseHead) {
  auto model =
      sequence_model(4, 2, {{.type = "lstm", .units = 3}, {.type = "dense", .units = 2}}, 5);
  expect_gradients_match(*model, random_input(2, model->input_shape(), 42));
}

class RecurrentLayer : public ::testing::TestWithParam<std::string> {};

TEST_P(RecurrentLayer, SamplesInABatchAreIndependent) {
  // Each sample of a batch gives what it gives alone: catches batch/time layout mix-ups.
  auto model = sequence_model(4, 3, {{.type = GetParam(), .units = 5}}, 6);
  set_distinct_biases(*model);
  const Tensor x = random_input(3, model->input_shape(), 43);
  const Tensor batched = model->forward(x, {});
  for (std::size_t s = 0; s < 3; ++s) {
    Tensor one(model->input_shape().with_batch(1));
    std::copy_n(x.data() + s * one.numel(), one.numel(), one.data());
    const Tensor& y = model->forward(one, {});
    for (std::size_t j = 0; j < 5; ++j) EXPECT_FLOAT_EQ(y[j], batched[s * 5 + j]) << s << "," << j;
  }
}

TEST_P(RecurrentLayer, ParameterGradientsAccumulate) {
  auto model = sequence_model(3, 2, {{.type = GetParam(), .units = 3}}, 7);
  const Tensor x = random_input(2, model->input_shape(), 44);
  Tensor dy(Shape{2, 3});
  fill_uniform(dy, 45);
  model->arena().zero_grads();
  model->forward(x, {});
  model->backward(x, dy, true);
  const std::vector<float> once(model->arena().grads().begin(), model->arena().grads().end());
  const Tensor dx_once = model->input_grad();
  model->backward(x, dy, true);
  for (std::size_t i = 0; i < once.size(); ++i) {
    // Not bitwise: BLAS may add its partial sums into C in another order the second time.
    EXPECT_NEAR(model->arena().grads()[i], 2 * once[i], 1e-6 + 1e-5 * std::abs(once[i]));
  }
  for (std::size_t i = 0; i < dx_once.numel(); ++i) {
    EXPECT_FLOAT_EQ(model->input_grad()[i], dx_once[i]);  // overwritten, not added
  }
}

TEST_P(RecurrentLayer, EmptyBatch) {
  // Uneven evaluation shards can leave a rank without samples.
  auto model = sequence_model(3, 2, {{.type = GetParam(), .units = 3}}, 8);
  const Tensor x(model->input_shape().with_batch(0));
  EXPECT_EQ(model->forward(x, {}).shape(), (Shape{0, 3}));
  model->arena().zero_grads();
  model->backward(x, Tensor(Shape{0, 3}), true);
  EXPECT_EQ(model->input_grad().numel(), 0u);
  for (float g : model->arena().grads()) EXPECT_EQ(g, 0.0f);
}

TEST_P(RecurrentLayer, ShapeErrorsNameTheLayer) {
  const std::string type = GetParam();
  try {  // an image input without a reshape
    build_model({"test", 4, 4, 1, {{.type = type, .name = "seq_layer", .units = 3}}});
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'seq_layer'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("reshape"), std::string::npos) << msg;
  }
  try {
    sequence_model(4, 4, {{.type = type, .name = "no_units"}});
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("'no_units'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sequence_model(4, 4, {{.type = type, .units = 2, .init = "zeros"}}), ModelError);
}

INSTANTIATE_TEST_SUITE_P(Both, RecurrentLayer, ::testing::Values("rnn", "lstm"));

}  // namespace
}  // namespace dtrain::nn
