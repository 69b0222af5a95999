#pragma once
#include "nn/layer.h"

namespace dtrain::nn {

// Global average pooling: the mean of each channel over all pixels, [H, W, C] -> [C].
// Backward gives every pixel of a channel that channel's gradient / (H*W).
class GlobalAvgPool final : public Layer {
 public:
  explicit GlobalAvgPool(std::string name) : Layer(std::move(name)) {}
  std::string type() const override { return "global_avgpool"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  std::size_t pixels_ = 0, channels_ = 0;
};

}  // namespace dtrain::nn
