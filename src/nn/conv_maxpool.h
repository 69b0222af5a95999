#pragma once
// A conv2d whose product runs in the small-K kernels, followed by a maxpool2d whose windows
// tile its output (stride = kernel), with the relu the pool may have absorbed: one pass
// forward and one backward (tensor/small_k_maxpool.h), so the convolution's full-size
// output and its gradient are never stored. Sequential decides when to fuse; the layers
// keep their parameters and names, so checkpoints and export see nothing different; the
// pool keeps the fused pass's one-byte route beside its own argmax.
#include "nn/conv2d.h"
#include "nn/maxpool2d.h"

namespace dtrain::nn {

class ConvMaxPool {
 public:
  static bool fusable(const Conv2D& conv, const MaxPool2D& pool);
  // y: the pool's output (with its relu when fused_relu()).
  static void forward(Conv2D& conv, MaxPool2D& pool, const Tensor& x, Tensor& y);
  // dy: the gradient w.r.t. y. With dx (the conv is not first, or its input gradient is
  // wanted) the convolution's output gradient is needed in full anyway: conv_grad holds it
  // and the layers' own backward passes run.
  static void backward(Conv2D& conv, MaxPool2D& pool, const Tensor& x, const Tensor& dy, Tensor* dx,
                       Tensor& conv_grad);
};

}  // namespace dtrain::nn
