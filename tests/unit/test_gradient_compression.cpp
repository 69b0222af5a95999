// 16-bit gradients: the rounding of known inputs (nearest even, subnormals, overflow, NaN)
// for fp16 and bf16; the compressed allreduce's exact sums of hand-made gradients, the same
// bits on every rank; error feedback delivering what rounding dropped one step later.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "comm/sync/gradient_compression.h"
#include "core/errors.h"
#include "testing/in_process_communicator.h"

namespace dtrain::comm {
namespace {

TEST(Fp16, RoundsToNearestEven) {
  EXPECT_EQ(float_to_half(0.0f), 0x0000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(0.1f), 0x2e66);      // 0.0999755859375
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);  // the largest half
  // Spacing at 1 is 2^-10: a quarter rounds down, a half ties to even, three quarters up.
  EXPECT_EQ(float_to_half(1.0f + 0x1p-12f), 0x3c00);
  EXPECT_EQ(float_to_half(1.0f + 0x1p-11f), 0x3c00);      // tie: 0x3c00 is even
  EXPECT_EQ(float_to_half(1.0f + 3 * 0x1p-11f), 0x3c02);  // tie: 0x3c02 is even
  EXPECT_EQ(float_to_half(1.0f + 3 * 0x1p-12f), 0x3c01);
  EXPECT_EQ(float_to_half(2047.5f), 0x6800);  // rounding carries into the exponent: 2048
  // Overflow: 65519 rounds down, 65520 is the tie that goes to infinity.
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);
  EXPECT_EQ(float_to_half(-1e6f), 0xfc00);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::quiet_NaN()) & 0x7e00, 0x7e00);
  // Subnormals: units of 2^-24.
  EXPECT_EQ(float_to_half(0x1p-14f), 0x0400);  // smallest normal
  EXPECT_EQ(float_to_half(0x1p-24f), 0x0001);
  EXPECT_EQ(float_to_half(0x1p-25f), 0x0000);             // tie: to even, zero
  EXPECT_EQ(float_to_half(3 * 0x1p-25f), 0x0002);         // 1.5 units: tie to even, 2
  EXPECT_EQ(float_to_half(0x1p-14f - 0x1p-25f), 0x0400);  // rounds up into the normals
  EXPECT_EQ(float_to_half(-0x1p-24f), 0x8001);
  EXPECT_EQ(float_to_half(1e-10f), 0x0000);
}

TEST(Fp16, WidensExactly) {
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0x3c01), 1.0f + 0x1p-10f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), 0x1p-24f);
  EXPECT_EQ(half_to_float(0x03ff), 1023 * 0x1p-24f);
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_TRUE(std::isinf(half_to_float(0xfc00)) && half_to_float(0xfc00) < 0);
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
  for (std::uint32_t h = 0; h < 0x7c00; ++h) {  // every finite half survives the round trip
    ASSERT_EQ(float_to_half(half_to_float(static_cast<std::uint16_t>(h))), h);
  }
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(float_to_bfloat16(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bfloat16(-1.0f), 0xbf80);
  EXPECT_EQ(float_to_bfloat16(1.0f + 0x1p-9f), 0x3f80);      // a quarter of the spacing
  EXPECT_EQ(float_to_bfloat16(1.0f + 0x1p-8f), 0x3f80);      // tie, to even
  EXPECT_EQ(float_to_bfloat16(1.0f + 3 * 0x1p-8f), 0x3f82);  // tie, to even
  EXPECT_EQ(float_to_bfloat16(1.0f + 3 * 0x1p-9f), 0x3f81);
  EXPECT_EQ(float_to_bfloat16(1e-40f), 0x0001);  // bfloat16 keeps float32's subnormals
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::max()), 0x7f80);  // overflow: inf
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::quiet_NaN()) & 0x7fc0, 0x7fc0);
  EXPECT_EQ(bfloat16_to_float(0x3f81), 1.0f + 0x1p-7f);
}

TEST(Compression, ParsesTheOption) {
  EXPECT_EQ(parse_compression("none"), Compression::kNone);
  EXPECT_EQ(parse_compression("fp16"), Compression::kFp16);
  EXPECT_EQ(parse_compression("bf16"), Compression::kBf16);
  try {
    parse_compression("int8");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--grad-compression"), std::string::npos);
  }
}

// Rank r's gradient element i: i + 1 + (r+1) 2^-12. At i = 0 the fp16 spacing is 2^-10, so
// rank 0 adds a quarter of it (rounds down), rank 1 a half (a tie, to even: down), rank 2
// three quarters (up). For i >= 1 the spacing is 2^-9 or more: every rank rounds down.
float hand_made(int rank, std::size_t i) {
  return static_cast<float>(i) + 1.0f + static_cast<float>(rank + 1) * 0x1p-12f;
}

