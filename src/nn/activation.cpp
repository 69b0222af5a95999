#include "nn/activation.h"

#include <algorithm>
#include <cmath>

#include "tensor/vector_math.h"

namespace dtrain::nn {

namespace {

constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float kGeluCubic = 0.044715f;

}  // namespace

Activation::Activation(std::string name, ActivationKind kind, float alpha)
    : Layer(std::move(name)), kind_(kind), alpha_(alpha) {}

std::string Activation::type() const {
  switch (kind_) {
    case ActivationKind::kRelu:
      return "relu";
    case ActivationKind::kLeakyRelu:
      return "leaky_relu";
    case ActivationKind::kSigmoid:
      return "sigmoid";
    case ActivationKind::kTanh:
      return "tanh";
    case ActivationKind::kGelu:
      return "gelu";
  }
  return "activation";
}

Shape Activation::setup(const Shape& input, ParamArena&) {
  return input;
}

void Activation::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  y.resize(x.shape());
  const float* in = x.data();
  float* out = y.data();
  const std::size_t n = x.numel();
  switch (kind_) {
    case ActivationKind::kRelu:
      for (std::size_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
      break;
    case ActivationKind::kLeakyRelu: {
      // alpha in a local: out may alias the member as far as the compiler knows, which kept
      // the loop scalar with a reload per value (the DCGAN's two leaky relus took 27% of its
      // step).
      const float alpha = alpha_;
      for (std::size_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : alpha * in[i];
      break;
    }
    case ActivationKind::kSigmoid:
      tensor::sigmoid_values(in, out, n);
      break;
    case ActivationKind::kTanh:
      tensor::tanh_values(in, out, n);
      break;
    case ActivationKind::kGelu:
      for (std::size_t i = 0; i < n; ++i) {
        const float v = in[i];
        out[i] = 0.5f * v * (1.0f + std::tanh(kGeluScale * (v + kGeluCubic * v * v * v)));
      }
      break;
  }
}

void Activation::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  const float* in = x.data();
  const float* out = y.data();
  const float* d = dy.data();
  float* g = dx->data();
  const std::size_t n = x.numel();
  switch (kind_) {
    case ActivationKind::kRelu:
      for (std::size_t i = 0; i < n; ++i) g[i] = out[i] > 0.0f ? d[i] : 0.0f;
      break;
    case ActivationKind::kLeakyRelu: {
      const float alpha = alpha_;  // a local, as in forward
      for (std::size_t i = 0; i < n; ++i) g[i] = in[i] > 0.0f ? d[i] : alpha * d[i];
      break;
    }
    case ActivationKind::kSigmoid:
      for (std::size_t i = 0; i < n; ++i) g[i] = d[i] * out[i] * (1.0f - out[i]);
      break;
    case ActivationKind::kTanh:
      for (std::size_t i = 0; i < n; ++i) g[i] = d[i] * (1.0f - out[i] * out[i]);
      break;
    case ActivationKind::kGelu:
      // d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2), t = tanh(...).
      for (std::size_t i = 0; i < n; ++i) {
        const float v = in[i];
        const float t = std::tanh(kGeluScale * (v + kGeluCubic * v * v * v));
        const float dt = kGeluScale * (1.0f + 3.0f * kGeluCubic * v * v);
        g[i] = d[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * dt);
      }
      break;
  }
}

Shape Flatten::setup(const Shape& input, ParamArena&) {
  features_ = input.numel();
  return Shape{features_};
}

void Flatten::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  y.view_of(x, Shape{x.shape()[0], features_});
}

void Flatten::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (dx) dx->view_of(dy, x.shape());
}

}  // namespace dtrain::nn
