#include "nn/maxpool2d.h"

#include <algorithm>

namespace dtrain::nn {

MaxPool2D::MaxPool2D(std::string name, int kernel, int stride)
    : Pool2D(std::move(name), kernel, stride) {}

void MaxPool2D::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const std::size_t batch = x.shape()[0];
  const std::size_t in_sample = std::size_t(height_) * width_ * channels_;
  const std::size_t out_sample = std::size_t(out_height_) * out_width_ * channels_;
  y.resize(Shape{batch, std::size_t(out_height_), std::size_t(out_width_), std::size_t(channels_)});
  argmax_.resize(batch * out_sample);
  const std::size_t c_n = static_cast<std::size_t>(channels_);
  for (std::size_t b = 0; b < batch; ++b) {
    const float* __restrict in = x.data() + b * in_sample;
    float* __restrict out = y.data() + b * out_sample;
    std::uint32_t* __restrict arg = argmax_.data() + b * out_sample;
    for (int oh = 0; oh < out_height_; ++oh) {
      for (int ow = 0; ow < out_width_; ++ow) {
        float* __restrict o = out + (std::size_t(oh) * out_width_ + ow) * c_n;
        std::uint32_t* __restrict a = arg + (std::size_t(oh) * out_width_ + ow) * c_n;
        const std::size_t first = (std::size_t(oh * stride_) * width_ + ow * stride_) * c_n;
        for (std::size_t c = 0; c < c_n; ++c) {
          o[c] = in[first + c];
          a[c] = static_cast<std::uint32_t>(first + c);
        }
        // Strictly-greater keeps the first maximum, as Keras and PyTorch do.
        for (int kh = 0; kh < kernel_; ++kh) {
          for (int kw = 0; kw < kernel_; ++kw) {
            if (kh == 0 && kw == 0) continue;
            const std::size_t base =
                (std::size_t(oh * stride_ + kh) * width_ + ow * stride_ + kw) * c_n;
            const float* __restrict v = in + base;
            for (std::size_t c = 0; c < c_n; ++c) {
              const bool larger = v[c] > o[c];
              o[c] = larger ? v[c] : o[c];
              a[c] = larger ? static_cast<std::uint32_t>(base + c) : a[c];
            }
          }
        }
      }
    }
  }
}

void MaxPool2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  const std::size_t batch = x.shape()[0];
  const std::size_t in_sample = std::size_t(height_) * width_ * channels_;
  const std::size_t out_sample = std::size_t(out_height_) * out_width_ * channels_;
  dx->resize(x.shape());
  dx->fill(0.0f);  // one streaming memset; per-window zeroing was slower
  for (std::size_t b = 0; b < batch; ++b) {
    float* __restrict g = dx->data() + b * in_sample;
    const float* __restrict d = dy.data() + b * out_sample;
    const std::uint32_t* __restrict arg = argmax_.data() + b * out_sample;
    // += rather than =: overlapping windows (stride < kernel) can pick the same input twice.
    for (std::size_t i = 0; i < out_sample; ++i) g[arg[i]] += d[i];
  }
}

}  // namespace dtrain::nn
