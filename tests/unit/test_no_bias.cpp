// no_bias on dense, conv2d (both the small-K kernel and the GEMM path) and conv2d_transpose:
// no bias slot in the arena, the output of the same layer with a zero bias, and gradients
// that pass the finite-difference check.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

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

// What one forward and backward pass of a model produce: its output, the input gradient
// (when asked), and the gradient of every parameter but the biases, by slot name.
struct Pass {
  std::vector<float> y, dx;
  std::map<std::string, std::vector<float>> grads;
};

Pass run(Sequential& model, const Tensor& x, bool input_grad) {
  Pass pass;
  const Tensor& y = model.forward(x, {});
  pass.y.assign(y.data(), y.data() + y.numel());
  Tensor dy(y.shape());
  testing::fill_uniform(dy, 9);
  model.arena().zero_grads();
  model.backward(x, dy, input_grad);
  if (input_grad) {
    pass.dx.assign(model.input_grad().data(), model.input_grad().data() + x.numel());
  }
  const auto& slots = model.arena().slots();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].name.ends_with(".bias")) continue;
    const auto g = model.arena().grad(i);
    pass.grads[slots[i].name].assign(g.begin(), g.end());
  }
  return pass;
}

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b,
                      const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    differ += std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i]);
  }
  EXPECT_EQ(differ, 0u) << what << ": elements whose bits differ, of " << a.size();
}

// A conv2d without a bias runs its kernels with a null bias (nothing added, no bias sums
// accumulated); its output and gradients must be, bit for bit, those of the same layer with
// a zero bias: on the small-K kernels (filters in a tail only, and whole vector blocks plus a
// tail), on the GEMM path, fused with a max pool (first layer: the fused streaming backward;
// with the input gradient: the layers' own), and for conv2d_transpose. An all-zero input
// under all-negative weights makes every product -0.0: a kernel whose sum started from the
// first product instead of +0.0 would return -0.0 without a bias and +0.0 with a zero one.
TEST(NoBias, SameBitsAsAZeroBias) {
  auto conv = [](int filters, int kernel, int padding = 0) {
    return LayerConfig{.type = "conv2d", .filters = filters, .kernel = kernel, .padding = padding};
  };
  const LayerConfig relu{.type = "relu"}, pool{.type = "maxpool2d", .kernel = 2, .stride = 2};
  const std::vector<std::vector<LayerConfig>> models{
      {conv(3, 2)},                              // small K = 12, a tail of columns only
      {conv(37, 2)},                             // small K, whole blocks and a tail
      {conv(37, 3, 1)},                          // K = 27: GEMM
      {conv(37, 2), relu, pool},                 // small K fused with the pool
      {conv(1, 3, 1), conv(37, 3), relu, pool},  // GEMM, then the fused pair (K = 9)
      {{.type = "conv2d_transpose", .filters = 5, .kernel = 4, .stride = 2, .padding = 1}}};
  for (std::size_t m = 0; m < models.size(); ++m) {
    std::vector<LayerConfig> layers = models[m];
    auto with = build_model(ModelConfig{"with", 7, 7, 3, layers});
    for (auto& l : layers) l.no_bias = l.type.starts_with("conv");
    auto without = build_model(ModelConfig{"without", 7, 7, 3, layers});
    with->init_params(3);
    without->init_params(3);
    const auto& slots = with->arena().slots();
    for (std::size_t i = 0; i < slots.size(); ++i) {
      auto p = with->arena().param(i);
      if (slots[i].name.ends_with(".bias")) {
        std::ranges::fill(p, 0.0f);
        continue;
      }
      const auto& theirs = without->arena().slots();
      const auto j = std::ranges::find(theirs, slots[i].name, &ParamSlot::name) - theirs.begin();
      ASSERT_LT(std::size_t(j), theirs.size()) << slots[i].name;
      std::ranges::copy(p, without->arena().param(j).begin());
    }
    for (const bool zeros : {false, true}) {
      Tensor x(with->input_shape().with_batch(4));
      if (zeros) {
        std::ranges::fill(x.span(), 0.0f);
        for (Sequential* model : {with.get(), without.get()}) {
          for (std::size_t i = 0; i < model->arena().slots().size(); ++i) {
            if (model->arena().slots()[i].name.ends_with(".bias")) continue;  // stays +0.0
            for (float& w : model->arena().param(i)) w = -std::abs(w);
          }
        }
      } else {
        testing::fill_uniform(x, 4);
      }
      for (const bool input_grad : {false, true}) {
        const std::string what = "model " + std::to_string(m) + (zeros ? " zero input" : "") +
                                 (input_grad ? " with dx" : "");
        const Pass a = run(*with, x, input_grad), b = run(*without, x, input_grad);
        expect_same_bits(a.y, b.y, what + ": output");
        expect_same_bits(a.dx, b.dx, what + ": input gradient");
        ASSERT_EQ(a.grads.size(), b.grads.size()) << what;
        for (const auto& [name, grad] : a.grads) {
          expect_same_bits(grad, b.grads.at(name), what + ": " + name);
        }
      }
    }
  }
}

}  // namespace
}  // namespace dtrain::nn
