#pragma once
#include "nn/layer.h"

namespace dtrain::nn {

// Layer normalization (Ba et al. 2016; PyTorch's LayerNorm over the last dimension): each
// row of the last dimension (one position of a sequence [T, C], one pixel of an image
// [H, W, C], or a flat sample [C]) is normalized by its own mean and biased variance, then
// scaled by weight (gamma, from 1) and shifted by bias (beta, from 0), both [C]. No
// running statistics: training and evaluation compute the same thing, and every rank's
// rows are independent of the batch.
//
// Backward recomputes each row's mean and 1/sigma from x (O(C) per row, cheaper than
// keeping them across calls) and uses dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) /
// sigma with dxhat = dy gamma. No GEMM.
class LayerNorm final : public Layer {
 public:
  static constexpr float kDefaultEpsilon = 1e-5f;
  LayerNorm(std::string name, float epsilon);
  std::string type() const override { return "layernorm"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  float epsilon_;
  std::size_t features_ = 0;
  ParamArena* arena_ = nullptr;
  std::size_t weight_slot_ = 0, bias_slot_ = 0;
};

}  // namespace dtrain::nn
