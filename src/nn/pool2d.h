#pragma once
// What max and average pooling share: a kernel x kernel window moved by stride over an NHWC
// image, no padding; windows that would hang over the edge are dropped (floor), as in Keras
// and PyTorch. The subclasses supply the reduction over a window.
#include "nn/layer.h"

namespace dtrain::nn {

class Pool2D : public Layer {
 public:
  // Checks the kernel and the input and fixes the output grid; no parameters.
  Shape setup(const Shape& input, ParamArena& arena) override;

 protected:
  Pool2D(std::string name, int kernel, int stride)  // stride <= 0: kernel
      : Layer(std::move(name)), kernel_(kernel), stride_(stride > 0 ? stride : kernel) {}

  int kernel_, stride_;
  int height_ = 0, width_ = 0, channels_ = 0, out_height_ = 0, out_width_ = 0;
};

}  // namespace dtrain::nn
