#include "nn/dense.h"

#include <algorithm>
#include <vector>

#include "tensor/blas.h"

namespace dtrain::nn {

using tensor::gemm;
using tensor::Trans;

Dense::Dense(std::string name, int units, InitScheme init, bool per_step, bool bias)
    : Layer(std::move(name)), units_(units), init_(init), per_step_(per_step), bias_(bias) {}

Shape Dense::setup(const Shape& input, ParamArena& arena) {
  if (units_ <= 0) throw shape_error("units must be positive, got " + std::to_string(units_));
  if (per_step_) {
    if (input.rank() < 2 || input.numel() == 0) {
      throw shape_error("per_step expects a sequence [T, features] per sample, got " +
                        input.to_string());
    }
    inputs_ = static_cast<int>(input[input.rank() - 1]);
    steps_ = static_cast<int>(input.numel() / std::size_t(inputs_));
    std::vector<std::size_t> dims = input.dims();
    dims.back() = std::size_t(units_);
    output_ = Shape(std::move(dims));
  } else {
    if (input.rank() != 1) {
      throw shape_error(
          "expects a flat input (add a flatten layer before it, or set per_step for one "
          "output per time step), got " +
          input.to_string());
    }
    inputs_ = static_cast<int>(input[0]);
    output_ = Shape{std::size_t(units_)};
  }
  arena_ = &arena;
  weight_slot_ =
      arena.declare(name() + ".weight", Shape{std::size_t(units_), std::size_t(inputs_)});
  if (bias_) bias_slot_ = arena.declare(name() + ".bias", Shape{std::size_t(units_)});
  return output_;
}

void Dense::init_params(Rng& rng) {
  init_weights(init_, arena_->param(weight_slot_), inputs_, units_, rng);
}

// `batch` below counts GEMM rows: samples times steps_ (1 unless per_step).
void Dense::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const int batch = static_cast<int>(x.shape()[0]) * steps_;
  y.resize(output_.with_batch(x.shape()[0]));
  const float* w = arena_->param(weight_slot_).data();
  if (bias_) {
    // Start from the bias in every row and let the GEMM accumulate onto it.
    const float* b = arena_->param(bias_slot_).data();
    for (int i = 0; i < batch; ++i) std::copy_n(b, units_, y.data() + std::size_t(i) * units_);
  }
  gemm(Trans::kNo, Trans::kYes, batch, units_, inputs_, 1.0f, x.data(), inputs_, w, inputs_,
       bias_ ? 1.0f : 0.0f, y.data(), units_);
}

// The three GEMMs of forward() and backward() below, over batch * steps_ rows.
std::vector<MatrixProduct> Dense::matrix_products(std::size_t batch, bool input_grad) const {
  const int rows = static_cast<int>(batch) * steps_;
  std::vector<MatrixProduct> products{
      {Pass::kForward, "forward", {Trans::kNo, Trans::kYes, rows, units_, inputs_, bias_}},
      {Pass::kBackward, "weight grad", {Trans::kYes, Trans::kNo, units_, inputs_, rows, true}}};
  if (input_grad) {
    products.push_back(
        {Pass::kBackward, "input grad", {Trans::kNo, Trans::kNo, rows, inputs_, units_, false}});
  }
  return products;
}

void Dense::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const int batch = static_cast<int>(x.shape()[0]) * steps_;
  float* dw = arena_->grad(weight_slot_).data();
  gemm(Trans::kYes, Trans::kNo, units_, inputs_, batch, 1.0f, dy.data(), units_, x.data(), inputs_,
       1.0f, dw, inputs_);
  if (bias_) {
    float* db = arena_->grad(bias_slot_).data();
    for (int i = 0; i < batch; ++i) {
      const float* row = dy.data() + std::size_t(i) * units_;
      for (int j = 0; j < units_; ++j) db[j] += row[j];
    }
  }
  if (dx) {
    dx->resize(x.shape());
    gemm(Trans::kNo, Trans::kNo, batch, inputs_, units_, 1.0f, dy.data(), units_,
         arena_->param(weight_slot_).data(), inputs_, 0.0f, dx->data(), inputs_);
  }
}

}  // namespace dtrain::nn
