// exp, sigmoid and tanh over arrays, a whole vector of lanes at a time. glibc's expf runs
// one value per call (~5 ns here): the LSTM's cell, 5 transcendental values per unit and
// time step, spent 12 of its 17.5 ms forward pass in it (bench step, batch 128).
//
// Every value goes through the same vector code, the array's tail included (padded into a
// full vector), so a value's result does not depend on where it sits in the array or on the
// array's length: np=1 and np=P compute the same bits for every sample. Builds for other
// ISAs (AVX-512, AVX2, SSE2) may differ from each other in the last bit (FMA contraction),
// never within one build.
#pragma once

#include <cstddef>

namespace dtrain::tensor {

// e^x, relative error within 2 ulp of the float result for x in [-87.3, 88.7]; below that
// range 0 (flushing, where expf goes subnormal), above it +inf; NaN gives NaN.
void exp_values(const float* in, float* out, std::size_t n);

// 1 / (1 + e^-x): absolute error below 2e-7; saturates to exactly 0 and 1, never NaN for
// finite or infinite x.
void sigmoid_values(const float* in, float* out, std::size_t n);

// tanh as 1 - 2 / (1 + e^2x): absolute error below 3e-7 (near 0 the error is absolute,
// not relative, as for the scalar form the recurrent cells used); saturates to exactly -1
// and 1.
void tanh_values(const float* in, float* out, std::size_t n);

}  // namespace dtrain::tensor
