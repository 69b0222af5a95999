#include "nn/batchnorm.h"

#include <algorithm>
#include <cmath>

namespace dtrain::nn {

BatchNorm::BatchNorm(std::string name, float momentum, float epsilon, bool sync)
    : Layer(std::move(name)), momentum_(momentum), epsilon_(epsilon), sync_(sync) {}

Shape BatchNorm::setup(const Shape& input, ParamArena& arena) {
  // NaN fails both comparisons, so these reject it too.
  if (!(momentum_ >= 0.0f && momentum_ < 1.0f)) {
    throw shape_error("momentum must be in [0, 1) (the weight of the old running value), got " +
                      std::to_string(momentum_));
  }
  if (!(epsilon_ > 0.0f && epsilon_ < 1.0f)) {
    throw shape_error("epsilon must be in (0, 1), got " + std::to_string(epsilon_));
  }
  if (input.rank() == 0 || input.numel() == 0) {
    throw shape_error("expects a non-empty input, got " + input.to_string());
  }
  channels_ = static_cast<int>(input[input.rank() - 1]);
  per_sample_ = input.numel();
  arena_ = &arena;
  const Shape channel_shape{std::size_t(channels_)};
  gamma_slot_ = arena.declare(name() + ".weight", channel_shape);
  beta_slot_ = arena.declare(name() + ".bias", channel_shape);
  mean_slot_ = arena.declare(name() + ".running_mean", channel_shape);
  var_slot_ = arena.declare(name() + ".running_var", channel_shape);
  return input;
}

void BatchNorm::init_params(Rng&) {
  std::ranges::fill(arena_->param(gamma_slot_), 1.0f);
  std::ranges::fill(arena_->param(beta_slot_), 0.0f);
  std::ranges::fill(arena_->param(mean_slot_), 0.0f);
  std::ranges::fill(arena_->param(var_slot_), 1.0f);
}

void BatchNorm::use_statistics(const std::vector<double>& mean, const std::vector<double>& var) {
  mean_.resize(std::size_t(channels_));
  inv_std_.resize(std::size_t(channels_));
  for (int c = 0; c < channels_; ++c) {
    mean_[c] = static_cast<float>(mean[c]);
    inv_std_[c] = static_cast<float>(1.0 / std::sqrt(var[c] + double(epsilon_)));
  }
}

void BatchNorm::forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) {
  const std::size_t C = std::size_t(channels_);
  const std::size_t rows = x.numel() / C;
  const float* __restrict in = x.data();
  batch_mode_ = ctx.training;
  reducer_ = ctx.batch_stats;
  // Member scratch (only grows): a training step allocates nothing after the first.
  auto& mean = stat_scratch_[0];
  auto& var = stat_scratch_[1];
  auto& global_mean = stat_scratch_[2];
  auto& global_var = stat_scratch_[3];
  for (auto& v : stat_scratch_) v.resize(C);
  if (ctx.training) {
    // Local sums in double: a batch of 64 images of 14x14 is 12,544 values a channel.
    sums_.assign(2 * C + 1, 0.0);
    for (std::size_t r = 0; r < rows; ++r) {
      const float* row = in + r * C;
      for (std::size_t c = 0; c < C; ++c) {
        const double v = row[c];
        sums_[c] += v;
        sums_[C + c] += v * v;
      }
    }
    sums_[2 * C] = double(rows);
    local_sums_ = sums_;
    if (reducer_) reducer_->sum(sums_);
    // mean and biased variance of one set of sums (E[x^2] - mean^2, clamped at 0: the
    // doubles keep the cancellation far below float resolution at these sizes).
    auto moments = [&](const std::vector<double>& s, std::vector<double>& m,
                       std::vector<double>& v) {
      const double n = s[2 * C];
      for (std::size_t c = 0; c < C; ++c) {
        m[c] = s[c] / n;
        v[c] = std::max(0.0, s[C + c] / n - m[c] * m[c]);
      }
    };
    moments(sums_, global_mean, global_var);
    if (sync_) {
      mean = global_mean, var = global_var;
      count_ = sums_[2 * C];
    } else {
      moments(local_sums_, mean, var);
      count_ = local_sums_[2 * C];
    }
    float* running_mean = arena_->param(mean_slot_).data();
    float* running_var = arena_->param(var_slot_).data();
    const double keep = momentum_, take = 1.0 - double(momentum_);
    for (std::size_t c = 0; c < C; ++c) {
      running_mean[c] = static_cast<float>(keep * running_mean[c] + take * global_mean[c]);
      running_var[c] = static_cast<float>(keep * running_var[c] + take * global_var[c]);
    }
  } else {
    const auto rm = arena_->param(mean_slot_);
    const auto rv = arena_->param(var_slot_);
    for (std::size_t c = 0; c < C; ++c) mean[c] = rm[c], var[c] = rv[c];
  }
  use_statistics(mean, var);
  xhat_.resize(x.shape());
  y.resize(x.shape());
  const float* __restrict gamma = arena_->param(gamma_slot_).data();
  const float* __restrict beta = arena_->param(beta_slot_).data();
  const float* __restrict mu = mean_.data();
  const float* __restrict is = inv_std_.data();
  float* __restrict xh = xhat_.data();
  float* __restrict out = y.data();
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < C; ++c) {
      const float h = (in[r * C + c] - mu[c]) * is[c];
      xh[r * C + c] = h;
      out[r * C + c] = gamma[c] * h + beta[c];
    }
  }
}

