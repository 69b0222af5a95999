// Explanations (eval/attribution.h): saliency equals the analytic gradient of a hand-built
// model, integrated gradients satisfy completeness, Grad-CAM of a model whose last feature map
// is known by hand, and the rank correlation the randomization sanity check uses.
#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.h"
#include "eval/attribution.h"
#include "testing/layer_models.h"

namespace dtrain::eval {
namespace {

using testing::image_model;
using testing::param_named;
using testing::random_input;

// x [1, 2, 2, 1] -> flatten -> dense 3: logit_k = W_k . x + b_k, so d logit_k / dx = W_k
// (W is [units, inputs]).
TEST(Attribution, SaliencyIsTheAbsoluteGradientOfTheTargetLogit) {
  auto model = image_model(2, 2, 1, {{.type = "flatten"}, {.type = "dense", .units = 3}});
  auto w = param_named(*model, "dense1.weight");
  ASSERT_EQ(w.size(), 12u);
  tensor::Tensor x = random_input(1, model->input_shape(), 7);
  for (long target = 0; target < 3; ++target) {
    const auto e = explain(*model, x, AttributionMethod::kSaliency, target);
    EXPECT_EQ(e.target, std::size_t(target));
    ASSERT_EQ(e.map.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) {
      // Dense weights are [units, inputs] (y = x W^T + b): d logit_k / d x_i is W[k, i].
      EXPECT_FLOAT_EQ(e.map[i], std::fabs(w[std::size_t(target) * 4 + i])) << "input " << i;
    }
  }
}

TEST(Attribution, ExplainsThePredictedClassByDefault) {
  auto model = image_model(2, 2, 1, {{.type = "flatten"}, {.type = "dense", .units = 3}});
  tensor::Tensor x = random_input(1, model->input_shape(), 3);
  const auto e = explain(*model, x, AttributionMethod::kSaliency);
  for (float p : e.probabilities) EXPECT_LE(p, e.probabilities[e.target]);
  double sum = 0.0;
  for (float p : e.probabilities) sum += p;
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

// Completeness: the attributions add up to logit(x) - logit(black image), within 1% at 64
// steps, for a nonlinear convolutional model (conv, relu, pool, dense, tanh, dense).
TEST(Attribution, IntegratedGradientsSatisfyCompleteness) {
  auto model = image_model(8, 8, 2,
                           {{.type = "conv2d", .filters = 4, .kernel = 3, .padding = 1},
                            {.type = "relu"},
                            {.type = "maxpool2d", .kernel = 2},
                            {.type = "flatten"},
                            {.type = "dense", .units = 16},
                            {.type = "tanh"},
                            {.type = "dense", .units = 5}});
  int checked = 0;
  for (std::uint64_t seed : {1, 2, 3}) {
    tensor::Tensor x = random_input(1, model->input_shape(), seed);
    for (std::size_t i = 0; i < x.numel(); ++i) x[i] = 0.5f * (x[i] + 1.0f);  // [0, 1] pixels
    for (long target = 0; target < 5; ++target) {
      const auto e = explain(*model, x, AttributionMethod::kIntegratedGradients, target, 64);
      double sum = 0.0;
      for (float v : e.map) sum += v;
      const double expected = e.logit - e.baseline_logit;
      // A relative bound means little where the two logits nearly agree.
      if (std::fabs(expected) < 0.1) continue;
      ++checked;
      EXPECT_LT(std::fabs(sum - expected), 0.01 * std::fabs(expected))
          << "seed " << seed << " class " << target << ": sum " << sum << ", expected "
          << expected;
    }
  }
  EXPECT_GE(checked, 5);
}

// A linear model's path integral is exact at any step count: attribution = x * W.
TEST(Attribution, IntegratedGradientsOfALinearModelAreInputTimesWeight) {
  auto model = image_model(2, 2, 1, {{.type = "flatten"}, {.type = "dense", .units = 3}});
  auto w = param_named(*model, "dense1.weight");
  tensor::Tensor x = random_input(1, model->input_shape(), 11);
  const auto e = explain(*model, x, AttributionMethod::kIntegratedGradients, 1, 3);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(e.map[i], x[i] * w[1 * 4 + i], 1e-6);
}

// conv 1x1 (one filter, weight 1, bias 0) -> flatten -> dense 2: the feature map is x itself,
// d logit_k / dA = W_k, so the channel weight is mean(W_k) and the map relu(mean(W_k) x),
// upsampled 2x2 -> 2x2 (the identity).
TEST(Attribution, GradCamWeighsTheLastFeatureMapByItsMeanGradient) {
  auto model = image_model(2, 2, 1,
                           {{.type = "conv2d", .filters = 1, .kernel = 1},
                            {.type = "flatten"},
                            {.type = "dense", .units = 2}});
  param_named(*model, "conv2d0.weight")[0] = 1.0f;
  param_named(*model, "conv2d0.bias")[0] = 0.0f;
  auto w = param_named(*model, "dense2.weight");
  tensor::Tensor x = random_input(1, model->input_shape(), 5);
  for (long target = 0; target < 2; ++target) {
    double mean = 0.0;
    for (std::size_t i = 0; i < 4; ++i) mean += w[std::size_t(target) * 4 + i] / 4.0;
    const auto e = explain(*model, x, AttributionMethod::kGradCam, target);
    EXPECT_EQ(e.layer, "conv2d0");
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_NEAR(e.map[i], std::max(0.0, mean * x[i]), 1e-6) << "pixel " << i;
    }
  }
}

TEST(Attribution, RefusesWhatItCannotExplain) {
  auto flat = image_model(2, 2, 1, {{.type = "flatten"}, {.type = "dense", .units = 3}});
  tensor::Tensor x = random_input(1, flat->input_shape(), 1);
  EXPECT_THROW(explain(*flat, x, AttributionMethod::kGradCam), ConfigError);      // no feature map
  EXPECT_THROW(explain(*flat, x, AttributionMethod::kSaliency, 3), ConfigError);  // no class 3
  EXPECT_THROW(parse_attribution_method("lime"), ConfigError);
  EXPECT_EQ(parse_attribution_method("gradcam"), AttributionMethod::kGradCam);
}

TEST(Attribution, RankCorrelation) {
  EXPECT_DOUBLE_EQ(rank_correlation({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(rank_correlation({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  // Monotone but not linear: still 1 (ranks, not values).
  EXPECT_DOUBLE_EQ(rank_correlation({1, 2, 3, 4}, {1, 8, 27, 1000}), 1.0);
  // Ties share their mean rank: [0, 0, 1] has ranks [0.5, 0.5, 2].
  EXPECT_NEAR(rank_correlation({0, 0, 1}, {1, 2, 3}), std::sqrt(3.0) / 2.0, 1e-12);
  EXPECT_THROW(rank_correlation({1, 2}, {1, 2, 3}), ConfigError);
}

}  // namespace
}  // namespace dtrain::eval
