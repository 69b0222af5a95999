// The vector exp/sigmoid/tanh against double-precision references, at the edges (overflow,
// underflow, infinities, NaN), and the property exactness rests on: a value's result is the
// same bits wherever it sits in an array of any length.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tensor/vector_math.h"

namespace dtrain::tensor {
namespace {

std::vector<float> sweep(float from, float to, float step) {
  std::vector<float> x;
  for (float v = from; v < to; v += step) x.push_back(v);
  return x;
}

TEST(VectorMath, ExpIsWithinTwoUlpOverTheNormalRange) {
  const auto x = sweep(-87.0f, 88.5f, 0.0037f);
  std::vector<float> y(x.size());
  exp_values(x.data(), y.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(double(x[i]));
    const double ulp = std::ldexp(1.0, std::ilogb(want) - 23);
    ASSERT_LE(std::fabs(y[i] - want), 2.0 * ulp) << "exp(" << x[i] << ") = " << y[i];
  }
}

TEST(VectorMath, SigmoidAndTanhAreWithinTheirBounds) {
  const auto x = sweep(-30.0f, 30.0f, 0.00071f);
  std::vector<float> s(x.size()), t(x.size());
  sigmoid_values(x.data(), s.data(), x.size());
  tanh_values(x.data(), t.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i];
    ASSERT_LE(std::fabs(s[i] - 1.0 / (1.0 + std::exp(-xi))), 2e-7) << "sigmoid(" << xi << ")";
    ASSERT_LE(std::fabs(t[i] - std::tanh(xi)), 3e-7) << "tanh(" << xi << ")";
    ASSERT_TRUE(s[i] >= 0.0f && s[i] <= 1.0f && t[i] >= -1.0f && t[i] <= 1.0f);
  }
}

TEST(VectorMath, EdgesSaturateAndNaNPropagates) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {-inf, -1000.0f, -100.0f, -88.0f, 0.0f, 89.0f, 100.0f, inf, nan};
  std::vector<float> e(x.size()), s(x.size()), t(x.size());
  exp_values(x.data(), e.data(), x.size());
  sigmoid_values(x.data(), s.data(), x.size());
  tanh_values(x.data(), t.data(), x.size());
  const std::vector<float> want_e = {0.0f, 0.0f, 0.0f, 0.0f, 1.0f, inf, inf, inf};
  const std::vector<float> want_s = {0.0f, 0.0f, 0.0f, 0.0f, 0.5f, 1.0f, 1.0f, 1.0f};
  const std::vector<float> want_t = {-1.0f, -1.0f, -1.0f, -1.0f, 0.0f, 1.0f, 1.0f, 1.0f};
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    EXPECT_EQ(e[i], want_e[i]) << "exp(" << x[i] << ")";
    EXPECT_NEAR(s[i], want_s[i], 1e-38f) << "sigmoid(" << x[i] << ")";
    EXPECT_EQ(t[i], want_t[i]) << "tanh(" << x[i] << ")";
  }
  EXPECT_TRUE(std::isnan(e.back()));
  EXPECT_TRUE(std::isnan(s.back()));
  EXPECT_TRUE(std::isnan(t.back()));
}

TEST(VectorMath, AValueGetsTheSameBitsAtAnyPositionAndLength) {
  const auto x = sweep(-9.0f, 9.0f, 0.013f);  // 1,385 values: no multiple of any lane width
  std::vector<float> whole(x.size()), part(x.size());
  for (auto f : {exp_values, sigmoid_values, tanh_values}) {
    f(x.data(), whole.data(), x.size());
    for (std::size_t offset : {0, 1, 5, 13}) {
      for (std::size_t n : {1, 3, 7, 16, 17, 33}) {
        if (offset + n > x.size()) continue;
        f(x.data() + offset, part.data(), n);
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_EQ(part[i], whole[offset + i]) << "offset " << offset << " n " << n;
        }
      }
    }
    // In place, as the recurrent cells call it.
    std::vector<float> inplace = x;
    f(inplace.data(), inplace.data(), inplace.size());
    EXPECT_EQ(inplace, whole);
  }
}

}  // namespace
}  // namespace dtrain::tensor
