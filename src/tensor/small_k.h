#pragma once
// Matrix products whose inner dimension K is tiny, as in a first convolution layer over a
// 1-channel image (K = 3*3*1 = 9). BLAS packs its operands for large K and reaches a small
// fraction of peak here; these loops vectorize over N instead and make one pass over the
// big operands.
#include <cstddef>

namespace dtrain::tensor {

// Up to this K the kernels below beat OpenBLAS sgemm on the shapes convolutions produce.
inline constexpr int kSmallK = 16;

// C[M,N] = A[M,K] * B[N,K]^T + bias[N] (bias null: none).
void small_k_forward(int m, int n, int k, const float* a, const float* b, const float* bias,
                     float* c);
// B_grad[N,K] += C_grad[M,N]^T * A[M,K] and bias_grad[N] += column sums of C_grad (bias_grad
// null: no bias sums are accumulated at all).
// The sums run over at most 16 chunks of whole groups of group_rows rows (a convolution's
// rows of one sample) in parallel (tensor/parallel.h), then in chunk order: the same bits
// for any number of threads. m must be a multiple of group_rows.
void small_k_backward(int m, int n, int k, const float* c_grad, const float* a, float* b_grad,
                      float* bias_grad, int group_rows = 1);

}  // namespace dtrain::tensor
