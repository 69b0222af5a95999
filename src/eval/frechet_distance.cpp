#include "eval/frechet_distance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/errors.h"

// LAPACK's symmetric eigensolver (Fortran ABI: every argument by pointer, column-major, and
// gfortran's hidden lengths of the two character arguments at the end). Declared here rather
// than through lapacke, which Debian ships separately (liblapacke-dev); the symbol comes from
// OpenBLAS, which bundles LAPACK (src/CMakeLists.txt links it to this module only).
extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                       double* w, double* work, const int* lwork, int* info, std::size_t jobz_len,
                       std::size_t uplo_len);

namespace dtrain::eval {

namespace {

// Eigenvalues (ascending) of the symmetric n x n matrix `a`; with vectors, `a` is overwritten
// by the orthonormal eigenvectors, eigenvector k in a[k * n .. k * n + n) (a column of the
// column-major result). Symmetric, so row- or column-major input is the same matrix.
// Householder tridiagonalization plus implicit QL/QR: O(n^3).
std::vector<double> symmetric_eigenvalues(std::vector<double>& a, std::size_t n,
                                          bool with_vectors) {
  const int order = static_cast<int>(n);
  const char jobz = with_vectors ? 'V' : 'N', uplo = 'U';
  std::vector<double> w(n);
  int info = 0, query = -1;
  double best_work = 0.0;
  dsyev_(&jobz, &uplo, &order, a.data(), &order, w.data(), &best_work, &query, &info, 1, 1);
  const int lwork = std::max(static_cast<int>(best_work), std::max(1, 3 * order - 1));
  std::vector<double> work(static_cast<std::size_t>(lwork));
  if (info == 0) {
    dsyev_(&jobz, &uplo, &order, a.data(), &order, w.data(), work.data(), &lwork, &info, 1, 1);
  }
  if (info != 0) {
    throw Error("Frechet distance: LAPACK dsyev failed on a " + std::to_string(n) + "x" +
                std::to_string(n) + " covariance (info " + std::to_string(info) + ")");
  }
  return w;
}

// The symmetric positive semi-definite square root V diag(sqrt(w)) V^T of a covariance.
// Eigenvalues a little below 0 are rounding (a covariance is PSD), so they count as 0.
std::vector<double> psd_sqrt(std::vector<double> s, std::size_t n) {
  const auto w = symmetric_eigenvalues(s, n, /*with_vectors=*/true);
  std::vector<double> root(n * n, 0.0);
  for (std::size_t k = 0; k < n; ++k) {
    const double sigma = std::sqrt(std::max(0.0, w[k]));
    if (sigma == 0.0) continue;
    const double* v = s.data() + k * n;
    for (std::size_t i = 0; i < n; ++i) {
      const double vi = sigma * v[i];
      double* row = root.data() + i * n;
      for (std::size_t j = 0; j < n; ++j) row[j] += vi * v[j];
    }
  }
  return root;
}

// c = a b for n x n row-major matrices: O(n^3).
std::vector<double> multiply(const std::vector<double>& a, const std::vector<double>& b,
                             std::size_t n) {
  std::vector<double> c(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < n; ++k) {
      const double aik = a[i * n + k];
      const double* bk = b.data() + k * n;
      double* ci = c.data() + i * n;
      for (std::size_t j = 0; j < n; ++j) ci[j] += aik * bk[j];
    }
  }
  return c;
}

bool all_finite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

}  // namespace

