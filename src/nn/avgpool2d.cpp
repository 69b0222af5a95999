#include "nn/avgpool2d.h"

#include <algorithm>

namespace dtrain::nn {

AvgPool2D::AvgPool2D(std::string name, int kernel, int stride)
    : Pool2D(std::move(name), kernel, stride) {}

void AvgPool2D::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const std::size_t batch = x.shape()[0];
  const std::size_t c_n = channels_;
  const std::size_t in_sample = std::size_t(height_) * width_ * c_n;
  y.resize(Shape{batch, std::size_t(out_height_), std::size_t(out_width_), c_n});
  const float inv = 1.0f / static_cast<float>(kernel_ * kernel_);
  float* __restrict o = y.data();
  for (std::size_t b = 0; b < batch; ++b) {
    const float* __restrict in = x.data() + b * in_sample;
    for (int oh = 0; oh < out_height_; ++oh) {
      for (int ow = 0; ow < out_width_; ++ow, o += c_n) {
        std::fill_n(o, c_n, 0.0f);
        for (int kh = 0; kh < kernel_; ++kh) {
          for (int kw = 0; kw < kernel_; ++kw) {
            const float* __restrict v =
                in + (std::size_t(oh * stride_ + kh) * width_ + ow * stride_ + kw) * c_n;
            for (std::size_t c = 0; c < c_n; ++c) o[c] += v[c];
          }
        }
        for (std::size_t c = 0; c < c_n; ++c) o[c] *= inv;
      }
    }
  }
}

void AvgPool2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  const std::size_t batch = x.shape()[0];
  const std::size_t c_n = channels_;
  const std::size_t in_sample = std::size_t(height_) * width_ * c_n;
  dx->resize(x.shape());
  dx->fill(0.0f);  // dropped edges get no gradient; overlapping windows add up
  const float inv = 1.0f / static_cast<float>(kernel_ * kernel_);
  const float* __restrict d = dy.data();
  for (std::size_t b = 0; b < batch; ++b) {
    float* __restrict g = dx->data() + b * in_sample;
    for (int oh = 0; oh < out_height_; ++oh) {
      for (int ow = 0; ow < out_width_; ++ow, d += c_n) {
        for (int kh = 0; kh < kernel_; ++kh) {
          for (int kw = 0; kw < kernel_; ++kw) {
            float* __restrict dst =
                g + (std::size_t(oh * stride_ + kh) * width_ + ow * stride_ + kw) * c_n;
            for (std::size_t c = 0; c < c_n; ++c) dst[c] += d[c] * inv;
          }
        }
      }
    }
  }
}

}  // namespace dtrain::nn
