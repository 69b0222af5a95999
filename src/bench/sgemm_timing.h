#pragma once
// How fast sgemm runs on one given shape in this process, with the BLAS threads now set:
// the rate a layer's matrix product could reach if nothing but sgemm ran (`dtrain bench
// step`'s roofline).
#include "tensor/blas.h"

namespace dtrain::bench {

struct SgemmTiming {
  double seconds_per_call = 0.0;  // median over the samples
  int calls_per_sample = 0;
  int samples = 0;
  double gflops(const tensor::GemmShape& shape) const {
    return seconds_per_call > 0.0 ? shape.flops() / seconds_per_call * 1e-9 : 0.0;
  }
};

// Times tensor::gemm on operands of the shape's sizes, freshly allocated and filled with
// random values (beta 1 when the shape accumulates, else 0). One untimed call first (it
// faults the pages in and lets OpenBLAS allocate its buffers), then `samples` samples of
// enough back-to-back calls to last at least min_sample_seconds each; returns their median.
SgemmTiming time_sgemm(const tensor::GemmShape& shape, int samples = 7,
                       double min_sample_seconds = 2e-3);

}  // namespace dtrain::bench
