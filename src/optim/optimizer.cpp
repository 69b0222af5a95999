#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "tensor/parallel.h"

namespace dtrain::optim {

void Sgd::step(std::span<float> params, std::span<const float> grads, float lr) {
  float* __restrict p = params.data();
  const float* __restrict g = grads.data();
  for (std::size_t i = 0, n = params.size(); i < n; ++i) p[i] -= lr * g[i];
  ++steps_;
}

Momentum::Momentum(std::size_t size, float momentum) : momentum_(momentum) {
  state_.push_back({"velocity", std::vector<float>(size, 0.0f)});
}

void Momentum::step(std::span<float> params, std::span<const float> grads, float lr) {
  float* __restrict p = params.data();
  const float* __restrict g = grads.data();
  float* __restrict v = state_[0].values.data();
  const float mu = momentum_;
  for (std::size_t i = 0, n = params.size(); i < n; ++i) {
    v[i] = mu * v[i] + g[i];
    p[i] -= lr * v[i];
  }
  ++steps_;
}

Adam::Adam(std::size_t size, float beta1, float beta2, float epsilon)
    : beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {
  state_.push_back({"m", std::vector<float>(size, 0.0f)});
  state_.push_back({"v", std::vector<float>(size, 0.0f)});
}

void Adam::step(std::span<float> params, std::span<const float> grads, float lr) {
  adam_step(params, grads, lr, 0.0f, {});
}

AdamW::AdamW(std::size_t size, float beta1, float beta2, float epsilon, float weight_decay,
             std::vector<ParamRange> decayed)
    : Adam(size, beta1, beta2, epsilon),
      weight_decay_(weight_decay),
      decayed_(std::move(decayed)) {}

void AdamW::step(std::span<float> params, std::span<const float> grads, float lr) {
  adam_step(params, grads, lr, weight_decay_, decayed_);
}

void Adam::adam_step(std::span<float> params, std::span<const float> grads, float lr, float wd,
                     const std::vector<ParamRange>& decayed) {
  ++steps_;
  const double t = static_cast<double>(steps_);
  // Fold both bias corrections into the step size and epsilon once per step:
  // lr * m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps) = step_size * m / (sqrt(v) + eps_hat).
  const double c1 = 1.0 - std::pow(static_cast<double>(beta1_), t);
  const double c2 = 1.0 - std::pow(static_cast<double>(beta2_), t);
  const float step_size = static_cast<float>(lr * std::sqrt(c2) / c1);
  const float eps_hat = static_cast<float>(epsilon_ * std::sqrt(c2));
  const float b1 = beta1_, b2 = beta2_, one_b1 = 1.0f - beta1_, one_b2 = 1.0f - beta2_;
  const float keep = 1.0f - lr * wd;
  const std::vector<ParamRange>* const decay = wd != 0.0f ? &decayed : nullptr;
  float* const p_all = params.data();
  const float* const g_all = grads.data();
  float* const m_all = state_[0].values.data();
  float* const v_all = state_[1].values.data();
  // Elementwise: the pool's threads take contiguous ranges (the same bits for any cut);
  // below ~64K values a second thread costs more than it saves.
  const long n = static_cast<long>(params.size());
  const int chunks = static_cast<int>(std::min<long>(4L * tensor::pool_threads(), n / 65536 + 1));
  tensor::parallel_for(chunks, [=](int chunk) {
    const auto range = tensor::chunk_range(n, chunks, chunk);
    if (decay) {
      for (const auto& r : *decay) {
        const long lo = std::max(range.begin, static_cast<long>(r.begin));
        const long hi = std::min(range.end, static_cast<long>(r.end));
        for (long i = lo; i < hi; ++i) p_all[i] *= keep;
      }
    }
    float* __restrict p = p_all + range.begin;
    const float* __restrict g = g_all + range.begin;
    float* __restrict m = m_all + range.begin;
    float* __restrict v = v_all + range.begin;
    for (long i = 0, len = range.end - range.begin; i < len; ++i) {
      m[i] = b1 * m[i] + one_b1 * g[i];
      v[i] = b2 * v[i] + one_b2 * g[i] * g[i];
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) + eps_hat);
    }
  });
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, std::size_t size,
                                          std::vector<ParamRange> decayed) {
  if (config.kind == "sgd") return std::make_unique<Sgd>();
  if (config.kind == "momentum") return std::make_unique<Momentum>(size, config.momentum);
  if (config.kind == "adam") {
    return std::make_unique<Adam>(size, config.beta1, config.beta2, config.epsilon);
  }
  if (config.kind == "adamw") {
    return std::make_unique<AdamW>(size, config.beta1, config.beta2, config.epsilon,
                                   config.weight_decay, std::move(decayed));
  }
  throw ConfigError("--optimizer: unknown optimizer '" + config.kind +
                    "' (expected sgd, momentum, adam or adamw)");
}

}  // namespace dtrain::optim