// With batch statistics the mean and variance depend on every input, so
//   dx = gamma / sigma * (dy - sum(dy) / N - xhat * sum(dy * xhat) / N)
// with the sums and N over the batch the statistics came from (the global batch when
// synced: each rank's dy already carries the 1/B of the global mean loss). With running
// statistics they are constants and dx = gamma / sigma * dy.
void BatchNorm::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const std::size_t C = std::size_t(channels_);
  const std::size_t rows = x.numel() / C;
  const float* __restrict g = dy.data();
  const float* __restrict xh = xhat_.data();
  sums_.assign(2 * C, 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < C; ++c) {
      const double d = g[r * C + c];
      sums_[c] += d;
      sums_[C + c] += d * xh[r * C + c];
    }
  }
  // Parameter gradients are this rank's share; the gradient allreduce sums them.
  float* dgamma = arena_->grad(gamma_slot_).data();
  float* dbeta = arena_->grad(beta_slot_).data();
  for (std::size_t c = 0; c < C; ++c) {
    dbeta[c] += static_cast<float>(sums_[c]);
    dgamma[c] += static_cast<float>(sums_[C + c]);
  }
  if (!dx) return;
  const float* __restrict gamma = arena_->param(gamma_slot_).data();
  dx->resize(x.shape());
  float* __restrict out = dx->data();
  if (!batch_mode_) {
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < C; ++c) out[r * C + c] = g[r * C + c] * gamma[c] * inv_std_[c];
    }
    return;
  }
  if (sync_ && reducer_) reducer_->sum(sums_);
  scale_.resize(3 * C);
  float* __restrict scale = scale_.data();
  float* __restrict mean_dy = scale + C;
  float* __restrict mean_dy_xhat = scale + 2 * C;
  for (std::size_t c = 0; c < C; ++c) {
    scale[c] = gamma[c] * inv_std_[c];
    mean_dy[c] = static_cast<float>(sums_[c] / count_);
    mean_dy_xhat[c] = static_cast<float>(sums_[C + c] / count_);
  }
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < C; ++c) {
      out[r * C + c] = scale[c] * (g[r * C + c] - mean_dy[c] - xh[r * C + c] * mean_dy_xhat[c]);
    }
  }
}

}  // namespace dtrain::nn
