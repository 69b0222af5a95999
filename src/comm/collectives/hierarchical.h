#pragma once
// Two-level allreduce for ranks that share hosts: the ranks of a host reduce through
// shared memory, the host leaders (local rank 0) allreduce between hosts, and the result
// is broadcast inside each host through shared memory. See hierarchical.cpp.
#include <cstddef>
#include <memory>
#include <span>

#include "comm/collectives/host_barrier.h"
#include "comm/collectives/recursive_doubling.h"
#include "comm/collectives/ring_allreduce.h"
#include "comm/peer_transport.h"

namespace dtrain::comm {

// What one rank knows about its host. The shared memory is the same bytes on every rank
// of the host, 64-byte aligned, zeroed before the first call, at least
// HierarchicalAllreduce::shared_bytes(local_size, piece_floats) long.
struct HostGroup {
  std::span<std::byte> shared;
  int local_rank = 0;
  int local_size = 1;
  int hosts = 1;
  // Between the leaders, one per host (rank h = host h); set on local rank 0 only, and
  // only when hosts > 1.
  PeerTransport* leaders = nullptr;
  // Called while waiting for the other ranks of the host (see HostBarrier): lets MPI
  // deliver messages queued by earlier calls. Empty when there is nothing to progress.
  std::function<void()> progress;
};

class HierarchicalAllreduce {
 public:
  // 32 Ki floats = 128 KiB per rank and piece: measured at np=2 against 128 Ki floats, it
  // made 512 KiB..1 MiB allreduces 10-30% faster (a piece and its peer's stay in L2) and
  // cost nothing elsewhere; the two barriers per piece cost ~1 us against ~15 us of copying.
  static constexpr std::size_t kDefaultPieceFloats = std::size_t{1} << 15;
  // Up to this many floats every rank sums the whole (tiny) message itself: one barrier
  // instead of two.
  static constexpr std::size_t kSmallFloats = 1024;
  // Between hosts, messages up to this many floats use recursive doubling, larger ones
  // the ring.
  static constexpr std::size_t kLeaderDoublingFloats = 4096;

  static std::size_t shared_bytes(int local_size, std::size_t piece_floats = kDefaultPieceFloats);

  // group.shared and group.leaders must outlive this object. Collective over the host.
  explicit HierarchicalAllreduce(HostGroup group, std::size_t piece_floats = kDefaultPieceFloats);

  // Replaces data with the elementwise sum over all ranks of all hosts; bitwise identical
  // on every rank. Collective: every rank calls it with the same length.
  void allreduce_sum(std::span<float> data);

 private:
  void piece_small(std::span<float> piece, int parity);
  void piece_large(std::span<float> piece, int parity);
  void between_hosts(std::span<float> piece);
  float* slot(int local_rank, int parity) const;
  float* result(int parity) const;

  HostGroup group_;
  std::size_t piece_floats_;
  HostBarrier barrier_;
  std::byte* slots_;
  std::unique_ptr<RingAllreduce> leader_ring_;
  std::unique_ptr<RecursiveDoublingAllreduce> leader_rd_;
  unsigned long long pieces_done_ = 0;
};

}  // namespace dtrain::comm
