// The transformer layers: layernorm, gelu, position_embedding and attention. Hand-computed
// forwards (the causal mask included), finite-difference checks of the input and every
// parameter, and bad options refused naming the layer.
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
using testing::param_named;
using testing::random_input;
using testing::sequence_model;

LayerConfig attention(int heads, std::string name = "att") {
  return {.type = "attention", .name = std::move(name), .heads = heads};
}

Tensor values(const Shape& shape, const std::vector<float>& v) {
  Tensor x(shape);
  for (std::size_t i = 0; i < v.size(); ++i) x[i] = v[i];
  return x;
}

void expect_error_naming(const std::function<void()>& build, const std::string& layer,
                         const std::string& what) {
  try {
    build();
    ADD_FAILURE() << "no error for " << layer;
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'" + layer + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(LayerNorm, NormalizesEachPositionThenScalesAndShifts) {
  auto model = sequence_model(2, 3, {{.type = "layernorm", .name = "ln"}});
  ASSERT_EQ(model->arena().slots().size(), 2u);
  EXPECT_EQ(model->arena().slots()[0].name, "ln.weight");
  EXPECT_EQ(model->arena().slots()[1].name, "ln.bias");
  auto gamma = param_named(*model, "ln.weight");
  auto beta = param_named(*model, "ln.bias");
  EXPECT_EQ(gamma[0], 1.0f);  // from 1 and 0
  EXPECT_EQ(beta[2], 0.0f);
  gamma[1] = 2.0f;
  beta[2] = 0.5f;
  const Tensor x = values(Shape{1, 2, 3, 1}, {1, 2, 3, 10, 10, 10});
  const Tensor& y = model->forward(x, {});
  const float s = 1.0f / std::sqrt(2.0f / 3.0f + 1e-5f);
  EXPECT_NEAR(y[0], -s, 1e-5);
  EXPECT_NEAR(y[1], 0.0f, 1e-6);
  EXPECT_NEAR(y[2], s + 0.5f, 1e-5);
  // A constant row has variance 0: xhat = 0, so the output is beta.
  EXPECT_NEAR(y[3], 0.0f, 1e-6);
  EXPECT_NEAR(y[5], 0.5f, 1e-6);
}

TEST(LayerNorm, GradientsMatchFiniteDifferences) {
  auto model = sequence_model(3, 4, {{.type = "layernorm", .name = "ln", .epsilon = 1e-3f}});
  auto gamma = param_named(*model, "ln.weight");
  auto beta = param_named(*model, "ln.bias");
  for (std::size_t i = 0; i < gamma.size(); ++i) gamma[i] = 0.5f + 0.25f * float(i);
  for (std::size_t i = 0; i < beta.size(); ++i) beta[i] = 0.1f * float(i);
  expect_gradients_match(*model, random_input(2, model->input_shape(), 3));
  // Over the channels of an image too.
  auto image = testing::image_model(2, 2, 3, {{.type = "layernorm"}});
  expect_gradients_match(*image, random_input(2, image->input_shape(), 4));
}

TEST(Gelu, TanhFormForwardAndGradient) {
  auto model = sequence_model(1, 4, {{.type = "gelu", .name = "g"}});
  EXPECT_EQ(model->layer(1).type(), "gelu");
  const Tensor x = values(Shape{1, 1, 4, 1}, {0.0f, 1.0f, -1.0f, 3.0f});
  const Tensor& y = model->forward(x, {});
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch's GELU(approximate="tanh").
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_NEAR(y[1], 0.841192f, 1e-6);
  EXPECT_NEAR(y[2], -0.158808f, 1e-6);
  EXPECT_NEAR(y[3], 2.996363f, 1e-5);
  auto seq = sequence_model(3, 5, {{.type = "gelu"}});
  expect_gradients_match(*seq, random_input(2, seq->input_shape(), 5, true));
}

TEST(PositionEmbedding, AddsOneLearnedRowPerPosition) {
  auto model = sequence_model(2, 2, {{.type = "position_embedding", .name = "pos"}});
  ASSERT_EQ(model->arena().slots().size(), 1u);
  EXPECT_EQ(model->arena().slots()[0].shape, (Shape{2, 2}));
  auto p = param_named(*model, "pos.weight");
  for (float v : p) EXPECT_LE(std::abs(v), 0.05f);
  for (std::size_t i = 0; i < 4; ++i) p[i] = 10.0f * float(i + 1);
  const Tensor x = values(Shape{2, 2, 2, 1}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor& y = model->forward(x, {});
  const float want[] = {11, 22, 33, 44, 15, 26, 37, 48};
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(y[i], want[i]) << i;
  expect_gradients_match(*model, random_input(3, model->input_shape(), 6));
}

// heads 1 and 2 over x = [[1, 0], [0, 1]] with identity Q, K, V and projection and zero
// biases: position 0 sees only itself; position 1 mixes both with softmax weights.
TEST(Attention, HandComputedCausalHeads) {
  const Tensor x = values(Shape{1, 2, 2, 1}, {1, 0, 0, 1});
  for (int heads : {1, 2}) {
    auto model = sequence_model(2, 2, {attention(heads)});
    auto qkv = param_named(*model, "att.qkv.weight");  // [6, 2]: rows q0 q1 k0 k1 v0 v1
    auto proj = param_named(*model, "att.proj.weight");
    ASSERT_EQ(qkv.size(), 12u);
    for (std::size_t r = 0; r < 6; ++r)
      for (std::size_t c = 0; c < 2; ++c) qkv[r * 2 + c] = (r % 2 == c) ? 1.0f : 0.0f;
    proj[0] = proj[3] = 1.0f;
    proj[1] = proj[2] = 0.0f;
    const Tensor& y = model->forward(x, {});
    EXPECT_NEAR(y[0], 1.0f, 1e-6) << heads;
    EXPECT_NEAR(y[1], 0.0f, 1e-6) << heads;
    if (heads == 1) {
      // scores of position 1: q1.k0 / sqrt(2) = 0 and q1.k1 / sqrt(2) = 0.7071.
      const float p1 = std::exp(1.0f / std::sqrt(2.0f)) / (1.0f + std::exp(1.0f / std::sqrt(2.0f)));
      EXPECT_NEAR(y[2], 1.0f - p1, 1e-6);
      EXPECT_NEAR(y[3], p1, 1e-6);
    } else {
      // d = 1: head 0 (column 0) scores 0, 0 -> 1/2 each; head 1 scores 0, 1.
      EXPECT_NEAR(y[2], 0.5f, 1e-6);
      EXPECT_NEAR(y[3], std::exp(1.0f) / (1.0f + std::exp(1.0f)), 1e-6);
    }
  }
}

TEST(Attention, LaterPositionsDoNotChangeEarlierOutputs) {
  auto model = sequence_model(4, 4, {attention(2)});
  Tensor x = random_input(2, model->input_shape(), 9);
  const Tensor before = model->forward(x, {});
  x[2 * 4 + 1] += 1.0f;  // sample 0, position 2
  const Tensor& after = model->forward(x, {});
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(after[i], before[i]) << i;  // positions 0, 1
  EXPECT_NE(after[8], before[8]);
}

TEST(Attention, GradientsMatchFiniteDifferences) {
  for (int heads : {1, 2}) {
    auto model = sequence_model(4, 4, {attention(heads)});
    testing::set_distinct_biases(*model);
    expect_gradients_match(*model, random_input(2, model->input_shape(), 10));
  }
}

TEST(TransformerLayers, BadOptionsNameTheLayer) {
  expect_error_naming([] { sequence_model(2, 4, {attention(0)}); }, "att", "heads");
  expect_error_naming([] { sequence_model(2, 4, {attention(3)}); }, "att", "divide");
  expect_error_naming([] { testing::image_model(2, 2, 4, {attention(2)}); }, "att",
                      "sequence [T, C]");
  expect_error_naming([] { sequence_model(20000, 1, {attention(1)}); }, "att", "T x T");
  expect_error_naming(
      [] { sequence_model(2, 4, {{.type = "layernorm", .name = "ln", .epsilon = -1.0f}}); }, "ln",
      "epsilon");
  expect_error_naming(
      [] { testing::image_model(2, 2, 1, {{.type = "position_embedding", .name = "pos"}}); }, "pos",
      "[T, C]");
  expect_error_naming(
      [] { sequence_model(2, 4, {{.type = "gelu", .name = "g", .layers = {{.type = "relu"}}}}); },
      "g", "only a residual");
}

}  // namespace
}  // namespace dtrain::nn
