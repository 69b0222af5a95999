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

  // The ReLU that follows this layer runs inside it (Sequential absorbs it): forward clamps
  // each window's maximum at zero in the same pass that finds it, and backward routes only
  // the gradients of positive outputs, so the activations and gradients are made and read
  // once instead of twice. relu(max(w)) == max(relu(w)) with the same first-maximum choice,
  // and the gradient keeps the unfused bits (see backward).
  void fuse_relu(bool enabled) { fused_relu_ = enabled; }
  bool fused_relu() const { return fused_relu_; }

 private:
  friend class ConvMaxPool;  // runs this layer fused with the conv before it
  void backward_tiled(const float* dy, const float* y, float* dx, std::size_t batch) const;
  void backward_scatter(const float* dy, const float* y, float* dx, std::size_t batch) const;

  std::vector<std::uint32_t> argmax_;  // per output element: offset within its input sample
  std::vector<std::uint8_t> route_;    // the same when fused with its conv (small_k_maxpool.h)
  bool fused_relu_ = false;
};

}  // namespace dtrain::nn
