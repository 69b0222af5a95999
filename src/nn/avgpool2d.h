#pragma once
#include "nn/pool2d.h"

namespace dtrain::nn {

// Average pooling over NHWC images: each output is the mean of a kernel x kernel window
// (no padding, so always K*K values); windows that would hang over the edge are dropped
// as in MaxPool2D. Backward spreads each output's gradient / (K*K) over its window.
// Cost: K*K adds per output element in each pass.
class AvgPool2D final : public Pool2D {
 public:
  AvgPool2D(std::string name, int kernel, int stride);  // stride <= 0: kernel
  std::string type() const override { return "avgpool2d"; }
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
};

}  // namespace dtrain::nn
