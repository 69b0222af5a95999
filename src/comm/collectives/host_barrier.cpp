#include "comm/collectives/host_barrier.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "core/errors.h"

namespace dtrain::comm {

HostBarrier::HostBarrier(std::span<std::byte> flags, int rank, int ranks,
                         std::function<void()> progress, std::function<void()> blocking)
    : flags_(flags.data()),
      progress_(std::move(progress)),
      blocking_(std::move(blocking)),
      rank_(rank),
      ranks_(ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks || flags.size() < shared_bytes(ranks) ||
      reinterpret_cast<std::uintptr_t>(flags.data()) % kLineBytes != 0) {
    throw CommError("host barrier: rank " + std::to_string(rank) + " of " + std::to_string(ranks) +
                    " needs " + std::to_string(shared_bytes(ranks)) +
                    " aligned bytes of shared memory, got " + std::to_string(flags.size()));
  }
}

std::uint64_t* HostBarrier::flag(int rank) const {
  return reinterpret_cast<std::uint64_t*>(flags_ + kLineBytes * static_cast<std::size_t>(rank));
}

void HostBarrier::arrive_and_wait() {
  ++epoch_;
  // Release: everything this rank wrote to shared memory before the barrier is visible to
  // a rank that acquires the flag.
  std::atomic_ref<std::uint64_t>(*flag(rank_)).store(epoch_, std::memory_order_release);
  if (blocking_) {
    blocking_();  // every rank of the host has published epoch_ once it returns
    return;
  }
  for (int k = 0; k < ranks_; ++k) {
    if (k == rank_) continue;
    std::atomic_ref<std::uint64_t> peer(*flag(k));
    if (peer.load(std::memory_order_acquire) >= epoch_) continue;
    // Time-based phases: a core given away (yield, sleep) on a busy machine comes back only
    // after another process's time slice, so keep it for the first 50 us, which covers a
    // peer's normal lag; yield until 2 ms; then nap.
    const auto start = std::chrono::steady_clock::now();
    long spins = 0;
    while (peer.load(std::memory_order_acquire) < epoch_) {
      ++spins;
      if (progress_ && spins % 128 == 0) progress_();
      if (spins % 64 != 0) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        continue;
      }
      const auto waited = std::chrono::steady_clock::now() - start;
      if (waited < std::chrono::microseconds(50)) continue;
      if (progress_) progress_();
      if (waited < std::chrono::milliseconds(2)) {
        sched_yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
  }
}

}  // namespace dtrain::comm
