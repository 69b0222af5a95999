#include "nn/upsample.h"

#include <algorithm>

namespace dtrain::nn {

Upsample::Upsample(std::string name, int scale) : Layer(std::move(name)), scale_(scale) {}

Shape Upsample::setup(const Shape& input, ParamArena&) {
  if (scale_ < 1) throw shape_error("scale must be >= 1, got " + std::to_string(scale_));
  if (input.rank() != 3) {
    throw shape_error("expects an image input [height, width, channels], got " + input.to_string());
  }
  height_ = static_cast<int>(input[0]);
  width_ = static_cast<int>(input[1]);
  channels_ = static_cast<int>(input[2]);
  // As conv2d_transpose: a spec of a few bytes must not ask for absurd images.
  constexpr std::size_t kMaxSide = std::size_t{1} << 24;
  if (std::size_t(std::max(height_, width_)) * std::size_t(scale_) > kMaxSide) {
    throw shape_error("scale " + std::to_string(scale_) + " makes " + input.to_string() +
                      " larger than dtrain's limit of " + std::to_string(kMaxSide) + " per side");
  }
  return Shape{std::size_t(height_) * scale_, std::size_t(width_) * scale_, std::size_t(channels_)};
}

void Upsample::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const std::size_t batch = x.shape()[0];
  const std::size_t c_n = channels_, s = scale_;
  const std::size_t out_w = width_ * s;
  y.resize(Shape{batch, height_ * s, out_w, c_n});
  const float* in = x.data();
  float* out = y.data();
  // Row by row: widen one input row once, then copy it to the s output rows it fills.
  for (std::size_t r = 0; r < batch * height_; ++r, in += width_ * c_n) {
    float* first = out;
    for (int w = 0; w < width_; ++w) {
      for (std::size_t k = 0; k < s; ++k, out += c_n) std::copy_n(in + w * c_n, c_n, out);
    }
    for (std::size_t k = 1; k < s; ++k, out += out_w * c_n) {
      std::copy_n(first, out_w * c_n, out);
    }
  }
}

void Upsample::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  const std::size_t batch = x.shape()[0];
  const std::size_t c_n = channels_, s = scale_;
  const std::size_t out_w = width_ * s;
  dx->resize(x.shape());
  dx->fill(0.0f);
  float* __restrict g = dx->data();
  const float* __restrict d = dy.data();
  for (std::size_t r = 0; r < batch * height_; ++r, g += width_ * c_n) {
    for (std::size_t k = 0; k < s; ++k) {
      for (std::size_t ow = 0; ow < out_w; ++ow, d += c_n) {
        float* __restrict dst = g + (ow / s) * c_n;
        for (std::size_t c = 0; c < c_n; ++c) dst[c] += d[c];
      }
    }
  }
}

}  // namespace dtrain::nn
