// Throughput of the allreduce helpers' loops (blocks.h add_into, add_into_both, memcpy).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>
#include <algorithm>
__attribute__((noinline)) void add_into(float* dst, const float* a, const float* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = a[i] + b[i];
}
__attribute__((noinline)) void add_both(float* f, float* s, const float* a, const float* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) { const float x = a[i] + b[i]; f[i] = x; s[i] = x; }
}
int main() {
  for (std::size_t bytes : {std::size_t{32} << 10, std::size_t{128} << 10, std::size_t{1} << 20, std::size_t{4} << 20, std::size_t{16} << 20, std::size_t{64} << 20}) {
    std::size_t n = bytes / 4;
    std::vector<float> a(n, 1.0f), b(n, 2.0f), c(n, 0.0f), d(n, 0.0f);
    int reps = std::max<int>(3, (int)((std::size_t{1} << 30) / bytes));
    double best[3] = {1e9, 1e9, 1e9};
    for (int round = 0; round < 5; ++round) {
      for (int k = 0; k < 3; ++k) {
        auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) {
          if (k == 0) add_into(c.data(), c.data(), b.data(), n);
          else if (k == 1) add_both(c.data(), d.data(), c.data(), b.data(), n);
          else std::memcpy(d.data(), (r & 1 ? a : c).data(), bytes);
        }
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
        best[k] = std::min(best[k], s);
      }
    }
    std::printf("%10zu B: add %.2f GB/s  add_both %.2f GB/s  copy %.2f GB/s (bytes of result per second, best of 5)\n",
                bytes, bytes / best[0] / 1e9, bytes / best[1] / 1e9, bytes / best[2] / 1e9);
  }
}
