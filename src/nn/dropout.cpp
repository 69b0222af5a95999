#include "nn/dropout.h"

#include "core/hash.h"

namespace dtrain::nn {

namespace {

constexpr std::uint64_t kDropoutStream = 0xD509;

}  // namespace

Shape Dropout::setup(const Shape& input, ParamArena&) {
  if (!(rate_ >= 0.0f && rate_ < 1.0f)) {  // written so that NaN fails too
    throw shape_error("rate must be in [0, 1), got " + std::to_string(rate_));
  }
  stream_ = Fingerprint().add(name()).value();
  return input;
}

void Dropout::forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) {
  masked_ = ctx.training && rate_ > 0.0f;
  if (!masked_) {
    y.view_of(x, x.shape());
    return;
  }
  const std::size_t n = x.numel();
  mask_.resize(x.shape());
  y.resize(x.shape());
  Rng rng(derive_seed(ctx.noise_seed, kDropoutStream, stream_));
  const float scale = 1.0f / (1.0f - rate_);
  float* m = mask_.data();
  for (std::size_t i = 0; i < n; ++i) m[i] = rng.uniform() < rate_ ? 0.0f : scale;
  const float* in = x.data();
  float* out = y.data();
  for (std::size_t i = 0; i < n; ++i) out[i] = in[i] * m[i];
}

void Dropout::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  if (!masked_) {
    dx->view_of(dy, x.shape());
    return;
  }
  dx->resize(x.shape());
  const float* d = dy.data();
  const float* m = mask_.data();
  float* g = dx->data();
  for (std::size_t i = 0; i < x.numel(); ++i) g[i] = d[i] * m[i];
}

}  // namespace dtrain::nn
