// make_synthetic: geometry, determinism, and that it is actually learnable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "data/synthetic.h"

namespace dtrain::data {
namespace {

TEST(Synthetic, Geometry) {
  const DataSplits s = make_synthetic(100, 20, 30, 1);
  for (const Dataset* d : {&s.train, &s.val, &s.test}) {
    EXPECT_EQ(d->height, 28);
    EXPECT_EQ(d->width, 28);
    EXPECT_EQ(d->channels, 1);
    EXPECT_EQ(d->num_classes, 10);
    EXPECT_EQ(d->labels.size(), d->size());
    for (std::int32_t label : d->labels) {
      EXPECT_GE(label, 0);
      EXPECT_LT(label, 10);
    }
  }
  EXPECT_EQ(s.train.size(), 100u);
  EXPECT_EQ(s.val.size(), 20u);
  EXPECT_EQ(s.test.size(), 30u);
  EXPECT_FALSE(s.description.empty());
}

TEST(Synthetic, EmptySplits) {
  const DataSplits s = make_synthetic(0, 0, 5, 1);
  EXPECT_EQ(s.train.size(), 0u);
  EXPECT_EQ(s.train.height, 28);
  EXPECT_EQ(s.test.size(), 5u);
}

TEST(Synthetic, DeterministicFromSeed) {
  const DataSplits a = make_synthetic(50, 10, 10, 7);
  const DataSplits b = make_synthetic(50, 10, 10, 7);
  EXPECT_EQ(a.train.pixels, b.train.pixels);
  EXPECT_EQ(a.train.labels, b.train.labels);
  EXPECT_EQ(a.test.pixels, b.test.pixels);
  const DataSplits c = make_synthetic(50, 10, 10, 8);
  EXPECT_NE(a.train.pixels, c.train.pixels);
}

TEST(Synthetic, ExamplesDoNotDependOnSplitSizes) {
  const DataSplits small = make_synthetic(10, 3, 4, 11);
  const DataSplits big = make_synthetic(40, 9, 2, 11);
  EXPECT_TRUE(
      std::equal(small.train.pixels.begin(), small.train.pixels.end(), big.train.pixels.begin()));
  EXPECT_TRUE(std::equal(small.val.labels.begin(), small.val.labels.end(), big.val.labels.begin()));
  EXPECT_TRUE(
      std::equal(big.test.pixels.begin(), big.test.pixels.end(), small.test.pixels.begin()));
}

TEST(Synthetic, SplitsAreDistinctDraws) {
  const DataSplits s = make_synthetic(10, 10, 10, 3);
  EXPECT_NE(s.train.pixels, s.val.pixels);
  EXPECT_NE(s.val.pixels, s.test.pixels);
}

TEST(Synthetic, ClassesAreBalancedAndImagesHaveInk) {
  const DataSplits s = make_synthetic(5000, 0, 0, 2);
  std::vector<int> per_class(10, 0);
  for (std::int32_t label : s.train.labels) ++per_class[static_cast<std::size_t>(label)];
  for (int c : per_class) EXPECT_NEAR(c, 500, 90);
  for (std::size_t i = 0; i < 100; ++i) {
    const auto* img = s.train.pixels.data() + i * 784;
    EXPECT_GT(*std::max_element(img, img + 784), 140) << "example " << i;
  }
}

// Softmax regression trained by plain SGD: if a linear model learns the set within two
// epochs, the MLP and CNN of the smoke runs certainly do.
TEST(Synthetic, LinearModelLearnsItQuickly) {
  const DataSplits s = make_synthetic(3000, 0, 1000, 0);
  constexpr int kIn = 784;
  constexpr int kOut = 10;
  std::vector<float> w(kIn * kOut, 0.0f);
  std::vector<float> b(kOut, 0.0f);
  std::vector<float> x(kIn);
  float logits[kOut];
  auto forward = [&](const Dataset& d, std::size_t i) {
    for (int k = 0; k < kIn; ++k)
      x[static_cast<std::size_t>(k)] = d.pixels[i * kIn + static_cast<std::size_t>(k)] / 255.f;
    float top = -1e30f;
    for (int c = 0; c < kOut; ++c) {
      float z = b[static_cast<std::size_t>(c)];
      for (int k = 0; k < kIn; ++k)
        z += w[static_cast<std::size_t>(c * kIn + k)] * x[static_cast<std::size_t>(k)];
      logits[c] = z;
      top = std::max(top, z);
    }
    return top;
  };

  std::vector<std::uint32_t> order(s.train.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  Rng rng(5);
  constexpr float kLr = 0.05f;
  for (int epoch = 0; epoch < 2; ++epoch) {
    rng.shuffle(std::span<std::uint32_t>(order));
    for (std::uint32_t i : order) {
      const float top = forward(s.train, i);
      float sum = 0.0f;
      for (float& z : logits) sum += (z = std::exp(z - top));
      for (int c = 0; c < kOut; ++c) {
        const float g = logits[c] / sum - (c == s.train.labels[i] ? 1.0f : 0.0f);
        b[static_cast<std::size_t>(c)] -= kLr * g;
        for (int k = 0; k < kIn; ++k)
          w[static_cast<std::size_t>(c * kIn + k)] -= kLr * g * x[static_cast<std::size_t>(k)];
      }
    }
  }
  int correct = 0;
  for (std::size_t i = 0; i < s.test.size(); ++i) {
    const float top = forward(s.test, i);
    const auto best = std::find(logits, logits + kOut, top) - logits;
    correct += best == s.test.labels[i] ? 1 : 0;
  }
  const double acc = static_cast<double>(correct) / static_cast<double>(s.test.size());
  RecordProperty("test_accuracy", std::to_string(acc));
  EXPECT_GT(acc, 0.90);
}

}  // namespace
}  // namespace dtrain::data
