#include "bench/allreduce_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "core/errors.h"

#ifdef DTRAIN_SMPI
#include <time.h>
#endif

namespace dtrain::bench {
namespace {

#ifdef DTRAIN_SMPI
// The simulated build (docs/simulation.md): times are SMPI's simulated clock, which
// clock_gettime reads there (smpicxx makes it a macro for smpi_clock_gettime); std::chrono's
// steady clock is compiled into libstdc++, which smpicxx did not compile, and reads the real one.
struct Clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<Clock>;
  static constexpr bool is_steady = true;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
};
// Simulated time has no start-up noise to wait out: the first round of warm-up calls (which
// sizes the scratch) is enough.
constexpr auto kWarmUp = std::chrono::seconds(0);
#else
using Clock = std::chrono::steady_clock;
constexpr auto kWarmUp = std::chrono::seconds(1);
#endif

// Input pattern: (rank+1) * (i mod 13). Small integers, so every partial sum is exact in
// float whatever the order of addition, and a segment landing in the wrong place (or an
// element counted twice) changes the result.
void fill_input(std::span<float> data, int rank) {
  const float scale = static_cast<float>(rank + 1);
  int k = 0;
  for (float& x : data) {
    x = scale * static_cast<float>(k);
    k = k == 12 ? 0 : k + 1;
  }
}

long long count_wrong(std::span<const float> data, int ranks) {
  const float triangle = static_cast<float>(ranks) * static_cast<float>(ranks + 1) / 2.0f;
  long long wrong = 0;
  int k = 0;
  for (float x : data) {
    wrong += x != triangle * static_cast<float>(k);
    k = k == 12 ? 0 : k + 1;
  }
  return wrong;
}

// Nearest-rank percentile of an unsorted sample.
double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

void validate(const AllreduceBenchOptions& options) {
  if (options.min_bytes < sizeof(float)) {
    throw ConfigError("--min-bytes must be at least 4 (one float), got " +
                      std::to_string(options.min_bytes));
  }
  if (options.max_bytes < options.min_bytes) {
    throw ConfigError("--max-bytes (" + std::to_string(options.max_bytes) +
                      ") must be at least --min-bytes (" + std::to_string(options.min_bytes) + ")");
  }
  if (options.iters < 0) {
    throw ConfigError("--iters must be 0 (automatic) or positive, got " +
                      std::to_string(options.iters));
  }
}

}  // namespace

int default_bench_iters(std::size_t bytes) {
  // About 1 GiB of payload per size, between 5 and 200 iterations: small sizes get enough
  // samples for a stable p95, large ones finish in seconds.
  const std::size_t budget = std::size_t{1} << 30;
  return static_cast<int>(
      std::clamp<std::size_t>(budget / std::max<std::size_t>(bytes, 1), 5, 200));
}

std::vector<AllreduceBenchResult> run_allreduce_bench(
    const AllreduceBenchOptions& options,
    const std::function<void(std::span<float>, const std::string& algo)>& allreduce,
    comm::Communicator& comm) {
  validate(options);
  const int ranks = comm.size();
  const int rank = comm.rank();
  const std::size_t algos = options.algos.size();
  std::vector<AllreduceBenchResult> by_size;  // size-major while measuring
  // Every size is a prefix of one buffer of the largest size, allocated once.
  const std::size_t capacity = options.max_bytes / sizeof(float);
  std::vector<float> private_storage;
  std::span<float> storage;
  if (options.private_buffer) {
    private_storage.assign(capacity, 0.0f);
    storage = private_storage;
  } else {
    storage = comm.allocate_array(capacity);
  }
  std::span<float> data = storage.first(options.min_bytes / sizeof(float));
  // Start-up: for a while after launch (mpirun and its helper threads still busy) the first
  // collectives ran ~10-30 ms each on a shared 2-core machine; warm up for at least one
  // second (rank 0's clock, agreed by all) so that the first size is measured like the rest.
  const auto warm_up_start = Clock::now();
  for (bool done = false; !done;) {
    for (int round = 0; round < 10; ++round) {
      for (const std::string& algo : options.algos) {
        comm.barrier();
        allreduce(data, algo);
      }
    }
    const bool elapsed = Clock::now() - warm_up_start > kWarmUp;
    done = comm.allreduce_max(rank == 0 && elapsed ? 1 : 0) == 1;
  }
  for (std::size_t bytes = options.min_bytes; bytes <= options.max_bytes; bytes *= 2) {
    const std::size_t n = bytes / sizeof(float);
    data = storage.first(n);
    const int iters = options.iters > 0 ? options.iters : default_bench_iters(bytes);
    // Warm-up: connections, scratch and page faults are not part of the measurement.
    std::vector<long long> wrong(algos, 0);
    for (std::size_t a = 0; a < algos; ++a) {
      fill_input(data, rank);
      allreduce(data, options.algos[a]);
      wrong[a] += count_wrong(data, ranks);
    }
    // Algorithms take turns iteration by iteration, so a burst of load from other
    // processes on a shared machine hits all of them alike. One slot per (algo, rank,
    // iteration): a sum over ranks is then a gather, exactly.
    const auto slots = static_cast<std::size_t>(ranks) * static_cast<std::size_t>(iters);
    std::vector<double> times(algos * slots, 0.0);
    for (int it = 0; it < iters; ++it) {
      for (std::size_t a = 0; a < algos; ++a) {
        fill_input(data, rank);
        comm.barrier();
        const auto start = Clock::now();
        allreduce(data, options.algos[a]);
        const auto stop = Clock::now();
        times[a * slots + static_cast<std::size_t>(rank) * iters + it] =
            std::chrono::duration<double, std::micro>(stop - start).count();
        wrong[a] += count_wrong(data, ranks);
      }
    }
    comm.allreduce_sum(times);
    std::vector<double> wrong_total(wrong.begin(), wrong.end());
    comm.allreduce_sum(std::span<double>(wrong_total));
    for (std::size_t a = 0; a < algos; ++a) {
      std::vector<double> slowest(iters, 0.0);
      for (int r = 0; r < ranks; ++r) {
        for (int it = 0; it < iters; ++it) {
          slowest[it] =
              std::max(slowest[it], times[a * slots + static_cast<std::size_t>(r) * iters + it]);
        }
      }
      AllreduceBenchResult result;
      result.algo = options.algos[a];
      result.bytes = n * sizeof(float);
      result.ranks = ranks;
      result.time_us_p50 = percentile(slowest, 0.50);
      result.time_us_p95 = percentile(slowest, 0.95);
      if (result.time_us_p50 > 0.0) {
        result.algbw_gbs = static_cast<double>(result.bytes) / (result.time_us_p50 * 1e3);
      }
      result.busbw_gbs = result.algbw_gbs * 2.0 * (ranks - 1) / ranks;
      result.wrong = static_cast<long long>(wrong_total[a]);
      by_size.push_back(result);
    }
    if (bytes > options.max_bytes / 2) {
      break;  // bytes*2 would pass max_bytes (or overflow)
    }
  }
  // Reported algorithm by algorithm, each over increasing sizes.
  std::vector<AllreduceBenchResult> results;
  for (std::size_t a = 0; a < algos; ++a) {
    for (std::size_t i = a; i < by_size.size(); i += algos) results.push_back(by_size[i]);
  }
  return results;
}

}  // namespace dtrain::bench
