#pragma once
#include "nn/layer.h"

namespace dtrain::nn {

// Nearest-neighbour upsampling of NHWC images by an integer factor s:
// y[h, w, c] = x[h / s, w / s, c], so [H, W, C] -> [H*s, W*s, C]. Backward sums the
// gradients of the s*s copies of each input pixel. Both passes touch each output once.
class Upsample final : public Layer {
 public:
  Upsample(std::string name, int scale);
  std::string type() const override { return "upsample"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  int scale_;
  int height_ = 0, width_ = 0, channels_ = 0;
};

}  // namespace dtrain::nn
