#pragma once
// 16-bit gradients on the wire (--grad-compression fp16|bf16), summed in float32 so that the
// sum is bitwise identical on every rank.
//
// The scheme: every rank rounds each value of its bucket once to 16 bits (IEEE binary16 or
// bfloat16, round to nearest even); the 16-bit payloads are allgathered, so every rank holds
// all P rounded contributions; every rank then widens them back to float32 and adds them in
// rank order 0, 1, ..., P-1. Same inputs, same order, same float32 arithmetic: the same bits
// on every rank, and no second rounding to 16 bits of a partial sum.
//
// Cost: each rank sends its n 16-bit values to the P-1 others and receives (P-1) n of them:
// 2(P-1)n bytes in, against the float32 ring's 8(P-1)/P n. Half the ring's traffic at P=2,
// 3/4 at P=3, equal at P=4, more beyond: worth it on a slow link between few ranks (the
// case it exists for); at P >= 4 a reduce-scatter of 16-bit values followed by an allgather
// of the float32 sums would beat it (not built yet).
//
// Error feedback (--error-feedback): what rounding dropped from a value (v - round(v), exact
// in float32) is kept per element and added to that element before rounding at the next
// step, so small gradients are delayed rather than lost. The residual is this rank's own.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "comm/communicator.h"

namespace dtrain::comm {

enum class Compression { kNone, kFp16, kBf16 };

// "none", "fp16", "bf16"; anything else throws ConfigError naming --grad-compression.
Compression parse_compression(const std::string& name);
std::string compression_name(Compression c);

// IEEE 754 binary16, round to nearest even; overflow gives infinity, NaN stays NaN.
std::uint16_t float_to_half(float value);
float half_to_float(std::uint16_t bits);
// bfloat16 (the upper half of a float32), round to nearest even; NaN stays NaN.
std::uint16_t float_to_bfloat16(float value);
float bfloat16_to_float(std::uint16_t bits);

class CompressedAllreduce {
 public:
  explicit CompressedAllreduce(Compression compression);

  // Replaces data with the float32 sum over ranks of every rank's rounded data (see above).
  // residual: empty, or data.size() values of this rank's error feedback, updated in place.
  // Collective: every rank passes the same length. Scratch grows to the largest bucket.
  void allreduce_sum(Communicator& comm, std::span<float> data, std::span<float> residual);

 private:
  void encode_all(std::span<const float> in, std::span<std::uint16_t> out) const;
  // out = (add ? out : 0) + widened in, elementwise in float32.
  void decode_into(std::span<const std::uint16_t> in, std::span<float> out, bool add) const;

  Compression compression_;
  std::vector<std::uint16_t> mine_;
  std::vector<std::uint16_t> all_;
};

}  // namespace dtrain::comm
