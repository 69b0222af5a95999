// The build's widest float vector as a GCC vector type, and its loads and stores: what the
// hand-vectorized kernels (small_k, vector_math) compute with.
#pragma once

#include <cstdint>
#include <cstring>

namespace dtrain::tensor::simd {

// The widest vector the build targets (-march=native by default; DTRAIN_NATIVE=OFF: SSE2),
// so no vector crosses a function boundary wider than the ABI passes in registers.
#if defined(__AVX512F__)
inline constexpr int kLanes = 16;
#elif defined(__AVX__)
inline constexpr int kLanes = 8;
#else
inline constexpr int kLanes = 4;
#endif
using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));
using IVec = std::int32_t __attribute__((vector_size(kLanes * sizeof(float))));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, Vec v) {
  std::memcpy(p, &v, sizeof v);
}
// A broadcast: x - (+0) is x for every x (-0.0f included, which x + 0 would turn into +0),
// so the compiler folds the subtraction away and keeps the vbroadcastss.
inline Vec splat(float x) {
  return x - Vec{};
}

}  // namespace dtrain::tensor::simd
