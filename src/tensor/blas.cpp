#include "tensor/blas.h"

#include <cblas.h>

#include "tensor/parallel.h"

namespace dtrain::tensor {

namespace {
CBLAS_TRANSPOSE to_cblas(Trans t) {
  return t == Trans::kYes ? CblasTrans : CblasNoTrans;
}
thread_local GemmRecorder* recorder = nullptr;  // the innermost live one of this thread
}  // namespace

std::string GemmShape::to_string() const {
  return std::string(trans_a == Trans::kYes ? "T" : "N") + (trans_b == Trans::kYes ? "T" : "N") +
         " " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
         (accumulate ? " +C" : "");
}

GemmRecorder::GemmRecorder() : previous_(recorder) {
  recorder = this;
}
GemmRecorder::~GemmRecorder() {
  recorder = previous_;
}

void gemm(Trans trans_a, Trans trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc) {
  if (m == 0 || n == 0) return;
  if (recorder) recorder->calls_.push_back({trans_a, trans_b, m, n, k, beta != 0.0f});
  cblas_sgemm(CblasRowMajor, to_cblas(trans_a), to_cblas(trans_b), m, n, k, alpha, a, lda, b, ldb,
              beta, c, ldc);
}

void gemv(Trans trans_a, int rows, int cols, float alpha, const float* a, int lda, const float* x,
          float beta, float* y) {
  if (rows == 0 || cols == 0) return;
  cblas_sgemv(CblasRowMajor, to_cblas(trans_a), rows, cols, alpha, a, lda, x, 1, beta, y, 1);
}

void set_blas_threads(int threads) {
  openblas_set_num_threads(threads);
  set_pool_threads(threads);
}
int blas_threads() {
  return openblas_get_num_threads();
}

std::string blas_version() {
  return openblas_get_config();
}

}  // namespace dtrain::tensor
