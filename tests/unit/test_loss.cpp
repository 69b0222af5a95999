// Losses: values against hand computation, gradients against finite differences, and
// numerical stability for huge logits.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nn/loss.h"
#include "testing/gradient_check.h"

namespace dtrain::nn {
namespace {

using tensor::Shape;
using tensor::Tensor;

TEST(SoftmaxCrossEntropy, ValueAndAccuracyByHand) {
  Tensor z(Shape{2, 3});
  const float v[] = {1, 2, 3, 0, 0, 0};
  for (int i = 0; i < 6; ++i) z[i] = v[i];
  const std::vector<std::int32_t> labels{2, 1};
  const auto s = softmax_cross_entropy(z, labels, 2.0, nullptr);
  const double first = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
  EXPECT_NEAR(s.loss_sum, first + std::log(3.0), 1e-6);
  EXPECT_EQ(s.correct, 1);  // the tie [0,0,0] picks class 0, not the label 1
}

TEST(SoftmaxCrossEntropy, StableForHugeLogits) {
  Tensor z(Shape{1, 2});
  z[0] = 1e4f, z[1] = -1e4f;
  Tensor dz;
  const std::vector<std::int32_t> labels{1};
  const auto s = softmax_cross_entropy(z, labels, 1.0, &dz);
  EXPECT_TRUE(std::isfinite(s.loss_sum));
  EXPECT_NEAR(s.loss_sum, 2e4, 1.0);
  EXPECT_FLOAT_EQ(dz[0], 1.0f);
  EXPECT_FLOAT_EQ(dz[1], -1.0f);
}

TEST(SoftmaxCrossEntropy, GradientMatchesFiniteDifferencesAndNormalizer) {
  Tensor z(Shape{4, 5});
  testing::fill_uniform(z, 3, -2.0f, 2.0f);
  const std::vector<std::int32_t> labels{0, 4, 2, 2};
  const double normalizer = 8.0;  // e.g. the global batch when this rank holds half of it
  Tensor dz;
  softmax_cross_entropy(z, labels, normalizer, &dz);
  const double h = 1e-2;
  for (std::size_t i = 0; i < z.numel(); ++i) {
    const float saved = z[i];
    z[i] = static_cast<float>(saved + h);
    const double up = softmax_cross_entropy(z, labels, normalizer, nullptr).loss_sum;
    z[i] = static_cast<float>(saved - h);
    const double down = softmax_cross_entropy(z, labels, normalizer, nullptr).loss_sum;
    z[i] = saved;
    EXPECT_NEAR(dz[i], (up - down) / (2 * h) / normalizer, 2e-4) << "element " << i;
  }
}

TEST(Mse, ValueAndGradient) {
  Tensor y(Shape{2, 2});
  testing::fill_uniform(y, 4);
  const std::vector<float> target{0.5f, -0.25f, 1.0f, 0.0f};
  Tensor dy;
  const double normalizer = 2.0;
  const double sum = mse(y, target, normalizer, &dy);
  double expected = 0.0;
  for (int i = 0; i < 4; ++i) expected += (y[i] - target[i]) * (y[i] - target[i]);
  EXPECT_NEAR(sum, expected, 1e-6);
  // L = sum / (2 n): dL/dy = (y - t) / n; check by finite differences on L.
  const double h = 1e-2;
  for (std::size_t i = 0; i < 4; ++i) {
    const float saved = y[i];
    y[i] = static_cast<float>(saved + h);
    const double up = mse(y, target, normalizer, nullptr) / (2 * normalizer);
    y[i] = static_cast<float>(saved - h);
    const double down = mse(y, target, normalizer, nullptr) / (2 * normalizer);
    y[i] = saved;
    EXPECT_NEAR(dy[i], (up - down) / (2 * h), 1e-4);
  }
}

TEST(BceWithLogits, ValueByHandAndStableForHugeLogits) {
  Tensor z(Shape{4, 1});
  z[0] = 0.0f;
  z[1] = 2.0f;
  z[2] = 1000.0f;  // exp(1000) would overflow a naive log(1 + exp(z))
  z[3] = -1000.0f;
  // target 1: l = log(1 + exp(-z)).
  const double sum = bce_with_logits(z, 1.0f, 1.0, nullptr);
  EXPECT_NEAR(sum, std::log(2.0) + std::log1p(std::exp(-2.0)) + 0.0 + 1000.0, 1e-6);
  // target 0: l = log(1 + exp(z)).
  Tensor dz;
  const double sum0 = bce_with_logits(z, 0.0f, 4.0, &dz);
  EXPECT_NEAR(sum0, std::log(2.0) + std::log1p(std::exp(2.0)) + 1000.0 + 0.0, 1e-6);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(std::isfinite(dz[i]));
  EXPECT_NEAR(dz[0], 0.5 / 4.0, 1e-7);
  EXPECT_NEAR(dz[2], 1.0 / 4.0, 1e-7);
  EXPECT_NEAR(dz[3], 0.0, 1e-7);
}

TEST(BceWithLogits, GradientMatchesFiniteDifferences) {
  for (float target : {0.0f, 1.0f, 0.3f}) {
    Tensor z(Shape{3, 2});
    testing::fill_uniform(z, 9, -4.0f, 4.0f);
    Tensor dz;
    const double normalizer = 3.0;
    bce_with_logits(z, target, normalizer, &dz);
    const double h = 1e-3;
    for (std::size_t i = 0; i < z.numel(); ++i) {
      const float saved = z[i];
      z[i] = static_cast<float>(saved + h);
      const double up = bce_with_logits(z, target, normalizer, nullptr);
      z[i] = static_cast<float>(saved - h);
      const double down = bce_with_logits(z, target, normalizer, nullptr);
      z[i] = saved;
      EXPECT_NEAR(dz[i], (up - down) / (2 * h) / normalizer, 1e-4)
          << "target " << target << ", element " << i;
    }
  }
}

}  // namespace
}  // namespace dtrain::nn
