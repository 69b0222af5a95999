#pragma once
// What the sim tests compare (tests/sim/CMakeLists.txt): for each algorithm and length, the
// same inputs summed by the SMPI build (allreduce_hash_smpi.cpp, MpiCommunicator under
// smpirun) and by the in-process one (allreduce_hash_in_process.cpp, the same algorithm
// classes over InProcessTransport threads) must give the same bits. Both print lines
//   hash ALGO LENGTH FNV1A     float inputs, whose sum depends on the order of additions
//   wrong ALGO LENGTH COUNT    integer inputs (testing/collective_inputs.h), exact sums
// and the test diffs them.
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/rng.h"
#include "testing/collective_inputs.h"

namespace dtrain::test {

// Floats in [-1, 1) with 24 random bits, different for every (rank, index): the sum of P of
// them rounds differently in a different order.
inline float float_input(int rank, std::size_t i) {
  const std::uint64_t bits = derive_seed(0x51A7, static_cast<std::uint64_t>(rank), i) >> 40;
  return static_cast<float>(bits) / static_cast<float>(1 << 23) - 1.0f;
}

inline std::uint64_t hash_floats(std::span<const float> data) {
  Fingerprint f;
  f.add(static_cast<std::uint64_t>(data.size()));
  f.add_bytes(data.data(), data.size_bytes());
  return f.value();
}

// The exact sums of integer_input (testing/collective_inputs.h) over `ranks` ranks.
inline std::vector<float> exact_sums(int ranks, std::size_t n) {
  std::vector<float> sums(n);
  for (std::size_t i = 0; i < n; ++i) {
    long long sum = 0;
    for (int r = 0; r < ranks; ++r) sum += static_cast<long long>(integer_input(r, i));
    sums[i] = static_cast<float>(sum);
  }
  return sums;
}

inline std::uint64_t count_differences(std::span<const float> a, std::span<const float> b) {
  std::uint64_t wrong = 0;
  for (std::size_t i = 0; i < a.size(); ++i) wrong += a[i] != b[i];
  return wrong;
}

// The algorithms both sides run; "auto" is the built-in table's pick for the topology.
inline std::vector<std::string> hash_algos() {
  return {"ring", "rd", "rabenseifner", "hierarchical", "auto"};
}

}  // namespace dtrain::test
