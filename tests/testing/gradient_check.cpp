#include "testing/gradient_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "core/rng.h"

namespace dtrain::testing {

using tensor::Tensor;

void fill_uniform(Tensor& t, std::uint64_t seed, float lo, float hi) {
  Rng rng(seed);
  for (std::size_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(lo, hi);
}

void fill_separated(Tensor& t, std::uint64_t seed, float gap) {
  std::vector<std::uint32_t> order(t.numel());
  std::iota(order.begin(), order.end(), 0u);
  Rng rng(seed);
  rng.shuffle(std::span<std::uint32_t>(order));
  const float offset = -0.5f * gap * static_cast<float>(t.numel());
  // Shift by a non-grid offset so no value lands on exactly zero (ReLU's kink).
  for (std::size_t i = 0; i < t.numel(); ++i) {
    t[i] = offset + gap * (static_cast<float>(order[i]) + 0.37f);
  }
}

namespace {

double weighted_sum(const Tensor& y, const Tensor& r) {
  double s = 0.0;
  for (std::size_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y[i]) * r[i];
  return s;
}

void compare(const std::string& what, double analytic, double numeric, double tol) {
  const double scale = std::max(1.0, std::abs(numeric));
  EXPECT_LE(std::abs(analytic - numeric), tol * scale)
      << what << ": analytic " << analytic << " vs numeric " << numeric;
}

}  // namespace

void expect_gradients_match(nn::Sequential& model, Tensor x, GradCheckOptions options) {
  nn::ForwardContext ctx{.training = true, .noise_seed = 7};
  Tensor y = model.forward(x, ctx);
  Tensor r(y.shape());
  fill_uniform(r, 991);

  model.arena().zero_grads();
  model.forward(x, ctx);
  model.backward(x, r, /*need_input_grad=*/true);
  const Tensor dx = model.input_grad();
  std::vector<float> dparams(model.arena().grads().begin(), model.arena().grads().end());
  ASSERT_EQ(dx.numel(), x.numel());

  auto loss_at = [&](float* value, double delta) {
    const float saved = *value;
    *value = static_cast<float>(saved + delta);
    const double l = weighted_sum(model.forward(x, ctx), r);
    *value = saved;
    return l;
  };
  const double h = options.step;
  for (std::size_t i = 0; i < x.numel(); ++i) {
    const double numeric = (loss_at(&x[i], h) - loss_at(&x[i], -h)) / (2 * h);
    compare("input[" + std::to_string(i) + "]", dx[i], numeric, options.tolerance);
  }
  for (const auto& slot : model.arena().slots()) {
    auto params = model.arena().param(&slot - model.arena().slots().data());
    for (std::size_t i = 0; i < slot.size; ++i) {
      const double numeric = (loss_at(&params[i], h) - loss_at(&params[i], -h)) / (2 * h);
      compare(slot.name + "[" + std::to_string(i) + "]", dparams[slot.offset + i], numeric,
              options.tolerance);
    }
  }
}

void expect_param_gradients_match(nn::Sequential& model, const Tensor& x,
                                  GradCheckOptions options) {
  nn::ForwardContext ctx{.training = true, .noise_seed = 7};
  Tensor y = model.forward(x, ctx);
  Tensor r(y.shape());
  fill_uniform(r, 991);

  model.arena().zero_grads();
  model.forward(x, ctx);
  model.backward(x, r, /*need_input_grad=*/false);
  std::vector<float> dparams(model.arena().grads().begin(), model.arena().grads().end());

  const double h = options.step;
  for (const auto& slot : model.arena().slots()) {
    auto params = model.arena().param(&slot - model.arena().slots().data());
    for (std::size_t i = 0; i < slot.size; ++i) {
      const float saved = params[i];
      params[i] = static_cast<float>(saved + h);
      const double up = weighted_sum(model.forward(x, ctx), r);
      params[i] = static_cast<float>(saved - h);
      const double down = weighted_sum(model.forward(x, ctx), r);
      params[i] = saved;
      compare(slot.name + "[" + std::to_string(i) + "]", dparams[slot.offset + i],
              (up - down) / (2 * h), options.tolerance);
    }
  }
}

}  // namespace dtrain::testing
