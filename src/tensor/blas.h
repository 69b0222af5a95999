#pragma once
// The one door to BLAS. Only blas.cpp includes <cblas.h>, so the rest of the engine does not
// depend on which CBLAS is installed. Matrices are row-major.
#include <string>
#include <vector>

namespace dtrain::tensor {

enum class Trans { kNo, kYes };

// The shape of one gemm() call: what a FLOP count or a roofline needs to know about it.
struct GemmShape {
  Trans trans_a = Trans::kNo, trans_b = Trans::kNo;
  int m = 0, n = 0, k = 0;
  bool accumulate = false;  // beta != 0: C is read as well as written
  double flops() const { return 2.0 * double(m) * double(n) * double(k); }
  bool operator==(const GemmShape&) const = default;
  auto operator<=>(const GemmShape&) const = default;
  std::string to_string() const;  // e.g. "NT 3136x32x9 +C"
};

// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
void gemm(Trans trans_a, Trans trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc);

// While one is alive, the gemm() calls of the thread that made it are appended to it (shapes
// only), so tests and `dtrain bench step` can check a layer's declared GEMMs against what it
// runs. Costs one thread-local load per gemm() otherwise.
class GemmRecorder {
 public:
  GemmRecorder();
  ~GemmRecorder();
  GemmRecorder(const GemmRecorder&) = delete;
  GemmRecorder& operator=(const GemmRecorder&) = delete;
  const std::vector<GemmShape>& calls() const { return calls_; }
  void clear() { calls_.clear(); }

 private:
  friend void gemm(Trans, Trans, int, int, int, float, const float*, int, const float*, int, float,
                   float*, int);
  std::vector<GemmShape> calls_;
  GemmRecorder* previous_;
};

// y[M] = alpha * op(A) x + beta * y, with A stored [rows, cols] row-major.
void gemv(Trans trans_a, int rows, int cols, float alpha, const float* a, int lda, const float* x,
          float beta, float* y);

// Threads OpenBLAS may use in this process (--threads), and the threads of dtrain's own
// loops (tensor/parallel.h). OpenBLAS otherwise starts one spinning thread per core, which
// starves other ranks on the same node.
void set_blas_threads(int threads);
int blas_threads();
// e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64".
std::string blas_version();

}  // namespace dtrain::tensor
