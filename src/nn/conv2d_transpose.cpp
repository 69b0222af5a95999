#include "nn/conv2d_transpose.h"

#include <cstdint>

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
  if (filters_ <= 0 || g.kernel <= 0 || g.stride <= 0 || g.padding < 0) {
    throw shape_error("filters, kernel and stride must be positive and padding >= 0 (got filters " +
                      std::to_string(filters_) + ", kernel " + std::to_string(g.kernel) +
                      ", stride " + std::to_string(g.stride) + ", padding " +
                      std::to_string(g.padding) + ")");
  }
  // A larger output_padding would add rows no input reaches and break the adjointness
  // (the convolution over the output would have more windows than there are inputs).
  if (output_padding_ < 0 || output_padding_ >= g.stride) {
    throw shape_error("output_padding must be in [0, stride " + std::to_string(g.stride) +
                      "), got " + std::to_string(output_padding_));
  }
  if (input.rank() != 3) {
    throw shape_error("expects an image input [height, width, channels], got " + input.to_string());
  }
  const int in_h = static_cast<int>(input[0]), in_w = static_cast<int>(input[1]);
  in_channels_ = static_cast<int>(input[2]);
  // Sizes in 64 bits first, so that a spec of a few bytes cannot overflow int here or in
  // im2col: the uncropped scatter ((in - 1) * stride + kernel + output_padding) must stay
  // below kMaxSide, and the weight count within the arena's limit.
  constexpr std::int64_t kMaxSide = std::int64_t{1} << 24;
  auto full_size = [&](int in) {
    return std::int64_t(in - 1) * g.stride + g.kernel + output_padding_;
  };
  const std::int64_t full_h = full_size(in_h), full_w = full_size(in_w);
  if (full_h > kMaxSide || full_w > kMaxSide) {
    throw shape_error("the output of " + input.to_string() + " would be " + std::to_string(full_h) +
                      "x" + std::to_string(full_w) +
                      " before cropping, more than dtrain's limit of " + std::to_string(kMaxSide) +
                      " per side");
  }
  const double weights = double(in_channels_) * g.kernel * g.kernel * filters_;
  if (weights > double(ParamArena::kMaxParams)) {
    throw shape_error("a weight of " + std::to_string(in_channels_) + " x " +
                      std::to_string(g.kernel) + "x" + std::to_string(g.kernel) + " x " +
                      std::to_string(filters_) + " is beyond dtrain's limit of " +
                      std::to_string(ParamArena::kMaxParams) + " parameters");
  }
  const std::int64_t out_h = full_h - 2 * std::int64_t(g.padding);
  const std::int64_t out_w = full_w - 2 * std::int64_t(g.padding);
  if (out_h <= 0 || out_w <= 0) {
    throw shape_error("padding " + std::to_string(g.padding) + " crops the whole output of " +
                      input.to_string() + " (output " + std::to_string(out_h) + "x" +
                      std::to_string(out_w) + ")");
  }
  g.height = static_cast<int>(out_h);
  g.width = static_cast<int>(out_w);
  g.channels = filters_;
  // (out + 2p - K) = (in - 1) * s + output_padding with output_padding < s, so the
  // convolution over the output has exactly one window per input pixel.
  if (g.out_height() != in_h || g.out_width() != in_w) {
    throw shape_error("internal: the adjoint convolution does not map back onto " +
                      input.to_string());
  }
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
