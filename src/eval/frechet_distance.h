#pragma once
// The Frechet distance between two sets of feature vectors, each summarized by a Gaussian
// (mean and covariance): FD = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2)), the
// squared 2-Wasserstein distance between the two Gaussians. With a classifier's penultimate
// features this is the FID idea (TF-GAN's mnist_frechet_distance): a generator whose samples
// spread over the features as real images do scores near the floor of two real sets.
#include <cstddef>
#include <span>
#include <vector>

namespace dtrain::eval {

struct FeatureMoments {
  std::size_t dim = 0;
  std::size_t count = 0;           // feature vectors summarized
  std::vector<double> mean;        // dim
  std::vector<double> covariance;  // dim x dim, row-major, unbiased (divides by count - 1)
};

// Mean and covariance of `rows` (row-major, rows.size() / dim vectors of `dim` features),
// accumulated in double. Throws std::invalid_argument when dim is 0, rows.size() is not a
// multiple of dim, or fewer than 2 vectors are given (no covariance).
FeatureMoments feature_moments(std::span<const float> rows, std::size_t dim);

// FD between the Gaussians (mean, covariance) of a and b, >= 0; NaN when a moment is not
// finite. Throws std::invalid_argument when their feature sizes differ or a mean or covariance
// does not fit its size.
double frechet_distance(const FeatureMoments& a, const FeatureMoments& b);

}  // namespace dtrain::eval
