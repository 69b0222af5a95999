// The Frechet distance against known answers: identical sets, diagonal covariances (closed
// form), a non-commuting 2x2 pair by hand, invariance under a common rotation, symmetry in
// its arguments, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "core/rng.h"
#include "eval/frechet_distance.h"

namespace dtrain::eval {
namespace {

FeatureMoments gaussian(std::vector<double> mean, std::vector<double> covariance) {
  const std::size_t dim = mean.size();
  return {.dim = dim, .count = 2, .mean = std::move(mean), .covariance = std::move(covariance)};
}

// Row-major vectors of `dim` standard-normal features with per-feature scales and shifts and
// one correlated pair, so the covariance is full.
std::vector<float> random_features(std::size_t count, std::size_t dim, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> rows(count * dim);
  for (std::size_t r = 0; r < count; ++r) {
    for (std::size_t i = 0; i < dim; ++i) {
      rows[r * dim + i] = static_cast<float>(0.5 * double(i + 1) * rng.normal() + double(i));
    }
    rows[r * dim + 1] += 0.8f * rows[r * dim];
  }
  return rows;
}

TEST(FeatureMoments, MeanAndUnbiasedCovarianceByHand) {
  // (1, 2), (3, 2), (2, 5): mean (2, 3); centred (-1, -1), (1, -1), (0, 2).
  const std::vector<float> rows{1, 2, 3, 2, 2, 5};
  const auto m = feature_moments(rows, 2);
  EXPECT_EQ(m.count, 3u);
  EXPECT_EQ(m.mean, (std::vector<double>{2.0, 3.0}));
  // Sums of products 2, 0, 6 over n - 1 = 2.
  EXPECT_EQ(m.covariance, (std::vector<double>{1.0, 0.0, 0.0, 3.0}));
}

TEST(FrechetDistance, IdenticalSetsAreZero) {
  const auto rows = random_features(500, 16, 7);
  const auto m = feature_moments(rows, 16);
  EXPECT_NEAR(frechet_distance(m, m), 0.0, 1e-9);
}

TEST(FrechetDistance, DiagonalCovariancesHaveAClosedForm) {
  // sum (mu1 - mu2)^2 + sum (s1 + s2 - 2 sqrt(s1 s2)) = sum (mu1 - mu2)^2 + (sqrt s1 - sqrt s2)^2.
  const auto a = gaussian({1.0, -2.0, 0.5}, {4.0, 0, 0, 0, 1.0, 0, 0, 0, 0.25});
  const auto b = gaussian({0.0, 1.0, 0.5}, {1.0, 0, 0, 0, 9.0, 0, 0, 0, 0.0});
  const double expected = (1.0 + 9.0 + 0.0) + (1.0 + 4.0 + 0.25);
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-9);
}

TEST(FrechetDistance, SampleSetsWithDiagonalCovariances) {
  // mu + (+-x, 0), (0, +-y): mean mu, covariance diag(2 x^2 / 3, 2 y^2 / 3), exactly.
  auto cross = [](float mx, float my, float x, float y) {
    return std::vector<float>{mx + x, my, mx - x, my, mx, my + y, mx, my - y};
  };
  const auto a = feature_moments(cross(1, 2, 3, 6), 2);
  const auto b = feature_moments(cross(-1, 2, 6, 3), 2);
  const double s1[2] = {2.0 * 9 / 3, 2.0 * 36 / 3}, s2[2] = {2.0 * 36 / 3, 2.0 * 9 / 3};
  double expected = 4.0;  // means 2 apart in the first feature
  for (int i = 0; i < 2; ++i) expected += s1[i] + s2[i] - 2.0 * std::sqrt(s1[i] * s2[i]);
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-9);
}

TEST(FrechetDistance, NonCommutingTwoByTwoByHand) {
  // For 2x2 PSD S1, S2: tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)) (the
  // eigenvalues l1, l2 of S1 S2 are >= 0: (sqrt l1 + sqrt l2)^2 = l1 + l2 + 2 sqrt(l1 l2)).
  // S1 = [[2, 1], [1, 1]], S2 = diag(1, 3): S1 S2 = [[2, 3], [1, 3]], trace 5, dets 1 and 3.
  const auto a = gaussian({1.0, 0.0}, {2.0, 1.0, 1.0, 1.0});
  const auto b = gaussian({0.0, 2.0}, {1.0, 0.0, 0.0, 3.0});
  const double expected = 5.0 + 3.0 + 4.0 - 2.0 * std::sqrt(5.0 + 2.0 * std::sqrt(3.0));
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-12);
  EXPECT_NEAR(frechet_distance(b, a), expected, 1e-12);
}