TEST(CompressedAllreduce, SumsTheRoundedValuesExactlyAndIdenticallyOnEveryRank) {
  std::vector<std::vector<float>> results(3);
  test::run_communicator_ranks(3, [&](Communicator& comm) {
    CompressedAllreduce reduce(Compression::kFp16);
    std::vector<float> g(4);
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = hand_made(comm.rank(), i);
    reduce.allreduce_sum(comm, g, {});
    results[static_cast<std::size_t>(comm.rank())] = g;
  });
  // i = 0: 1 + 1 + (1 + 2^-10); then 2 + 2 + 2, 3 + 3 + 3, 4 + 4 + 4.
  const std::vector<float> expected{3.0f + 0x1p-10f, 6.0f, 9.0f, 12.0f};
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(results[static_cast<std::size_t>(r)], expected) << "rank " << r;
  }
}

TEST(CompressedAllreduce, ErrorFeedbackDeliversWhatRoundingDroppedNextStep) {
  test::run_communicator_ranks(3, [&](Communicator& comm) {
    CompressedAllreduce reduce(Compression::kFp16);
    std::vector<float> residual(1, 0.0f);
    std::vector<float> g{hand_made(comm.rank(), 0)};
    reduce.allreduce_sum(comm, g, residual);
    EXPECT_EQ(g[0], 3.0f + 0x1p-10f);
    // What each rank dropped: +2^-12, +2^-11, -2^-12.
    const float dropped[] = {0x1p-12f, 0x1p-11f, -0x1p-12f};
    EXPECT_EQ(residual[0], dropped[comm.rank()]);
    // Step 2, the same gradient plus the residual: 1 + 2^-11 (tie, to 1), 1 + 2^-10 (exact),
    // 1 + 2^-11 (tie, to 1); new residuals 2^-11, 0, 2^-11.
    g[0] = hand_made(comm.rank(), 0);
    reduce.allreduce_sum(comm, g, residual);
    EXPECT_EQ(g[0], 3.0f + 0x1p-10f);
    const float kept[] = {0x1p-11f, 0.0f, 0x1p-11f};
    EXPECT_EQ(residual[0], kept[comm.rank()]);
    // Over the two steps the ranks contributed 6 + 12 2^-12 = 6 + 3 2^-10; delivered:
    // 6 + 2 2^-10, with 2^-10 still in the residuals (2^-11 + 2^-11): nothing lost.
    float total_residual = residual[0];
    std::vector<double> sum{total_residual};
    comm.allreduce_sum(std::span<double>(sum));
    EXPECT_EQ(sum[0], 0x1p-10);
  });
}

TEST(CompressedAllreduce, WholeArraysRoundLikeTheScalarConversions) {
  // The array path may use F16C instructions; it must give the scalar functions' bits for
  // every magnitude: subnormals, ties, overflow, signs, and odd lengths (the scalar tail).
  std::vector<float> x;
  for (std::uint32_t bits = 0; bits < 0xffffffffu - 0x10000u; bits += 0x1357u) {
    const float v = std::bit_cast<float>(bits);
    if (!std::isnan(v)) x.push_back(v);
  }
  x.resize(x.size() - 3);  // not a multiple of 8
  for (const auto c : {Compression::kFp16, Compression::kBf16}) {
    test::run_communicator_ranks(1, [&](Communicator& comm) {
      CompressedAllreduce reduce(c);
      std::vector<float> y = x;
      reduce.allreduce_sum(comm, y, {});
      for (std::size_t i = 0; i < x.size(); ++i) {
        const float want = c == Compression::kFp16 ? half_to_float(float_to_half(x[i]))
                                                   : bfloat16_to_float(float_to_bfloat16(x[i]));
        ASSERT_EQ(std::bit_cast<std::uint32_t>(y[i]), std::bit_cast<std::uint32_t>(want))
            << compression_name(c) << " at " << x[i];
      }
    });
  }
}

TEST(CompressedAllreduce, Bf16SumsInFloat32) {
  test::run_communicator_ranks(2, [&](Communicator& comm) {
    CompressedAllreduce reduce(Compression::kBf16);
    // 1 + 3 2^-9 rounds to 1 + 2^-7 (three quarters of the spacing 2^-7, up).
    std::vector<float> g{1.0f + 3 * 0x1p-9f, 256.0f};
    reduce.allreduce_sum(comm, g, {});
    EXPECT_EQ(g[0], 2.0f + 2 * 0x1p-7f);
    EXPECT_EQ(g[1], 512.0f);
  });
}

}  // namespace
}  // namespace dtrain::comm
