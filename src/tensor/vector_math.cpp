#include "tensor/vector_math.h"

#include <algorithm>
#include <cstdint>

#include "tensor/simd.h"

namespace dtrain::tensor {
namespace {

using simd::IVec;
using simd::kLanes;
using simd::splat;
using simd::Vec;
using UVec = std::uint32_t __attribute__((vector_size(kLanes * sizeof(float))));

// e^x by Cody-Waite range reduction and a degree-6 polynomial (the Cephes expf): x = n ln2 +
// r with |r| <= ln2 / 2, e^r from the polynomial, 2^n put straight into the exponent bits.
// ln2 is split in two (C1 exact in 9 bits, so n * C1 is exact) so r keeps its low bits.
// The clamps keep 2^n a normal float; where x is below them the result is flushed to 0.
inline Vec exp_lanes(Vec x) {
  const Vec hi = splat(88.7228391f), lo = splat(-87.3365447f);
  const Vec big = x > hi ? splat(__builtin_inff()) : splat(0.0f);
  const IVec tiny = x < lo;
  x = x > hi ? hi : x;
  x = x < lo ? lo : x;
  // n = round(x / ln2), as floor(x / ln2 + 0.5): truncation, one down where it rounded up.
  const Vec fx = x * splat(1.44269504088896341f) + splat(0.5f);
  Vec n = __builtin_convertvector(__builtin_convertvector(fx, IVec), Vec);
  n = n > fx ? n - splat(1.0f) : n;
  const Vec r = x - n * splat(0.693359375f) - n * splat(-2.12194440e-4f);
  Vec p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  const Vec y = p * r * r + r + splat(1.0f);
  // 2^n: n + 127 in the exponent field. At x = hi, n is 128: build 2^127 and double it.
  // Unsigned, so a NaN's garbage n wraps instead of overflowing (the result is NaN anyway).
  const UVec ni = (UVec) __builtin_convertvector(n, IVec);
  const IVec top = n > splat(127.0f);
  const UVec e = ((top ? ni - 1u : ni) + 127u) << 23;
  Vec scale;
  static_assert(sizeof scale == sizeof e);
  __builtin_memcpy(&scale, &e, sizeof scale);
  Vec result = y * scale;
  result = top ? result * splat(2.0f) : result;
  result = tiny ? splat(0.0f) : result;
  result = big > splat(0.0f) ? big : result;
  return result;
}

inline Vec sigmoid_lanes(Vec x) {
  return splat(1.0f) / (splat(1.0f) + exp_lanes(-x));
}

inline Vec tanh_lanes(Vec x) {
  return splat(1.0f) - splat(2.0f) / (splat(1.0f) + exp_lanes(x + x));
}

// Applies f to every value; the tail is padded into a whole vector, so every value sees
// the same instructions.
template <typename F>
void each_vector(const float* in, float* out, std::size_t n, F f) {
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) simd::store(out + i, f(simd::load(in + i)));
  if (i < n) {
    float pad[kLanes] = {};
    std::copy(in + i, in + n, pad);
    simd::store(pad, f(simd::load(pad)));
    std::copy(pad, pad + (n - i), out + i);
  }
}

}  // namespace

void exp_values(const float* in, float* out, std::size_t n) {
  each_vector(in, out, n, exp_lanes);
}

void sigmoid_values(const float* in, float* out, std::size_t n) {
  each_vector(in, out, n, sigmoid_lanes);
}

void tanh_values(const float* in, float* out, std::size_t n) {
  each_vector(in, out, n, tanh_lanes);
}

}  // namespace dtrain::tensor