TEST(FrechetDistance, SymmetricInItsArguments) {
  const auto a = feature_moments(random_features(300, 12, 1), 12);
  const auto b = feature_moments(random_features(200, 12, 2), 12);
  const double ab = frechet_distance(a, b), ba = frechet_distance(b, a);
  EXPECT_GT(ab, 0.1);
  EXPECT_NEAR(ab, ba, 1e-9 * ab);
}

TEST(FrechetDistance, UnchangedByACommonRotation) {
  // Q = a product of Givens rotations over every feature pair; x -> Q x maps mu to Q mu and
  // S to Q S Q^T, which leaves every term of FD unchanged.
  constexpr std::size_t kDim = 6;
  std::vector<double> q(kDim * kDim, 0.0);
  for (std::size_t i = 0; i < kDim; ++i) q[i * kDim + i] = 1.0;
  for (std::size_t p = 0; p < kDim; ++p) {
    for (std::size_t r = p + 1; r < kDim; ++r) {
      const double angle = 0.3 + 0.17 * double(p) + 0.11 * double(r);
      const double c = std::cos(angle), s = std::sin(angle);
      for (std::size_t j = 0; j < kDim; ++j) {  // rows p and r of G q
        const double qp = q[p * kDim + j], qr = q[r * kDim + j];
        q[p * kDim + j] = c * qp - s * qr;
        q[r * kDim + j] = s * qp + c * qr;
      }
    }
  }
  auto rotate = [&](const std::vector<float>& rows) {
    std::vector<float> out(rows.size());
    for (std::size_t n = 0; n < rows.size() / kDim; ++n) {
      for (std::size_t i = 0; i < kDim; ++i) {
        double sum = 0.0;
        for (std::size_t j = 0; j < kDim; ++j) sum += q[i * kDim + j] * rows[n * kDim + j];
        out[n * kDim + i] = static_cast<float>(sum);
      }
    }
    return out;
  };
  const auto x = random_features(400, kDim, 3), y = random_features(400, kDim, 4);
  const double plain = frechet_distance(feature_moments(x, kDim), feature_moments(y, kDim));
  const double rotated =
      frechet_distance(feature_moments(rotate(x), kDim), feature_moments(rotate(y), kDim));
  EXPECT_GT(plain, 0.1);
  EXPECT_NEAR(rotated, plain, 1e-5 * plain);  // the rotated features are rounded to float
}

TEST(FrechetDistance, RankDeficientCovariancesAreFine) {
  // Fewer vectors than features (a small --samples): the covariances are singular.
  const auto a = feature_moments(random_features(5, 10, 5), 10);
  const auto b = feature_moments(random_features(7, 10, 6), 10);
  const double fd = frechet_distance(a, b);
  EXPECT_TRUE(std::isfinite(fd));
  EXPECT_GT(fd, 0.0);
  EXPECT_NEAR(frechet_distance(a, a), 0.0, 1e-6);
}

TEST(FrechetDistance, NonFiniteFeaturesHaveNoDistance) {
  const std::vector<float> rows{1, NAN, 3, 2};
  const auto bad = feature_moments(rows, 2),
             good = feature_moments(std::vector<float>{1, 2, 3, 4}, 2);
  EXPECT_TRUE(std::isnan(frechet_distance(bad, good)));
}

TEST(FrechetDistance, BadInputIsRefused) {
  const std::vector<float> rows{1, 2, 3, 4, 5, 6};
  EXPECT_THROW(feature_moments(rows, 0), std::invalid_argument);
  EXPECT_THROW(feature_moments(rows, 4), std::invalid_argument);  // not whole vectors
  EXPECT_THROW(feature_moments(rows, 6), std::invalid_argument);  // one vector: no covariance
  try {
    feature_moments(std::span<const float>(rows.data(), 3), 3);
    ADD_FAILURE() << "one vector accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("at least 2"), std::string::npos) << e.what();
  }
  const auto two = feature_moments(rows, 2), three = feature_moments(rows, 3);
  try {
    frechet_distance(two, three);
    ADD_FAILURE() << "different feature sizes accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2 and 3 features"), std::string::npos) << e.what();
  }
  auto truncated = two;
  truncated.covariance.pop_back();
  EXPECT_THROW(frechet_distance(two, truncated), std::invalid_argument);
}

}  // namespace
}  // namespace dtrain::eval
