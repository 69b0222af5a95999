#include "bench/sgemm_timing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "core/rng.h"

namespace dtrain::bench {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<float> random_matrix(std::size_t size, Rng& rng) {
  std::vector<float> v(size);
  for (auto& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

}  // namespace

SgemmTiming time_sgemm(const tensor::GemmShape& s, int samples, double min_sample_seconds) {
  using tensor::Trans;
  Rng rng(0x5E3E);
  // Row-major op(A) [M, K] and op(B) [K, N]: a transposed operand is stored the other way.
  const auto a = random_matrix(std::size_t(s.m) * s.k, rng);
  const auto b = random_matrix(std::size_t(s.k) * s.n, rng);
  auto c = random_matrix(std::size_t(s.m) * s.n, rng);
  const int lda = s.trans_a == Trans::kYes ? s.m : s.k;
  const int ldb = s.trans_b == Trans::kYes ? s.k : s.n;
  const float beta = s.accumulate ? 1.0f : 0.0f;
  const auto call = [&] {
    tensor::gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb, beta,
                 c.data(), s.n);
  };
  call();
  auto start = Clock::now();
  call();
  const double one = std::max(std::chrono::duration<double>(Clock::now() - start).count(), 1e-9);
  SgemmTiming t;
  t.calls_per_sample = static_cast<int>(std::clamp(std::ceil(min_sample_seconds / one), 1.0, 1e6));
  t.samples = std::max(samples, 1);
  std::vector<double> per_call;
  for (int i = 0; i < t.samples; ++i) {
    start = Clock::now();
    for (int j = 0; j < t.calls_per_sample; ++j) call();
    per_call.push_back(std::chrono::duration<double>(Clock::now() - start).count() /
                       t.calls_per_sample);
  }
  std::nth_element(per_call.begin(), per_call.begin() + per_call.size() / 2, per_call.end());
  t.seconds_per_call = per_call[per_call.size() / 2];
  return t;
}

}  // namespace dtrain::bench
