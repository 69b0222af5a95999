#include "nn/layernorm.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace dtrain::nn {

namespace {

// Mean and 1/sqrt(var + eps) of one row, in double so long rows keep their precision.
void row_stats(const float* row, std::size_t n, float epsilon, float& mean, float& rstd) {
  double sum = 0.0;
  for (std::size_t j = 0; j < n; ++j) sum += row[j];
  const double m = sum / double(n);
  double sq = 0.0;
  for (std::size_t j = 0; j < n; ++j) sq += (row[j] - m) * (row[j] - m);
  mean = static_cast<float>(m);
  rstd = static_cast<float>(1.0 / std::sqrt(sq / double(n) + double(epsilon)));
}

}  // namespace

LayerNorm::LayerNorm(std::string name, float epsilon) : Layer(std::move(name)), epsilon_(epsilon) {}

Shape LayerNorm::setup(const Shape& input, ParamArena& arena) {
  if (!(epsilon_ > 0.0f && epsilon_ < 1.0f)) {
    std::ostringstream msg;
    msg << "epsilon must be in (0, 1), got " << epsilon_;
    throw shape_error(msg.str());
  }
  if (input.rank() < 1 || input.numel() == 0) {
    throw shape_error("expects a non-empty input, got " + input.to_string());
  }
  features_ = input[input.rank() - 1];
  arena_ = &arena;
  weight_slot_ = arena.declare(name() + ".weight", Shape{features_});
  bias_slot_ = arena.declare(name() + ".bias", Shape{features_});
  return input;
}

void LayerNorm::init_params(Rng&) {
  auto w = arena_->param(weight_slot_);
  std::fill(w.begin(), w.end(), 1.0f);
  auto b = arena_->param(bias_slot_);
  std::fill(b.begin(), b.end(), 0.0f);
}

void LayerNorm::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  y.resize(x.shape());
  const std::size_t c = features_, rows = x.numel() / c;
  const float* gamma = arena_->param(weight_slot_).data();
  const float* beta = arena_->param(bias_slot_).data();
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = x.data() + r * c;
    float* out = y.data() + r * c;
    float mean = 0.0f, rstd = 0.0f;
    row_stats(in, c, epsilon_, mean, rstd);
    for (std::size_t j = 0; j < c; ++j) out[j] = (in[j] - mean) * rstd * gamma[j] + beta[j];
  }
}

void LayerNorm::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const std::size_t c = features_, rows = x.numel() / c;
  const float* gamma = arena_->param(weight_slot_).data();
  float* dgamma = arena_->grad(weight_slot_).data();
  float* dbeta = arena_->grad(bias_slot_).data();
  if (dx) dx->resize(x.shape());
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = x.data() + r * c;
    const float* g = dy.data() + r * c;
    float mean = 0.0f, rstd = 0.0f;
    row_stats(in, c, epsilon_, mean, rstd);
    double sum_dxhat = 0.0, sum_dxhat_xhat = 0.0;
    for (std::size_t j = 0; j < c; ++j) {
      const float xhat = (in[j] - mean) * rstd;
      dgamma[j] += g[j] * xhat;
      dbeta[j] += g[j];
      const float dxhat = g[j] * gamma[j];
      sum_dxhat += dxhat;
      sum_dxhat_xhat += double(dxhat) * xhat;
    }
    if (!dx) continue;
    const float m1 = static_cast<float>(sum_dxhat / double(c));
    const float m2 = static_cast<float>(sum_dxhat_xhat / double(c));
    float* out = dx->data() + r * c;
    for (std::size_t j = 0; j < c; ++j) {
      const float xhat = (in[j] - mean) * rstd;
      out[j] = (g[j] * gamma[j] - m1 - xhat * m2) * rstd;
    }
  }
}

}  // namespace dtrain::nn
