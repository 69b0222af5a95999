#include "comm/sync/gradient_compression.h"

#include <bit>
#include <cmath>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "core/errors.h"

namespace dtrain::comm {

Compression parse_compression(const std::string& name) {
  if (name == "none") return Compression::kNone;
  if (name == "fp16") return Compression::kFp16;
  if (name == "bf16") return Compression::kBf16;
  throw ConfigError("--grad-compression: got '" + name + "', expected none, fp16 or bf16");
}

std::string compression_name(Compression c) {
  switch (c) {
    case Compression::kFp16:
      return "fp16";
    case Compression::kBf16:
      return "bf16";
    case Compression::kNone:
      break;
  }
  return "none";
}

std::uint16_t float_to_half(float value) {
  const auto x = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // infinity, or NaN (kept quiet)
    return static_cast<std::uint16_t>(sign | (abs > 0x7f800000u ? 0x7e00u : 0x7c00u));
  }
  if (abs >= 0x477ff000u) {  // >= 65520: past halfway above the largest half (65504)
    return static_cast<std::uint16_t>(sign | 0x7c00u);
  }
  if (abs < 0x38800000u) {  // below 2^-14: a subnormal half (or zero), in units of 2^-24
    // Scaling by 2^24 is exact; nearbyint rounds to nearest even in the default mode.
    const float units = std::bit_cast<float>(abs) * 16777216.0f;
    return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(std::nearbyint(units)));
  }
  // Normal: drop 13 mantissa bits rounding to nearest even (a carry may bump the exponent,
  // which is the right result), then move the exponent bias from 127 to 15.
  const std::uint32_t rounded = abs + 0x0fffu + ((abs >> 13) & 1u);
  return static_cast<std::uint16_t>(sign | ((rounded - (112u << 23)) >> 13));
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = (bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  const std::uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float32
    const float v = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

std::uint16_t float_to_bfloat16(float value) {
  const auto x = std::bit_cast<std::uint32_t>(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
  // Round to nearest even on bit 16; overflow carries into the exponent and gives infinity.
  return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float bfloat16_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

CompressedAllreduce::CompressedAllreduce(Compression compression) : compression_(compression) {
  if (compression == Compression::kNone) {
    throw std::logic_error("CompressedAllreduce without a compression");
  }
}

namespace {

// The conversions over whole arrays. x86's F16C instructions convert 8 values at once with
// IEEE round-to-nearest-even, the same results as float_to_half/half_to_float above (NaN
// payloads aside, which only matter as "not finite"), so ranks with and without F16C agree.
#if defined(__x86_64__)
// CPUID leaf 1, ECX bit 29 (F16C); AVX through the compiler's own check, which also asks
// whether the OS saves the AVX registers. clang 14's __builtin_cpu_supports knows no "f16c".
bool has_f16c() {
  static const bool yes = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ecx & (1u << 29)) != 0 && __builtin_cpu_supports("avx");
  }();
  return yes;
}

__attribute__((target("avx,f16c"))) void halves_from(const float* in, std::uint16_t* out,
                                                     std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = float_to_half(in[i]);
}

// out[i] = (add ? out[i] : 0) + half(in[i]), in float32.
__attribute__((target("avx,f16c"))) void add_halves(const std::uint16_t* in, float* out,
                                                    std::size_t n, bool add) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    _mm256_storeu_ps(out + i, add ? _mm256_add_ps(_mm256_loadu_ps(out + i), v) : v);
  }
  for (; i < n; ++i) out[i] = add ? out[i] + half_to_float(in[i]) : half_to_float(in[i]);
}
#else
bool has_f16c() {
  return false;
}
void halves_from(const float*, std::uint16_t*, std::size_t) {}
void add_halves(const std::uint16_t*, float*, std::size_t, bool) {}
#endif

}  // namespace

void CompressedAllreduce::encode_all(std::span<const float> in,
                                     std::span<std::uint16_t> out) const {
  if (compression_ == Compression::kFp16 && has_f16c()) {
    halves_from(in.data(), out.data(), in.size());
  } else if (compression_ == Compression::kFp16) {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = float_to_half(in[i]);
  } else {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = float_to_bfloat16(in[i]);
  }
}

void CompressedAllreduce::decode_into(std::span<const std::uint16_t> in, std::span<float> out,
                                      bool add) const {
  if (compression_ == Compression::kFp16 && has_f16c()) {
    add_halves(in.data(), out.data(), in.size(), add);
  } else if (compression_ == Compression::kFp16) {
    for (std::size_t i = 0; i < in.size(); ++i) {
      out[i] = add ? out[i] + half_to_float(in[i]) : half_to_float(in[i]);
    }
  } else {
    for (std::size_t i = 0; i < in.size(); ++i) {
      out[i] = add ? out[i] + bfloat16_to_float(in[i]) : bfloat16_to_float(in[i]);
    }
  }
}

void CompressedAllreduce::allreduce_sum(Communicator& comm, std::span<float> data,
                                        std::span<float> residual) {
  const std::size_t n = data.size();
  if (!residual.empty() && residual.size() != n) {
    throw std::logic_error("CompressedAllreduce: residual and data differ in length");
  }
  const auto p = static_cast<std::size_t>(comm.size());
  mine_.resize(n);
  all_.resize(n * p);
  if (residual.empty()) {
    encode_all(data, mine_);
  } else {
    // v = g + residual, rounded; the new residual is v minus its rounding, exact in float32
    // (a value minus its rounding fits in 24 significant bits).
    for (std::size_t i = 0; i < n; ++i) data[i] += residual[i];
    encode_all(data, mine_);
    decode_into(mine_, residual, false);
    for (std::size_t i = 0; i < n; ++i) {
      const float kept = data[i] - residual[i];
      residual[i] = std::isfinite(kept) ? kept : 0.0f;
    }
  }
  comm.allgather(mine_, all_);
  // Rank order, one float32 addition per rank, element by element: the same on every rank.
  decode_into(std::span<const std::uint16_t>(all_).subspan(0, n), data, false);
  for (std::size_t r = 1; r < p; ++r) {
    decode_into(std::span<const std::uint16_t>(all_).subspan(r * n, n), data, true);
  }
}

}  // namespace dtrain::comm
