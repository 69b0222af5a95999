// The rates at which the simulated build charges the allreduce algorithms' arithmetic
// (src/comm/collectives/blocks.h, kSimAddBytesPerSecond and kSimCopyBytesPerSecond;
// docs/simulation.md "Compute"): the throughput of the real helpers add_into, add_into_both
// and memcpy, in bytes of result per second, best of 5 rounds, for operands of 32 KiB to
// 64 MiB. Run it on an idle machine: build/bench/sim_compute_rates
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "comm/collectives/blocks.h"

int main() {
  using dtrain::comm::add_into;
  using dtrain::comm::add_into_both;
  for (std::size_t bytes = std::size_t{32} << 10; bytes <= std::size_t{64} << 20; bytes *= 4) {
    const std::size_t n = bytes / sizeof(float);
    std::vector<float> a(n, 1.0f), b(n, 2.0f), c(n, 0.0f), d(n, 0.0f);
    const int reps = std::max(3, static_cast<int>((std::size_t{1} << 30) / bytes));
    double best[3] = {1e9, 1e9, 1e9};
    for (int round = 0; round < 5; ++round) {
      for (int k = 0; k < 3; ++k) {
        const auto start = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) {
          if (k == 0) {
            add_into(c.data(), c.data(), b.data(), n);
          } else if (k == 1) {
            add_into_both(c.data(), d.data(), c.data(), b.data(), n);
          } else {
            std::memcpy(d.data(), (r % 2 == 1 ? a : c).data(), bytes);
          }
        }
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps;
        best[k] = std::min(best[k], s);
      }
    }
    std::printf(
        "%10zu B operands: add_into %6.2f GB/s  add_into_both %6.2f GB/s  memcpy %6.2f GB/s\n",
        bytes, static_cast<double>(bytes) / best[0] / 1e9,
        static_cast<double>(bytes) / best[1] / 1e9, static_cast<double>(bytes) / best[2] / 1e9);
  }
  return 0;
}
