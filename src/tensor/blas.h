#pragma once
// The one door to BLAS. Only blas.cpp includes <cblas.h>, so the rest of the engine does not
// depend on which CBLAS is installed. Matrices are row-major.
#include <string>

namespace dtrain::tensor {

enum class Trans { kNo, kYes };

// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
void gemm(Trans trans_a, Trans trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc);

// y[M] = alpha * op(A) x + beta * y, with A stored [rows, cols] row-major.
void gemv(Trans trans_a, int rows, int cols, float alpha, const float* a, int lda, const float* x,
          float beta, float* y);

// Threads OpenBLAS may use in this process (--threads). OpenBLAS otherwise starts one
// spinning thread per core, which starves other ranks on the same node.
void set_blas_threads(int threads);
int blas_threads();
// e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64".
std::string blas_version();

}  // namespace dtrain::tensor
