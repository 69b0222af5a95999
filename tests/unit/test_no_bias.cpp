// no_bias on dense, conv2d (both the small-K kernel and the GEMM path) and conv2d_transpose:
// no bias slot in the arena, the output of the same layer with a zero bias, and gradients
// that pass the finite-difference check.
#include <gtest/gtest.h>

#include "nn/model_config.h"
#include "testing/gradient_check.h"

namespace dtrain::nn {
namespace {

using tensor::Tensor;

std::unique_ptr<Sequential> make(int h, int w, int c, LayerConfig layer) {
  std::vector<LayerConfig> layers;
  if (layer.type == "dense") layers.push_back({.type = "flatten"});
  layers.push_back(layer);
  auto model = build_model(ModelConfig{"test", h, w, c, layers});
  model->init_params(3);
  return model;
}

std::vector<LayerConfig> cases() {
  return {{.type = "dense", .units = 4},
          {.type = "conv2d", .filters = 3, .kernel = 2},                // small K
          {.type = "conv2d", .filters = 3, .kernel = 3, .padding = 1},  // K = 27: GEMM
          {.type = "conv2d_transpose", .filters = 2, .kernel = 4, .stride = 2, .padding = 1}};
}

TEST(NoBias, NoBiasSlotAndTheOutputOfAZeroBias) {
  for (LayerConfig c : cases()) {
    auto with = make(4, 4, 3, c);
    c.no_bias = true;
    auto without = make(4, 4, 3, c);
    for (const auto& slot : without->arena().slots()) {
      EXPECT_FALSE(slot.name.ends_with(".bias")) << c.type << ": " << slot.name;
    }
    // The same weights (drawn first from the same stream), the bias zeroed.
    const auto& slots = with->arena().slots();
    for (std::size_t i = 0; i < slots.size(); ++i) {
      auto p = with->arena().param(i);
      if (slots[i].name.ends_with(".bias")) std::ranges::fill(p, 0.0f);
    }
    ASSERT_EQ(with->arena().param(0).size(), without->arena().param(0).size());
    std::ranges::copy(with->arena().param(0), without->arena().param(0).begin());
    Tensor x(with->input_shape().with_batch(2));
    testing::fill_uniform(x, 4);
    const Tensor& a = with->forward(x, {});
    const Tensor& b = without->forward(x, {});
    ASSERT_EQ(a.numel(), b.numel());
    for (std::size_t i = 0; i < a.numel(); ++i) EXPECT_FLOAT_EQ(a[i], b[i]) << c.type << " " << i;
  }
}

TEST(NoBias, GradientCheck) {
  for (LayerConfig c : cases()) {
    c.no_bias = true;
    auto model = make(4, 4, 3, c);
    Tensor x(model->input_shape().with_batch(3));
    testing::fill_uniform(x, 5);
    SCOPED_TRACE(c.type);
    testing::expect_gradients_match(*model, x);
  }
}

}  // namespace
}  // namespace dtrain::nn
