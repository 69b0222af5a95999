#include "nn/global_avgpool.h"

#include <algorithm>

namespace dtrain::nn {

Shape GlobalAvgPool::setup(const Shape& input, ParamArena&) {
  if (input.rank() != 3) {
    throw shape_error("expects an image input [height, width, channels], got " + input.to_string());
  }
  pixels_ = input[0] * input[1];
  channels_ = input[2];
  return Shape{channels_};
}

void GlobalAvgPool::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const std::size_t batch = x.shape()[0];
  y.resize(Shape{batch, channels_});
  const float inv = 1.0f / static_cast<float>(pixels_);
  const float* __restrict in = x.data();
  for (std::size_t b = 0; b < batch; ++b) {
    float* __restrict o = y.data() + b * channels_;
    std::fill_n(o, channels_, 0.0f);
    for (std::size_t p = 0; p < pixels_; ++p, in += channels_) {
      for (std::size_t c = 0; c < channels_; ++c) o[c] += in[c];
    }
    for (std::size_t c = 0; c < channels_; ++c) o[c] *= inv;
  }
}

void GlobalAvgPool::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  const std::size_t batch = x.shape()[0];
  dx->resize(x.shape());
  const float inv = 1.0f / static_cast<float>(pixels_);
  float* __restrict g = dx->data();
  for (std::size_t b = 0; b < batch; ++b) {
    const float* __restrict d = dy.data() + b * channels_;
    for (std::size_t p = 0; p < pixels_; ++p, g += channels_) {
      for (std::size_t c = 0; c < channels_; ++c) g[c] = d[c] * inv;
    }
  }
}

}  // namespace dtrain::nn
