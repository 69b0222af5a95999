#include "nn/conv2d_transpose.h"

#include "nn/conv_geometry.h"
#include "tensor/blas.h"

namespace dtrain::nn {

using tensor::gemm;
using tensor::Trans;

Conv2DTranspose::Conv2DTranspose(std::string name, int filters, int kernel, int stride, int padding,
                                 int output_padding, InitScheme init, bool bias)
    : Layer(std::move(name)),
      filters_(filters),
      output_padding_(output_padding),
      init_(init),
      bias_(bias) {
  geometry_.kernel = kernel;
  geometry_.stride = stride;
  geometry_.padding = padding;
}

Shape Conv2DTranspose::setup(const Shape& input, ParamArena& arena) {
  auto& g = geometry_;
  const std::string error =
      setup_conv_geometry(ConvDirection::kTranspose, filters_, output_padding_, input, g);
  if (!error.empty()) throw shape_error(error);
  in_channels_ = static_cast<int>(input[2]);
  arena_ = &arena;
  weight_slot_ = arena.declare(name() + ".weight",
                               Shape{std::size_t(in_channels_), std::size_t(g.patch_size())});
  if (bias_) bias_slot_ = arena.declare(name() + ".bias", Shape{std::size_t(filters_)});
  return Shape{std::size_t(g.height), std::size_t(g.width), std::size_t(filters_)};
}

void Conv2DTranspose::init_params(Rng& rng) {
  const int receptive = geometry_.kernel * geometry_.kernel;
  init_weights(init_, arena_->param(weight_slot_), receptive * filters_, receptive * in_channels_,
               rng);
}

void Conv2DTranspose::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const auto& g = geometry_;
  const int batch = static_cast<int>(x.shape()[0]);
  const int rows = batch * g.patches();
  const int cols = g.patch_size();
  cols_.resize(Shape{std::size_t(rows), std::size_t(cols)});
  gemm(Trans::kNo, Trans::kNo, rows, cols, in_channels_, 1.0f, x.data(), in_channels_,
       arena_->param(weight_slot_).data(), cols, 0.0f, cols_.data(), cols);
  y.resize(Shape{std::size_t(batch), std::size_t(g.height), std::size_t(g.width),
                 std::size_t(filters_)});
  tensor::col2im(g, batch, cols_.data(), y.data());
  if (!bias_) return;
  const float* __restrict b = arena_->param(bias_slot_).data();
  float* __restrict out = y.data();
  const std::size_t pixels = std::size_t(batch) * g.height * g.width;
  for (std::size_t p = 0; p < pixels; ++p, out += filters_) {
    for (int f = 0; f < filters_; ++f) out[f] += b[f];
  }
}

// forward(): one GEMM onto the columns; backward(): the weight gradient and the input
// gradient against im2col(dy), all over batch * H * W rows (the input's pixels).
std::vector<MatrixProduct> Conv2DTranspose::matrix_products(std::size_t batch,
                                                            bool input_grad) const {
  const int rows = static_cast<int>(batch) * geometry_.patches();
  const int cols = geometry_.patch_size();
  std::vector<MatrixProduct> products{
      {Pass::kForward, "forward", {Trans::kNo, Trans::kNo, rows, cols, in_channels_, false}},
      {Pass::kBackward, "weight grad", {Trans::kYes, Trans::kNo, in_channels_, cols, rows, true}}};
  if (input_grad) {
    products.push_back({Pass::kBackward,
                        "input grad",
                        {Trans::kNo, Trans::kYes, rows, in_channels_, cols, false}});
  }
  return products;
}

void Conv2DTranspose::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const auto& g = geometry_;
  const int batch = static_cast<int>(x.shape()[0]);
  const int rows = batch * g.patches();
  const int cols = g.patch_size();
  if (bias_) {
    float* __restrict db = arena_->grad(bias_slot_).data();
    const float* __restrict d = dy.data();
    const std::size_t pixels = std::size_t(batch) * g.height * g.width;
    for (std::size_t p = 0; p < pixels; ++p, d += filters_) {
      for (int f = 0; f < filters_; ++f) db[f] += d[f];
    }
  }
  // The columns of forward are not needed any more: reuse the buffer for im2col(dy).
  cols_.resize(Shape{std::size_t(rows), std::size_t(cols)});
  tensor::im2col(g, batch, dy.data(), cols_.data());
  gemm(Trans::kYes, Trans::kNo, in_channels_, cols, rows, 1.0f, x.data(), in_channels_,
       cols_.data(), cols, 1.0f, arena_->grad(weight_slot_).data(), cols);
  if (dx) {
    dx->resize(x.shape());
    gemm(Trans::kNo, Trans::kYes, rows, in_channels_, cols, 1.0f, cols_.data(), cols,
         arena_->param(weight_slot_).data(), cols, 0.0f, dx->data(), in_channels_);
  }
}

}  // namespace dtrain::nn
