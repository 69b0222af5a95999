#pragma once
#include "nn/layer.h"

namespace dtrain::nn {

enum class ActivationKind { kRelu, kLeakyRelu, kSigmoid, kTanh, kGelu };

// Elementwise activations. The backward pass reads the saved output where the derivative
// is a function of it (relu, sigmoid, tanh), so no extra buffer is kept. gelu is the tanh
// form GPT-2 uses (PyTorch's GELU(approximate="tanh")):
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); its backward reads x.
class Activation final : public Layer {
 public:
  Activation(std::string name, ActivationKind kind, float alpha = 0.01f);
  std::string type() const override;
  Shape setup(const Shape& input, ParamArena& arena) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  ActivationKind kind_;
  float alpha_;  // leaky_relu slope for negative inputs
};

// Reshapes [batch, d1, d2, ...] to [batch, d1*d2*...]. Output and input gradient are views
// (no copy): layers only read their input and their output gradient.
class Flatten final : public Layer {
 public:
  explicit Flatten(std::string name) : Layer(std::move(name)) {}
  std::string type() const override { return "flatten"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  std::size_t features_ = 0;
};

}  // namespace dtrain::nn
