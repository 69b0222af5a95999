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
  float bt_storage[kSmallK * kMaxN];
  transpose_b(n, k, b, bt_storage);
  const float* bt = bt_storage;
  const int whole = n - n % kColBlock;
  const auto ldc = static_cast<std::size_t>(n);
  // Rows are independent: any cut gives the same bits; even-sized chunks keep the pairs.
  const int chunks = std::max(1, std::min(4 * pool_threads(), m / 512));
  parallel_for(chunks, [=](int chunk) {
    const auto range = chunk_range(m / 2, chunks, chunk);
    const int r0 = static_cast<int>(range.begin) * 2;
    const int r1 = chunk == chunks - 1 ? m : static_cast<int>(range.end) * 2;
    int i = r0;
    for (; i + 2 <= r1; i += 2) {
      for (int j0 = 0; j0 < whole; j0 += kColBlock) {
        forward_rows<2>(i, n, k, j0, a, bt, bias, c + i * ldc, ldc);
      }
    }
    for (; i < r1; ++i) {
      for (int j0 = 0; j0 < whole; j0 += kColBlock) {
        forward_rows<1>(i, n, k, j0, a, bt, bias, c + i * ldc, ldc);
      }
    }
    for (int r = r0; r < r1 && whole < n; ++r) {
      forward_tail(r, n, k, whole, a, bt, bias, c + r * ldc);
    }
  });
}

// Rows in chunks of whole groups, one partial sum each (chunked_grad); inside a chunk, rows
// in L1-sized runs that every column block's accumulators (registers, K a template
// parameter) take in turn, so each partial element sums its rows in order.
void small_k_backward(int m, int n, int k, const float* c_grad, const float* a, float* b_grad,
                      float* bias_grad, int group_rows) {
  check_shape(n, k, "small_k_backward");
  if (group_rows <= 0 || m % group_rows != 0) {
    throw std::invalid_argument("small_k_backward: rows are not whole groups");
  }
  constexpr int kRun = 64;
  const int whole = n - n % kLanes;
  chunked_grad(m / group_rows, n, k, b_grad, bias_grad,
               [=](long first, long end, float* b_part, float* bias_part) {
                 const int r0 = static_cast<int>(first) * group_rows,
                           r1 = static_cast<int>(end) * group_rows;
                 with_k_bias(k, bias_part != nullptr, [&](auto k_constant, auto bias_constant) {
                   constexpr int K = decltype(k_constant)::value;
                   using Block = BlockGrad<K, decltype(bias_constant)::value>;
                   Block blocks[kMaxN / kLanes];
                   for (int i0 = r0; i0 < r1; i0 += kRun) {
                     const int i1 = std::min(r1, i0 + kRun);
                     for (int j0 = 0; j0 < whole; j0 += kLanes) {
                       Block acc = blocks[j0 / kLanes];
                       for (int i = i0; i < i1; ++i) {
                         acc.add_row(load(c_grad + std::size_t(i) * n + j0),
                                     a + std::size_t(i) * K);
                       }
                       blocks[j0 / kLanes] = acc;
                     }
                   }
                   for (int j0 = 0; j0 < whole; j0 += kLanes)
                     blocks[j0 / kLanes].finish(j0, b_part, bias_part);
                 });
                 if (whole < n) {
                   TailGrad tail(whole, n, k, bias_part != nullptr);
                   for (int i = r0; i < r1; ++i) {
                     tail.add_row(c_grad + std::size_t(i) * n + whole, a + std::size_t(i) * k);
                   }
                   tail.finish(b_part, bias_part);
                 }
               });
}

}  // namespace dtrain::tensor
