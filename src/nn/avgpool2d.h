#pragma once
#include "nn/layer.h"

namespace dtrain::nn {

// Average pooling over NHWC images: each output is the mean of a kernel x kernel window
// (no padding, so always K*K values); windows that would hang over the edge are dropped
// as in MaxPool2D. Backward spreads each output's gradient / (K*K) over its window.
// Cost: K*K adds per output element in each pass.
class AvgPool2D final : public Layer {
 public:
  AvgPool2D(std::string name, int kernel, int stride);  // stride <= 0: kernel
  std::string type() const override { return "avgpool2d"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  int kernel_, stride_;
  int height_ = 0, width_ = 0, channels_ = 0, out_height_ = 0, out_width_ = 0;
};

}  // namespace dtrain::nn
