#include "tensor/small_k.h"

#include "tensor/small_k_rows.h"

namespace dtrain::tensor {

using namespace small_k_detail;

// Rows in pairs, columns in blocks of kColBlock (small_k_rows.h); per element the sum runs
// bias, then kk = 0..K-1 in order in every path, so the result does not depend on M or on
// where a row falls.
void small_k_forward(int m, int n, int k, const float* a, const float* b, const float* bias,
                     float* c) {
  check_shape(n, k, "small_k_forward");
  float bt[kSmallK * kMaxN];
  transpose_b(n, k, b, bt);
  const int whole = n - n % kColBlock;
  const auto ldc = static_cast<std::size_t>(n);
  int i = 0;
  for (; i + 2 <= m; i += 2) {
    for (int j0 = 0; j0 < whole; j0 += kColBlock) {
      forward_rows<2>(i, n, k, j0, a, bt, bias, c + i * ldc, ldc);
    }
  }
  for (; i < m; ++i) {
    for (int j0 = 0; j0 < whole; j0 += kColBlock) {
      forward_rows<1>(i, n, k, j0, a, bt, bias, c + i * ldc, ldc);
    }
  }
  if (whole < n) {
    for (int r = 0; r < m; ++r) forward_tail(r, n, k, whole, a, bt, bias, c + r * ldc);
  }
}

// Rows in chunks that stay in L1 while every column block's accumulators (registers, K a
// template parameter) take them in turn; each gradient element still sums rows in order.
void small_k_backward(int m, int n, int k, const float* c_grad, const float* a, float* b_grad,
                      float* bias_grad) {
  check_shape(n, k, "small_k_backward");
  constexpr int kChunk = 64;
  const int whole = n - n % kLanes;
  with_k(k, [&](auto k_constant) {
    constexpr int K = decltype(k_constant)::value;
    BlockGrad<K> blocks[kMaxN / kLanes];
    for (int i0 = 0; i0 < m; i0 += kChunk) {
      const int i1 = std::min(m, i0 + kChunk);
      for (int j0 = 0; j0 < whole; j0 += kLanes) {
        BlockGrad<K> acc = blocks[j0 / kLanes];
        for (int i = i0; i < i1; ++i) {
          acc.add_row(load(c_grad + std::size_t(i) * n + j0), a + std::size_t(i) * K);
        }
        blocks[j0 / kLanes] = acc;
      }
    }
    for (int j0 = 0; j0 < whole; j0 += kLanes) blocks[j0 / kLanes].finish(j0, b_grad, bias_grad);
  });
  if (whole < n) {
    TailGrad tail(whole, n, k);
    for (int i = 0; i < m; ++i) {
      tail.add_row(c_grad + std::size_t(i) * n + whole, a + std::size_t(i) * k);
    }
    tail.finish(b_grad, bias_grad);
  }
}

}  // namespace dtrain::tensor
