#include "nn/position_embedding.h"

#include <algorithm>

namespace dtrain::nn {

Shape PositionEmbedding::setup(const Shape& input, ParamArena& arena) {
  if (input.rank() != 2 || input.numel() == 0) {
    throw shape_error("expects a sequence [T, C] per sample (after an embedding), got " +
                      input.to_string());
  }
  size_ = input.numel();
  arena_ = &arena;
  weight_slot_ = arena.declare(name() + ".weight", input);
  return input;
}

// The range of dtrain's embedding (nn/embedding.cpp).
void PositionEmbedding::init_params(Rng& rng) {
  for (float& w : arena_->param(weight_slot_)) w = rng.uniform(-0.05f, 0.05f);
}

void PositionEmbedding::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  y.resize(x.shape());
  const float* p = arena_->param(weight_slot_).data();
  const std::size_t batch = x.shape()[0];
  for (std::size_t b = 0; b < batch; ++b) {
    const float* in = x.data() + b * size_;
    float* out = y.data() + b * size_;
    for (std::size_t i = 0; i < size_; ++i) out[i] = in[i] + p[i];
  }
}

void PositionEmbedding::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  float* dp = arena_->grad(weight_slot_).data();
  const std::size_t batch = x.shape()[0];
  for (std::size_t b = 0; b < batch; ++b) {
    const float* g = dy.data() + b * size_;
    for (std::size_t i = 0; i < size_; ++i) dp[i] += g[i];
  }
  if (dx) {
    dx->resize(x.shape());
    std::copy_n(dy.data(), dy.numel(), dx->data());
  }
}

}  // namespace dtrain::nn
