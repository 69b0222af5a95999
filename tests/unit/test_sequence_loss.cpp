// Per-time-step softmax cross-entropy: the value by hand, the gradient against finite
// differences with the global-positions normalizer, the same bits as the per-example loss
// on the flattened rows, and bad targets refused.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "nn/loss.h"
#include "testing/gradient_check.h"

namespace dtrain::nn {
namespace {

using tensor::Shape;
using tensor::Tensor;

TEST(SequenceSoftmaxCrossEntropy, ValueByHand) {
  Tensor z(Shape{1, 2, 3});  // one sample, two steps, three classes
  const float v[] = {1, 2, 3, 0, 0, 0};
  for (int i = 0; i < 6; ++i) z[i] = v[i];
  const std::vector<std::int32_t> targets{2, 1};
  const auto s = sequence_softmax_cross_entropy(z, targets, 2.0, nullptr);
  const double first = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
  EXPECT_NEAR(s.loss_sum, first + std::log(3.0), 1e-6);
  EXPECT_EQ(s.correct, 1);
}

TEST(SequenceSoftmaxCrossEntropy, SameBitsAsThePerExampleLossOnTheRows) {
  Tensor seq(Shape{3, 4, 5});
  testing::fill_uniform(seq, 11, -3.0f, 3.0f);
  Tensor rows(Shape{12, 5});
  std::copy_n(seq.data(), seq.numel(), rows.data());
  std::vector<std::int32_t> targets(12);
  for (int i = 0; i < 12; ++i) targets[i] = (i * 7) % 5;
  Tensor dseq, drows;
  const auto a = sequence_softmax_cross_entropy(seq, targets, 24.0, &dseq);
  const auto b = softmax_cross_entropy(rows, targets, 24.0, &drows);
  EXPECT_EQ(a.loss_sum, b.loss_sum);
  EXPECT_EQ(a.correct, b.correct);
  EXPECT_EQ(dseq.shape(), seq.shape());
  for (std::size_t i = 0; i < seq.numel(); ++i) EXPECT_EQ(dseq[i], drows[i]) << i;
}

TEST(SequenceSoftmaxCrossEntropy, GradientIsTheMeanOverAllPositions) {
  Tensor z(Shape{2, 3, 4});
  testing::fill_uniform(z, 3, -2.0f, 2.0f);
  const std::vector<std::int32_t> targets{0, 3, 2, 2, 1, 0};
  const double positions = 12.0;  // e.g. the global batch of 4 sequences of 3 steps
  Tensor dz;
  sequence_softmax_cross_entropy(z, targets, positions, &dz);
  const double h = 1e-2;
  for (std::size_t i = 0; i < z.numel(); ++i) {
    const float saved = z[i];
    z[i] = static_cast<float>(saved + h);
    const double up = sequence_softmax_cross_entropy(z, targets, positions, nullptr).loss_sum;
    z[i] = static_cast<float>(saved - h);
    const double down = sequence_softmax_cross_entropy(z, targets, positions, nullptr).loss_sum;
    z[i] = saved;
    EXPECT_NEAR(dz[i], (up - down) / (2 * h) / positions, 2e-4) << "element " << i;
  }
}

TEST(SequenceSoftmaxCrossEntropy, BadTargetsAndCountsAreRefused) {
  Tensor z(Shape{1, 2, 3});
  z.fill(0.0f);
  const std::vector<std::int32_t> too_big{0, 3}, negative{-1, 0}, short_list{0};
  EXPECT_THROW(sequence_softmax_cross_entropy(z, too_big, 2.0, nullptr), std::invalid_argument);
  EXPECT_THROW(sequence_softmax_cross_entropy(z, negative, 2.0, nullptr), std::invalid_argument);
  EXPECT_THROW(sequence_softmax_cross_entropy(z, short_list, 2.0, nullptr), std::invalid_argument);
  try {
    sequence_softmax_cross_entropy(z, too_big, 2.0, nullptr);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("label 3 at position 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dtrain::nn
