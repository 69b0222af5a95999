#include "nn/residual.h"

namespace dtrain::nn {

Residual::Residual(std::string name, std::vector<std::unique_ptr<Layer>> layers)
    : Layer(std::move(name)), layers_(std::move(layers)) {}

Shape Residual::setup(const Shape& input, ParamArena& arena) {
  if (layers_.empty()) throw shape_error("needs at least one layer inside layers { ... }");
  Shape shape = input;
  shapes_.clear();
  for (auto& layer : layers_) {
    shape = layer->setup(shape, arena);
    shapes_.push_back(shape);
  }
  if (shape != input) {
    throw shape_error("the layers inside it turn its input " + input.to_string() + " into " +
                      shape.to_string() + "; a residual adds them, so the shapes must be equal");
  }
  outputs_.resize(layers_.size());
  grads_.resize(layers_.size());
  return input;
}

void Residual::init_params(Rng& rng) {
  for (auto& layer : layers_) layer->init_params(rng);
}

void Residual::forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) {
  const Tensor* in = &x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(*in, outputs_[i], ctx);
    in = &outputs_[i];
  }
  y.resize(x.shape());
  const float* a = x.data();
  const float* f = in->data();
  float* out = y.data();
  for (std::size_t i = 0, n = x.numel(); i < n; ++i) out[i] = a[i] + f[i];
}

void Residual::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const Tensor* g = &dy;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const Tensor& in = i == 0 ? x : outputs_[i - 1];
    layers_[i]->backward(in, outputs_[i], *g, i == 0 && !dx ? nullptr : &grads_[i]);
    g = &grads_[i];
  }
  if (!dx) return;
  // grads_[0] may be a view of dy (an inner flatten); dx is the caller's own tensor.
  dx->resize(x.shape());
  const float* a = dy.data();
  const float* f = grads_[0].data();
  float* out = dx->data();
  for (std::size_t i = 0, n = x.numel(); i < n; ++i) out[i] = a[i] + f[i];
}

std::vector<MatrixProduct> Residual::matrix_products(std::size_t batch, bool input_grad) const {
  std::vector<MatrixProduct> products;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    for (auto& p : layers_[i]->matrix_products(batch, i > 0 || input_grad)) {
      products.push_back(std::move(p));
    }
  }
  return products;
}

}  // namespace dtrain::nn
