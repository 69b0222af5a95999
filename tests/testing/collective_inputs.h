#pragma once
// Inputs for exact tests of the allreduce algorithms: pseudo-random integers below 4096,
// different for every (rank, index), so sums of up to 4096 ranks are exact in float and a
// block reduced twice, dropped or put in the wrong place shows up as wrong elements.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace dtrain::test {

inline float integer_input(int rank, std::size_t i, std::uint64_t salt = 0) {
  return static_cast<float>(derive_seed(salt, static_cast<std::uint64_t>(rank), i) % 4096);
}

inline std::size_t count_wrong_sums(const std::vector<float>& data, int ranks,
                                    std::uint64_t salt = 0) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    long long sum = 0;
    for (int r = 0; r < ranks; ++r) sum += static_cast<long long>(integer_input(r, i, salt));
    wrong += data[i] != static_cast<float>(sum);
  }
  return wrong;
}

// The lengths every collective is tested with for P ranks.
inline std::vector<std::size_t> collective_lengths(int ranks) {
  const auto p = static_cast<std::size_t>(ranks);
  return {0, 1, p - 1, p, p + 1, 4097, 10007, (std::size_t{1} << 20) + 3};
}

}  // namespace dtrain::test
