#include "nn/conv2d.h"

#include <algorithm>

#include "nn/conv_geometry.h"
#include "tensor/blas.h"
#include "tensor/small_k.h"

namespace dtrain::nn {

using tensor::gemm;
using tensor::Trans;

Conv2D::Conv2D(std::string name, int filters, int kernel, int stride, int padding, InitScheme init,
               bool bias)
    : Layer(std::move(name)), filters_(filters), init_(init), bias_(bias) {
  geometry_.kernel = kernel;
  geometry_.stride = stride;
  geometry_.padding = padding;
}

Shape Conv2D::setup(const Shape& input, ParamArena& arena) {
  auto& g = geometry_;
  const std::string error = setup_conv_geometry(ConvDirection::kForward, filters_, 0, input, g);
  if (!error.empty()) throw shape_error(error);
  arena_ = &arena;
  weight_slot_ =
      arena.declare(name() + ".weight", Shape{std::size_t(filters_), std::size_t(g.patch_size())});
  if (bias_) bias_slot_ = arena.declare(name() + ".bias", Shape{std::size_t(filters_)});
  return Shape{std::size_t(g.out_height()), std::size_t(g.out_width()), std::size_t(filters_)};
}

void Conv2D::init_params(Rng& rng) {
  const int receptive = geometry_.kernel * geometry_.kernel;
  init_weights(init_, arena_->param(weight_slot_), receptive * geometry_.channels,
               receptive * filters_, rng);
}

void Conv2D::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const auto& g = geometry_;
  const int batch = static_cast<int>(x.shape()[0]);
  const int rows = batch * g.patches();
  cols_.resize(Shape{std::size_t(rows), std::size_t(g.patch_size())});
  tensor::im2col(g, batch, x.data(), cols_.data());
  y.resize(Shape{std::size_t(batch), std::size_t(g.out_height()), std::size_t(g.out_width()),
                 std::size_t(filters_)});
  const float* w = arena_->param(weight_slot_).data();
  const float* __restrict b = bias_ ? arena_->param(bias_slot_).data() : nullptr;
  if (uses_small_k()) {
    tensor::small_k_forward(rows, filters_, g.patch_size(), cols_.data(), w, b, y.data());
    return;
  }
  gemm(Trans::kNo, Trans::kYes, rows, filters_, g.patch_size(), 1.0f, cols_.data(), g.patch_size(),
       w, g.patch_size(), 0.0f, y.data(), filters_);
  if (!bias_) return;
  float* __restrict out = y.data();
  for (int r = 0; r < rows; ++r, out += filters_) {
    for (int f = 0; f < filters_; ++f) out[f] += b[f];
  }
}

// forward() and backward() below: the im2col GEMM, the weight gradient and the input
// gradient over batch * patches rows; the first two run in the small-K kernels when
// uses_small_k(), the input gradient always through sgemm.
std::vector<MatrixProduct> Conv2D::matrix_products(std::size_t batch, bool input_grad) const {
  const auto& g = geometry_;
  const int rows = static_cast<int>(batch) * g.patches();
  const bool blas = !uses_small_k();
  std::vector<MatrixProduct> products{
      {Pass::kForward,
       "forward",
       {Trans::kNo, Trans::kYes, rows, filters_, g.patch_size(), false},
       1,
       blas},
      {Pass::kBackward,
       "weight grad",
       {Trans::kYes, Trans::kNo, filters_, g.patch_size(), rows, true},
       1,
       blas}};
  if (input_grad) {
    products.push_back({Pass::kBackward,
                        "input grad",
                        {Trans::kNo, Trans::kNo, rows, g.patch_size(), filters_, false}});
  }
  return products;
}

void Conv2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const auto& g = geometry_;
  const int batch = static_cast<int>(x.shape()[0]);
  const int rows = batch * g.patches();
  float* dw = arena_->grad(weight_slot_).data();
  float* db = bias_ ? arena_->grad(bias_slot_).data() : nullptr;
  if (uses_small_k()) {
    tensor::small_k_backward(rows, filters_, g.patch_size(), dy.data(), cols_.data(), dw, db,
                             g.patches());
  } else {
    gemm(Trans::kYes, Trans::kNo, filters_, g.patch_size(), rows, 1.0f, dy.data(), filters_,
         cols_.data(), g.patch_size(), 1.0f, dw, g.patch_size());
    for (int r = 0; r < rows && bias_; ++r) {
      const float* row = dy.data() + std::size_t(r) * filters_;
      for (int f = 0; f < filters_; ++f) db[f] += row[f];
    }
  }
  if (dx) {
    cols_grad_.resize(cols_.shape());
    gemm(Trans::kNo, Trans::kNo, rows, g.patch_size(), filters_, 1.0f, dy.data(), filters_,
         arena_->param(weight_slot_).data(), g.patch_size(), 0.0f, cols_grad_.data(),
         g.patch_size());
    dx->resize(x.shape());
    tensor::col2im(g, batch, cols_grad_.data(), dx->data());
  }
}

}  // namespace dtrain::nn
