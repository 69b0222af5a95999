#include "tensor/small_k.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace dtrain::tensor {

namespace {
constexpr int kMaxN = 256;  // accumulators kept on the stack: kSmallK * kMaxN floats
}

void small_k_forward(int m, int n, int k, const float* a, const float* b, const float* bias,
                     float* c) {
  if (k > kSmallK || n > kMaxN) throw std::invalid_argument("small_k_forward: K or N too large");
  // B transposed to [K][N] so the inner loop runs over N contiguously in both operands.
  float bt[kSmallK * kMaxN];
  for (int j = 0; j < n; ++j) {
    for (int kk = 0; kk < k; ++kk) bt[kk * n + j] = b[j * k + kk];
  }
  for (int i = 0; i < m; ++i) {
    const float* __restrict ai = a + static_cast<std::size_t>(i) * k;
    float* __restrict ci = c + static_cast<std::size_t>(i) * n;
    for (int j = 0; j < n; ++j) ci[j] = bias[j];
    for (int kk = 0; kk < k; ++kk) {
      const float av = ai[kk];
      const float* __restrict bk = bt + kk * n;
      for (int j = 0; j < n; ++j) ci[j] += av * bk[j];
    }
  }
}

void small_k_backward(int m, int n, int k, const float* c_grad, const float* a, float* b_grad,
                      float* bias_grad) {
  if (k > kSmallK || n > kMaxN) throw std::invalid_argument("small_k_backward: K or N too large");
  // Accumulate into [K][N] (vectorized over N), then add transposed into B_grad [N][K].
  float acc[kSmallK * kMaxN];
  float bias_acc[kMaxN];
  std::fill_n(acc, k * n, 0.0f);
  std::fill_n(bias_acc, n, 0.0f);
  for (int i = 0; i < m; ++i) {
    const float* __restrict gi = c_grad + static_cast<std::size_t>(i) * n;
    const float* __restrict ai = a + static_cast<std::size_t>(i) * k;
    for (int j = 0; j < n; ++j) bias_acc[j] += gi[j];
    for (int kk = 0; kk < k; ++kk) {
      const float av = ai[kk];
      float* __restrict acc_k = acc + kk * n;
      for (int j = 0; j < n; ++j) acc_k[j] += av * gi[j];
    }
  }
  for (int j = 0; j < n; ++j) {
    bias_grad[j] += bias_acc[j];
    for (int kk = 0; kk < k; ++kk) b_grad[j * k + kk] += acc[kk * n + j];
  }
}

}  // namespace dtrain::tensor
