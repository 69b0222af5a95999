#include "nn/maxpool2d.h"

#include <algorithm>

namespace dtrain::nn {

MaxPool2D::MaxPool2D(std::string name, int kernel, int stride)
    : Pool2D(std::move(name), kernel, stride) {}

// One pass over the input: each window's channels are compared as vectors, the first
// maximum and its offset kept in registers for a block of channels, then written once
// (a ReLU absorbed from the next layer clamps the maximum in the same write).
void MaxPool2D::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const std::size_t batch = x.shape()[0];
  const std::size_t in_sample = std::size_t(height_) * width_ * channels_;
  const std::size_t out_sample = std::size_t(out_height_) * out_width_ * channels_;
  y.resize(Shape{batch, std::size_t(out_height_), std::size_t(out_width_), std::size_t(channels_)});
  argmax_.resize(batch * out_sample);
  const std::size_t c_n = static_cast<std::size_t>(channels_);
  constexpr std::size_t kBlock = 16;  // channels per register block: 2 AVX2 / 1 AVX-512 vector
  const bool relu = fused_relu_;
  for (std::size_t b = 0; b < batch; ++b) {
    const float* __restrict in = x.data() + b * in_sample;
    float* __restrict out = y.data() + b * out_sample;
    std::uint32_t* __restrict arg = argmax_.data() + b * out_sample;
    for (int oh = 0; oh < out_height_; ++oh) {
      for (int ow = 0; ow < out_width_; ++ow) {
        float* __restrict o = out + (std::size_t(oh) * out_width_ + ow) * c_n;
        std::uint32_t* __restrict a = arg + (std::size_t(oh) * out_width_ + ow) * c_n;
        const std::size_t first = (std::size_t(oh * stride_) * width_ + ow * stride_) * c_n;
        for (std::size_t c0 = 0; c0 < c_n; c0 += kBlock) {
          const std::size_t cb = std::min(kBlock, c_n - c0);
          float best[kBlock];
          std::uint32_t where[kBlock];
          for (std::size_t c = 0; c < cb; ++c) {
            best[c] = in[first + c0 + c];
            where[c] = static_cast<std::uint32_t>(first + c0 + c);
          }
          // Strictly-greater keeps the first maximum, as Keras and PyTorch do.
          for (int kh = 0; kh < kernel_; ++kh) {
            for (int kw = 0; kw < kernel_; ++kw) {
              if (kh == 0 && kw == 0) continue;
              const std::size_t base =
                  (std::size_t(oh * stride_ + kh) * width_ + ow * stride_ + kw) * c_n + c0;
              const float* __restrict v = in + base;
              for (std::size_t c = 0; c < cb; ++c) {
                const bool larger = v[c] > best[c];
                best[c] = larger ? v[c] : best[c];
                where[c] = larger ? static_cast<std::uint32_t>(base + c) : where[c];
              }
            }
          }
          for (std::size_t c = 0; c < cb; ++c) {
            o[c0 + c] = relu ? (best[c] > 0.0f ? best[c] : 0.0f) : best[c];
            a[c0 + c] = where[c];
          }
        }
      }
    }
  }
}

void MaxPool2D::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  const std::size_t batch = x.shape()[0];
  if (stride_ == kernel_) {
    backward_tiled(dy.data(), y.data(), dx->data(), batch);
  } else {
    backward_scatter(dy.data(), y.data(), dx->data(), batch);
  }
}

// Windows that tile the input (stride == kernel) own each input element once, so the input
// gradient is written in one streaming pass, row by row: the routed gradient where the
// window's maximum was, zero elsewhere, and zero over the rows and columns no window covers.
// The value written is 0.0f + g, the bits the scatter below produces by adding into zeros
// (it turns a -0.0f gradient into +0.0f); g is the gradient an absorbed ReLU lets through.
void MaxPool2D::backward_tiled(const float* dy, const float* y, float* dx,
                               std::size_t batch) const {
  const std::size_t c_n = static_cast<std::size_t>(channels_);
  const std::size_t in_sample = std::size_t(height_) * width_ * c_n;
  const std::size_t out_sample = std::size_t(out_height_) * out_width_ * c_n;
  const std::size_t row = std::size_t(width_) * c_n;
  const std::size_t covered_cols = std::size_t(out_width_) * kernel_ * c_n;
  const bool relu = fused_relu_;
  for (std::size_t b = 0; b < batch; ++b) {
    float* __restrict g = dx + b * in_sample;
    const float* __restrict d = dy + b * out_sample;
    const float* __restrict out = y + b * out_sample;
    const std::uint32_t* __restrict arg = argmax_.data() + b * out_sample;
    for (int oh = 0; oh < out_height_; ++oh) {
      for (int kh = 0; kh < kernel_; ++kh) {
        const std::size_t ih = std::size_t(oh) * kernel_ + kh;
        float* __restrict g_row = g + ih * row;
        for (int ow = 0; ow < out_width_; ++ow) {
          const std::size_t o = (std::size_t(oh) * out_width_ + ow) * c_n;
          for (int kw = 0; kw < kernel_; ++kw) {
            const std::size_t base = ih * row + (std::size_t(ow) * kernel_ + kw) * c_n;
            float* __restrict gv = g + base;
            for (std::size_t c = 0; c < c_n; ++c) {
              const bool routed = arg[o + c] == base + c && (!relu || out[o + c] > 0.0f);
              gv[c] = 0.0f + (routed ? d[o + c] : 0.0f);
            }
          }
        }
        std::fill(g_row + covered_cols, g_row + row, 0.0f);
      }
    }
    std::fill(g + std::size_t(out_height_) * kernel_ * row, g + in_sample, 0.0f);
  }
}

// Overlapping (or gapped) windows: zero the input gradient, then add each output's gradient
// at its maximum; += because overlapping windows can pick the same input twice.
void MaxPool2D::backward_scatter(const float* dy, const float* y, float* dx,
                                 std::size_t batch) const {
  const std::size_t in_sample = std::size_t(height_) * width_ * channels_;
  const std::size_t out_sample = std::size_t(out_height_) * out_width_ * channels_;
  std::fill(dx, dx + batch * in_sample, 0.0f);  // one streaming memset; per-window was slower
  const bool relu = fused_relu_;
  for (std::size_t b = 0; b < batch; ++b) {
    float* __restrict g = dx + b * in_sample;
    const float* __restrict d = dy + b * out_sample;
    const float* __restrict out = y + b * out_sample;
    const std::uint32_t* __restrict arg = argmax_.data() + b * out_sample;
    for (std::size_t i = 0; i < out_sample; ++i) {
      g[arg[i]] += (!relu || out[i] > 0.0f) ? d[i] : 0.0f;
    }
  }
}

}  // namespace dtrain::nn
