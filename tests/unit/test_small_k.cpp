// The small-K kernels against OpenBLAS on the same operands, and the layer that uses them
// (a 1-channel convolution) against finite differences.
#include <gtest/gtest.h>

#include <vector>

#include "nn/model_config.h"
#include "tensor/blas.h"
#include "tensor/small_k.h"
#include "testing/gradient_check.h"

namespace dtrain::tensor {
namespace {

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

TEST(SmallK, ForwardMatchesBlas) {
  for (int k : {1, 9, 16}) {
    const int m = 37, n = 65;  // two whole register blocks and a tail
    auto a = random_vector(m * k, 1), b = random_vector(n * k, 2), bias = random_vector(n, 3);
    std::vector<float> c(m * n), ref(m * n);
    small_k_forward(m, n, k, a.data(), b.data(), bias.data(), c.data());
    for (int i = 0; i < m; ++i) std::copy(bias.begin(), bias.end(), ref.begin() + i * n);
    gemm(Trans::kNo, Trans::kYes, m, n, k, 1.0f, a.data(), k, b.data(), k, 1.0f, ref.data(), n);
    for (int i = 0; i < m * n; ++i) ASSERT_NEAR(c[i], ref[i], 1e-5) << "k " << k << " i " << i;
  }
}

TEST(SmallK, BackwardAccumulatesLikeBlas) {
  for (int k : {1, 9, 16}) {    // K is a template parameter: the ends and the cnn's
    const int m = 101, n = 37;  // whole blocks of every vector width and a tail
    auto dc = random_vector(m * n, 4), a = random_vector(m * k, 5);
    auto db = random_vector(n * k, 6), dbias = random_vector(n, 7);
    auto ref_db = db, ref_dbias = dbias;
    small_k_backward(m, n, k, dc.data(), a.data(), db.data(), dbias.data());
    gemm(Trans::kYes, Trans::kNo, n, k, m, 1.0f, dc.data(), n, a.data(), k, 1.0f, ref_db.data(), k);
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) ref_dbias[j] += dc[i * n + j];
    }
    for (int i = 0; i < n * k; ++i) EXPECT_NEAR(db[i], ref_db[i], 1e-4) << "k " << k;
    for (int j = 0; j < n; ++j) EXPECT_NEAR(dbias[j], ref_dbias[j], 1e-4) << "k " << k;
  }
}

TEST(SmallK, NullBiasMeansNoneAndItsGradientIsNotComputed) {
  for (int n : {3, 32, 40}) {  // the tail only, whole register blocks, both
    const int m = 21, k = 9;
    auto a = random_vector(m * k, 1), b = random_vector(n * k, 2), dc = random_vector(m * n, 3);
    std::vector<float> zeros(n, 0.0f), with_zeros(m * n), without(m * n);
    small_k_forward(m, n, k, a.data(), b.data(), zeros.data(), with_zeros.data());
    small_k_forward(m, n, k, a.data(), b.data(), nullptr, without.data());
    EXPECT_EQ(with_zeros, without) << "n " << n;
    std::vector<float> db_bias(n * k, 0.0f), db_none(n * k, 0.0f), dbias(n, 0.0f);
    small_k_backward(m, n, k, dc.data(), a.data(), db_bias.data(), dbias.data());
    small_k_backward(m, n, k, dc.data(), a.data(), db_none.data(), nullptr);
    EXPECT_EQ(db_bias, db_none) << "n " << n;
  }
}

TEST(SmallK, SingleChannelConvGradientCheck) {
  nn::ModelConfig config{"conv1ch", 6, 7, 1, {{.type = "conv2d", .filters = 4, .kernel = 3}}};
  auto model = nn::build_model(config);
  model->init_params(5);
  Tensor x(model->input_shape().with_batch(3));
  testing::fill_uniform(x, 9);
  testing::expect_gradients_match(*model, x);
}

}  // namespace
}  // namespace dtrain::tensor
