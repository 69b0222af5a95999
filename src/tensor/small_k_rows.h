#pragma once
// The per-row arithmetic of the small-K kernels (tensor/small_k.h), shared by the plain
// kernels and the ones fused with max pooling (tensor/small_k_maxpool.h), so that a fused
// and an unfused layer produce the same bits: every element of C is bias, then
// + A[i][kk] * B[j][kk] for kk = 0..K-1 in order; every gradient element sums its rows in
// increasing order. Internal to tensor/.
//
// Why vectors by hand: written as loops over float arrays, GCC vectorizes the column loop
// but keeps the accumulators in memory (a load and a store per FMA, store-bound at one per
// cycle). GCC's vector types make them values the register allocator holds: a pair of rows
// of 32 columns in 8 AVX2 registers for the forward pass; K x kLanes weight-gradient
// accumulators (K a template parameter) for the backward pass.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor/parallel.h"
#include "tensor/simd.h"
#include "tensor/small_k.h"

namespace dtrain::tensor::small_k_detail {

inline constexpr int kMaxN = 256;  // bt and accumulators on the stack: kSmallK * kMaxN floats
using simd::IVec;
using simd::kLanes;
using simd::load;
using simd::splat;
using simd::store;
using simd::Vec;
inline constexpr int kColBlock = 32;  // forward: columns of C kept in registers at a time
inline constexpr int kColVecs = kColBlock / kLanes;

inline void check_shape(int n, int k, const char* who) {
  if (k > kSmallK || n > kMaxN) {
    throw std::invalid_argument(std::string(who) + ": K or N too large");
  }
}

// Calls fn(std::integral_constant<int, K>) for the runtime k in 1..kSmallK.
template <typename Fn>
void with_k(int k, Fn&& fn) {
  [&]<int... Ks>(std::integer_sequence<int, Ks...>) {
    (void)((k == Ks + 1 ? (fn(std::integral_constant<int, Ks + 1>{}), true) : false) || ...);
  }
  (std::make_integer_sequence<int, kSmallK>{});
}

// Calls fn(std::integral_constant<int, K>, std::bool_constant<kBias>) for the runtime k in
// 1..kSmallK and bias: the gradient kernels' accumulators, with or without the bias's.
template <typename Fn>
void with_k_bias(int k, bool bias, Fn&& fn) {
  with_k(k, [&](auto k_constant) {
    if (bias) {
      fn(k_constant, std::true_type{});
    } else {
      fn(k_constant, std::false_type{});
    }
  });
}

// B [N][K] transposed to bt [K][N], so inner loops run over N contiguously in both operands.
inline void transpose_b(int n, int k, const float* b, float* bt) {
  for (int j = 0; j < n; ++j) {
    for (int kk = 0; kk < k; ++kk) bt[kk * n + j] = b[j * k + kk];
  }
}

// Rows i .. i + kRows - 1 of C, columns [j0, j0 + kColBlock), into acc: accumulators in
// registers for the whole K loop, each bt vector feeding every row.
template <int kRows>
inline void rows_block(int i, int n, int k, int j0, const float* a, const float* bt,
                       const float* bias, Vec (&acc)[kRows][kColVecs]) {
  for (int q = 0; q < kColVecs; ++q) {
    const Vec b0 = bias ? load(bias + j0 + q * kLanes) : Vec{};
    for (int r = 0; r < kRows; ++r) acc[r][q] = b0;
  }
  for (int kk = 0; kk < k; ++kk) {
    Vec bk[kColVecs];
    for (int q = 0; q < kColVecs; ++q) bk[q] = load(bt + kk * n + j0 + q * kLanes);
    for (int r = 0; r < kRows; ++r) {
      const Vec av = splat(a[static_cast<std::size_t>(i + r) * k + kk]);
      for (int q = 0; q < kColVecs; ++q) acc[r][q] += av * bk[q];
    }
  }
}

// The same block stored into c (row r at c + r * ldc).
template <int kRows>
inline void forward_rows(int i, int n, int k, int j0, const float* a, const float* bt,
                         const float* bias, float* c, std::size_t ldc) {
  Vec acc[kRows][kColVecs];
  rows_block<kRows>(i, n, k, j0, a, bt, bias, acc);
  for (int r = 0; r < kRows; ++r) {
    for (int q = 0; q < kColVecs; ++q) store(c + r * ldc + j0 + q * kLanes, acc[r][q]);
  }
}

// Columns [j0, n) of row i (those past the last whole block), the same order of additions.
inline void forward_tail(int i, int n, int k, int j0, const float* a, const float* bt,
                         const float* bias, float* ci) {
  const float* __restrict ai = a + static_cast<std::size_t>(i) * k;
  for (int j = j0; j < n; ++j) ci[j] = bias ? bias[j] : 0.0f;
  for (int kk = 0; kk < k; ++kk) {
    const float av = ai[kk];
    const float* __restrict bk = bt + kk * n;
    for (int j = j0; j < n; ++j) ci[j] += av * bk[j];
  }
}

// The weight and bias gradients of kLanes columns [j0, j0 + kLanes), K x kLanes and
// kLanes accumulators in registers while rows are added in the order given; rows left out
// must be all zero (adding +-0 to an accumulator that started at +0 changes no bit, so a
// caller may skip them). Then added, transposed, into B_grad [N][K]. Without kBias (a
// layer without a bias: bias_grad null) the bias accumulators are neither added to nor
// read; the weight accumulators are the same either way, so are their bits.
template <int K, bool kBias>
class BlockGrad {
 public:
  void add_row(Vec g, const float* ai) {
    if constexpr (kBias) bias_ += g;
    for (int kk = 0; kk < K; ++kk) acc_[kk] += splat(ai[kk]) * g;
  }
  void finish(int j0, float* b_grad, float* bias_grad) const {
    for (int l = 0; l < kLanes; ++l) {
      if constexpr (kBias) bias_grad[j0 + l] += bias_[l];
      for (int kk = 0; kk < K; ++kk) b_grad[(j0 + l) * K + kk] += acc_[kk][l];
    }
  }

