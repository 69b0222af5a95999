#pragma once
#include <vector>

#include "nn/layer.h"

namespace dtrain::nn {

// Gives each sample another shape with the same number of elements, e.g. a 28x28x1 image
// as 28 time steps of 28 features. Output and input gradient are views (no copy), as for
// Flatten.
class Reshape final : public Layer {
 public:
  Reshape(std::string name, std::vector<int> shape)
      : Layer(std::move(name)), target_(std::move(shape)) {}
  std::string type() const override { return "reshape"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  std::vector<int> target_;
  Shape output_;
};

}  // namespace dtrain::nn
