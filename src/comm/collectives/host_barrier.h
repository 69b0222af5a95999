#pragma once
// A barrier among the ranks of one host, through flags in memory they all map (an MPI-3
// shared window, or plain memory when the "ranks" are threads in a test). Each rank owns
// one cache line holding the number of barriers it has entered; entering barrier e means
// publishing e and waiting until every other rank has published at least e. No
// read-modify-write and no shared counter: each flag has a single writer.
//
// Waiting spins for the first 50 us (a peer on another core answers within ~100 ns, and a
// core given away on a busy machine comes back only after someone else's time slice), then
// yields the core until 2 ms (with more ranks than cores the peer needs it to make
// progress), then sleeps in short naps (a peer busy for long, e.g. rank 0 writing a
// checkpoint, costs no CPU).
// While it waits it calls `progress` now and then: with MPI a rank must keep entering the
// library, or eager messages it has "sent" but that are still queued inside Open MPI
// (a full shared-memory FIFO) never leave, and a peer waiting for them waits forever.
//
// With `blocking` given, a rank publishes its flag and then calls blocking() (a barrier of
// the transport that blocks, e.g. MPI_Barrier over the host's ranks) instead of spinning.
// The simulated build (SMPI, docs/simulation.md) needs it: its ranks are contexts of one OS
// thread, so a spinning rank never lets the others run, and the real clock the phases read
// is not the simulated one.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace dtrain::comm {

class HostBarrier {
 public:
  static constexpr std::size_t kLineBytes = 64;

  // Bytes of shared memory the flags of `ranks` ranks need.
  static std::size_t shared_bytes(int ranks) {
    return kLineBytes * static_cast<std::size_t>(ranks);
  }

  // flags: shared_bytes(ranks) bytes, 64-byte aligned, zeroed before any rank enters;
  // the same memory on every rank of the host.
  HostBarrier(std::span<std::byte> flags, int rank, int ranks, std::function<void()> progress = {},
              std::function<void()> blocking = {});

  void arrive_and_wait();

 private:
  std::uint64_t* flag(int rank) const;

  std::byte* flags_;
  std::function<void()> progress_;
  std::function<void()> blocking_;
  int rank_;
  int ranks_;
  std::uint64_t epoch_ = 0;
};

}  // namespace dtrain::comm