 private:
  Vec acc_[K] = {};
  Vec bias_ = {};
};

// The same for the columns past the last whole kLanes block, one float at a time; the bias
// sums only when `bias` (then finish's bias_grad must not be null).
class TailGrad {
 public:
  TailGrad(int j0, int n, int k, bool bias) : j0_(j0), n_(n), k_(k), with_bias_(bias) {
    std::fill_n(acc_, k * (n - j0), 0.0f);
    if (with_bias_) std::fill_n(bias_, n - j0, 0.0f);
  }
  void add_row(const float* gi, const float* ai) {  // gi: columns [j0, n)
    const int w = n_ - j0_;
    for (int j = 0; j < w && with_bias_; ++j) bias_[j] += gi[j];
    for (int kk = 0; kk < k_; ++kk) {
      for (int j = 0; j < w; ++j) acc_[kk * w + j] += ai[kk] * gi[j];
    }
  }
  void finish(float* b_grad, float* bias_grad) const {
    const int w = n_ - j0_;
    for (int j = 0; j < w; ++j) {
      if (with_bias_) bias_grad[j0_ + j] += bias_[j];
      for (int kk = 0; kk < k_; ++kk) b_grad[(j0_ + j) * k_ + kk] += acc_[kk * w + j];
    }
  }

 private:
  int j0_, n_, k_;
  bool with_bias_;
  float acc_[kSmallK * kLanes];
  float bias_[kLanes];
};

// The weight and bias gradients in parallel, the same bits for any number of threads: the
// rows are cut into at most kGradChunks chunks of whole groups (a sample's rows), fixed by
// the shape alone; chunk_fn(first_group, end_group, b_part, bias_part) adds the chunk's
// rows into zeroed partial sums of its own, which are then added into b_grad and bias_grad
// in chunk order. With bias_grad null there are no bias partial sums: bias_part is null.
inline constexpr int kGradChunks = 16;

inline int grad_chunks(long groups) {
  return static_cast<int>(std::min<long>(kGradChunks, std::max<long>(groups, 1)));
}

template <typename ChunkFn>
void chunked_grad(long groups, int n, int k, float* b_grad, float* bias_grad, ChunkFn&& chunk_fn) {
  const int chunks = grad_chunks(groups);
  const std::size_t weights = std::size_t(n) * k;
  const std::size_t stride = weights + (bias_grad ? n : 0);
  thread_local std::vector<float> parts;  // grows once; no allocation per step
  parts.assign(chunks * stride, 0.0f);
  float* base = parts.data();
  parallel_for(chunks, [&](int c) {
    const auto range = chunk_range(groups, chunks, c);
    float* part = base + c * stride;
    chunk_fn(range.begin, range.end, part, bias_grad ? part + weights : nullptr);
  });
  for (int c = 0; c < chunks; ++c) {
    const float* b_part = base + c * stride;
    for (std::size_t i = 0; i < weights; ++i) b_grad[i] += b_part[i];
    for (int j = 0; j < n && bias_grad; ++j) bias_grad[j] += b_part[weights + j];
  }
}

}  // namespace dtrain::tensor::small_k_detail
