// Embedding: rows picked by hand-checked ids, the weight gradient by finite differences
// (parameters only: ids must stay integers), repeated ids accumulating, bad ids and bad
// options refused naming the layer.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/errors.h"
#include "nn/model_config.h"
#include "testing/gradient_check.h"

namespace dtrain::nn {
namespace {

using tensor::Tensor;

// Input [steps, 1, 1] per sample (a ModelSpec's height x width x channels), then layers.
std::unique_ptr<Sequential> make_text_model(int steps, std::vector<LayerConfig> layers,
                                            std::uint64_t seed = 1) {
  auto model = build_model({"test", steps, 1, 1, std::move(layers)});
  model->init_params(seed);
  return model;
}

Tensor ids(std::size_t batch, std::size_t steps, const std::vector<float>& values) {
  Tensor x(Shape{batch, steps, 1, 1});
  for (std::size_t i = 0; i < values.size(); ++i) x[i] = values[i];
  return x;
}

TEST(Embedding, ShapesAndSmallUniformInit) {
  auto model = make_text_model(3, {{.type = "embedding", .name = "e", .units = 4, .vocab = 7}});
  EXPECT_EQ(model->output_shape(), (Shape{3, 4}));
  ASSERT_EQ(model->arena().slots().size(), 1u);
  EXPECT_EQ(model->arena().slots()[0].name, "e.weight");
  EXPECT_EQ(model->arena().slots()[0].shape, (Shape{7, 4}));
  const auto w = model->arena().param(0);
  float lo = 1, hi = -1;
  for (float v : w) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, -0.05f);
  EXPECT_LE(hi, 0.05f);
  EXPECT_LT(lo, hi);  // drawn, not constant
  // [T] and [T, 1] per sample are taken too.
  auto flat = build_model(
      {"test",
       1,
       1,
       1,
       {{.type = "reshape", .shape = {1}}, {.type = "embedding", .units = 2, .vocab = 3}}});
  EXPECT_EQ(flat->output_shape(), (Shape{1, 2}));
}

TEST(Embedding, ForwardPicksRows) {
  auto model = make_text_model(3, {{.type = "embedding", .name = "e", .units = 3, .vocab = 4}});
  auto w = model->arena().param(0);
  for (int v = 0; v < 4; ++v)
    for (int j = 0; j < 3; ++j) w[v * 3 + j] = 10.0f * v + j;
  const Tensor x = ids(2, 3, {2, 0, 3, 1, 1, 2});
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{2, 3, 3}));
  for (std::size_t p = 0; p < 6; ++p)
    for (std::size_t j = 0; j < 3; ++j)
      EXPECT_EQ(y[p * 3 + j], 10.0f * x[p] + float(j)) << p << "," << j;
}

TEST(Embedding, RepeatedIdsAccumulateIntoTheirRow) {
  auto model = make_text_model(4, {{.type = "embedding", .units = 2, .vocab = 4}});
  const Tensor x = ids(1, 4, {1, 1, 3, 1});
  model->forward(x, {});
  Tensor dy(Shape{1, 4, 2});
  const float g[] = {1, 2, 10, 20, 100, 200, 1000, 2000};
  for (int i = 0; i < 8; ++i) dy[i] = g[i];
  model->arena().zero_grads();
  model->backward(x, dy);
  const float expected[] = {0, 0, 1011, 2022, 0, 0, 100, 200};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(model->arena().grads()[i], expected[i]) << i;
  model->backward(x, dy);  // parameter gradients add up over calls
  for (int i = 0; i < 8; ++i) EXPECT_EQ(model->arena().grads()[i], 2 * expected[i]) << i;
}

TEST(Embedding, WeightGradientMatchesFiniteDifferences) {
  // Through an LSTM, so the weight's gradient depends on the weight itself.
  auto model = make_text_model(
      5, {{.type = "embedding", .units = 3, .vocab = 6}, {.type = "lstm", .units = 4}}, 2);
  for (float& w : model->arena().param(0)) w *= 20.0f;  // rows of order one
  testing::expect_param_gradients_match(*model, ids(2, 5, {0, 5, 2, 2, 4, 1, 3, 5, 0, 0}));
}

TEST(Embedding, InputGradientIsZeros) {
  // Not the first layer (after a reshape), so an input gradient is asked for.
  auto model = build_model(
      {"test",
       3,
       1,
       1,
       {{.type = "reshape", .shape = {3}}, {.type = "embedding", .units = 2, .vocab = 5}}});
  model->init_params(3);
  const Tensor x = ids(2, 3, {4, 0, 1, 2, 3, 4});
  model->forward(x, {});
  Tensor dy(Shape{2, 3, 2});
  testing::fill_uniform(dy, 5);
  model->backward(x, dy, /*need_input_grad=*/true);
  ASSERT_EQ(model->input_grad().shape(), x.shape());
  for (float v : model->input_grad().span()) EXPECT_EQ(v, 0.0f);
}

TEST(Embedding, BadIdsAreRefusedNamingLayerIdAndVocab) {
  auto model = make_text_model(2, {{.type = "embedding", .name = "chars", .units = 2, .vocab = 4}});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const float bad : {4.0f, -1.0f, 1.5f, 1e9f, nan}) {
    try {
      model->forward(ids(1, 2, {0, bad}), {});
      FAIL() << "id " << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("'chars'"), std::string::npos) << msg;
      EXPECT_NE(msg.find("[0, 4)"), std::string::npos) << msg;
      EXPECT_NE(msg.find("at position 1"), std::string::npos) << msg;
      if (bad == 4.0f) {
        EXPECT_NE(msg.find("token id 4 "), std::string::npos) << msg;
      }
      if (bad == 1.5f) {
        EXPECT_NE(msg.find("token id 1.5 "), std::string::npos) << msg;
      }
    }
  }
  // The largest id is fine.
  EXPECT_NO_THROW(model->forward(ids(1, 2, {3, 0}), {}));
}

TEST(Embedding, BadOptionsAndShapesNameTheLayer) {
  auto expect_error = [](int height, int width, LayerConfig c, const std::string& what) {
    try {
      build_model({"test", height, width, 1, {c}});
      FAIL() << "expected ModelError for " << what;
    } catch (const ModelError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("'emb'"), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  };
  expect_error(3, 1, {.type = "embedding", .name = "emb", .units = 2}, "vocab");
  expect_error(3, 1, {.type = "embedding", .name = "emb", .vocab = 5}, "units");
  expect_error(3, 2, {.type = "embedding", .name = "emb", .units = 2, .vocab = 5}, "[T]");
}

}  // namespace
}  // namespace dtrain::nn
