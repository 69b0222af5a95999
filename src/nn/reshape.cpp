#include "nn/reshape.h"

namespace dtrain::nn {

Shape Reshape::setup(const Shape& input, ParamArena&) {
  std::vector<std::size_t> dims;
  std::string wanted;
  for (int d : target_) {
    wanted += (wanted.empty() ? "" : ", ") + std::to_string(d);
    dims.push_back(d > 0 ? std::size_t(d) : 0);
  }
  wanted = "[" + wanted + "]";
  if (target_.empty()) throw shape_error("needs a target shape (the spec's `shape` field)");
  for (int d : target_) {
    if (d <= 0) throw shape_error("shape dimensions must be positive, got " + wanted);
  }
  output_ = Shape(std::move(dims));
  if (output_.numel() != input.numel()) {
    throw shape_error("cannot reshape " + input.to_string() + " (" + std::to_string(input.numel()) +
                      " elements) to " + wanted + " (" + std::to_string(output_.numel()) +
                      " elements)");
  }
  return output_;
}

void Reshape::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  y.view_of(x, output_.with_batch(x.shape()[0]));
}

void Reshape::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (dx) dx->view_of(dy, x.shape());
}

}  // namespace dtrain::nn
