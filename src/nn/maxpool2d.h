#pragma once
#include <cstdint>
#include <vector>

#include "nn/pool2d.h"

namespace dtrain::nn {

// Max pooling over NHWC images. Channels are contiguous, so each window position is a
// vectorizable compare across channels (the NCHW layout was PyTorch's slowest part here).
class MaxPool2D final : public Pool2D {
 public:
  MaxPool2D(std::string name, int kernel, int stride);
  std::string type() const override { return "maxpool2d"; }
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  std::vector<std::uint32_t> argmax_;  // per output element: offset within its input sample
};

}  // namespace dtrain::nn