// Two passes: the mean, then the sum of outer products of the centred vectors (stable where
// sum(x x^T) - n mu mu^T would cancel). Only the upper triangle is accumulated, then mirrored:
// n d (d + 1) / 2 multiply-adds, the bulk of an eval's cost (10,000 x 128: 8e7).
FeatureMoments feature_moments(std::span<const float> rows, std::size_t dim) {
  if (dim == 0 || rows.size() % dim != 0) {
    throw std::invalid_argument("feature_moments: " + std::to_string(rows.size()) +
                                " values are not whole vectors of " + std::to_string(dim) +
                                " features");
  }
  const std::size_t count = rows.size() / dim;
  if (count < 2) {
    throw std::invalid_argument(
        "feature_moments: a covariance needs at least 2 feature vectors, "
        "got " +
        std::to_string(count));
  }
  FeatureMoments m{.dim = dim, .count = count};
  m.mean.assign(dim, 0.0);
  for (std::size_t r = 0; r < count; ++r) {
    for (std::size_t i = 0; i < dim; ++i) m.mean[i] += rows[r * dim + i];
  }
  for (auto& mu : m.mean) mu /= static_cast<double>(count);
  m.covariance.assign(dim * dim, 0.0);
  std::vector<double> centred(dim);
  for (std::size_t r = 0; r < count; ++r) {
    for (std::size_t i = 0; i < dim; ++i) centred[i] = rows[r * dim + i] - m.mean[i];
    for (std::size_t i = 0; i < dim; ++i) {
      const double ci = centred[i];
      double* row = m.covariance.data() + i * dim;
      for (std::size_t j = i; j < dim; ++j) row[j] += ci * centred[j];
    }
  }
  const double scale = 1.0 / static_cast<double>(count - 1);
  for (std::size_t i = 0; i < dim; ++i) {
    for (std::size_t j = i; j < dim; ++j) {
      m.covariance[i * dim + j] *= scale;
      m.covariance[j * dim + i] = m.covariance[i * dim + j];
    }
  }
  return m;
}

// tr(sqrt(S1 S2)) in the symmetric form: S1 S2 is not symmetric, but with A = sqrt(S1) it is
// similar to A S2 A (A^-1 (A A S2) A), which is symmetric PSD, so its eigenvalues are real and
// >= 0 and tr sqrt(S1 S2) = sum sqrt(eig(A S2 A)). Two symmetric eigendecompositions (dsyev)
// and three matrix products: O(d^3), about 2e7 flops for the cnn's 128 features.
double frechet_distance(const FeatureMoments& a, const FeatureMoments& b) {
  const std::size_t d = a.dim;
  if (b.dim != d) {
    throw std::invalid_argument("frechet_distance: the feature sets have " + std::to_string(d) +
                                " and " + std::to_string(b.dim) + " features");
  }
  for (const auto* m : {&a, &b}) {
    if (d == 0 || m->mean.size() != d || m->covariance.size() != d * d) {
      throw std::invalid_argument("frechet_distance: moments of " + std::to_string(d) +
                                  " features need a mean of " + std::to_string(d) +
                                  " and a covariance of " + std::to_string(d * d) + " values");
    }
  }
  // NaN features (a diverged generator) would reach LAPACK; they have no distance.
  for (const auto* m : {&a, &b}) {
    if (!all_finite(m->mean) || !all_finite(m->covariance)) {
      return std::numeric_limits<double>::quiet_NaN();
    }
  }
  double fd = 0.0;
  for (std::size_t i = 0; i < d; ++i) {
    const double diff = a.mean[i] - b.mean[i];
    fd += diff * diff + a.covariance[i * d + i] + b.covariance[i * d + i];
  }
  const auto root = psd_sqrt(a.covariance, d);
  auto m = multiply(multiply(root, b.covariance, d), root, d);
  for (std::size_t i = 0; i < d; ++i) {  // exactly symmetric again after rounding
    for (std::size_t j = i + 1; j < d; ++j) {
      m[i * d + j] = m[j * d + i] = 0.5 * (m[i * d + j] + m[j * d + i]);
    }
  }
  double trace_sqrt = 0.0;
  for (const double w : symmetric_eigenvalues(m, d, /*with_vectors=*/false)) {
    trace_sqrt += std::sqrt(std::max(0.0, w));
  }
  // A squared distance; what falls below 0 (identical sets) is rounding.
  return std::max(0.0, fd - 2.0 * trace_sqrt);
}

}  // namespace dtrain::eval
