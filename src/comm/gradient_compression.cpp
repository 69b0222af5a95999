#include "comm/gradient_compression.h"

#include <bit>
#include <cmath>

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

std::uint16_t CompressedAllreduce::encode(float v) const {
  return compression_ == Compression::kFp16 ? float_to_half(v) : float_to_bfloat16(v);
}

float CompressedAllreduce::decode(std::uint16_t b) const {
  return compression_ == Compression::kFp16 ? half_to_float(b) : bfloat16_to_float(b);
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
    for (std::size_t i = 0; i < n; ++i) mine_[i] = encode(data[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const float v = data[i] + residual[i];
      mine_[i] = encode(v);
      // Exact in float32: a value minus its rounding fits in 24 significant bits.
      const float kept = v - decode(mine_[i]);
      residual[i] = std::isfinite(kept) ? kept : 0.0f;
    }
  }
  comm.allgather(mine_, all_);
  // Rank order, one float32 addition per rank, element by element: the same on every rank.
  for (std::size_t i = 0; i < n; ++i) data[i] = decode(all_[i]);
  for (std::size_t r = 1; r < p; ++r) {
    const std::uint16_t* part = all_.data() + r * n;
    for (std::size_t i = 0; i < n; ++i) data[i] += decode(part[i]);
  }
}

}  // namespace dtrain::comm
