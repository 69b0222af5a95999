#pragma once
// Two-level allreduce for ranks that share hosts: the ranks of a host reduce through
// shared memory, the host leaders (local rank 0) allreduce between hosts, and the result
// is broadcast inside each host through shared memory. See hierarchical.cpp.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "comm/collectives/blocks.h"
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
  // When set, the host barrier publishes its flag and then calls this instead of spinning:
  // a barrier that blocks in the transport (MPI_Barrier on the host's ranks). Only the
  // simulated build (DTRAIN_SMPI) sets it, where a spinning rank would starve its peers;
  // see HostBarrier. Empty everywhere else.
  std::function<void()> blocking_barrier;
  // Pipelining chunk of the leaders' ring between hosts.
  std::size_t leader_chunk_floats = RingAllreduce::kNetChunkFloats;
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

  // Spans of a registered array from this many floats on are summed in place; below, the
  // small staged path's single barrier beats the in-place path's two: measured at np=2, the
  // staged path is faster up to 256 B, even at 512 B, and the in-place one faster from 1 KiB
  // (bench/results/collectives-20261201-inplace/README.md).
  static constexpr std::size_t kInPlaceMinFloats = 256;

  static std::size_t shared_bytes(int local_size, std::size_t piece_floats = kDefaultPieceFloats);

  // group.shared and group.leaders must outlive this object. Collective over the host.
  explicit HierarchicalAllreduce(HostGroup group, std::size_t piece_floats = kDefaultPieceFloats);

  // Replaces data with the elementwise sum over all ranks of all hosts; bitwise identical
  // on every rank. Collective: every rank calls it with the same length.
  // A span of a registered array at the same offset on every rank of the host (at least
  // kInPlaceMinFloats long) is summed in place (hierarchical_in_place.cpp); anything else goes
  // through the staging slots in pieces.
  void allreduce_sum(std::span<float> data);

  // Registers an array that every rank of the host maps (Communicator::allocate_array):
  // bases[k] is local rank k's array as mapped in this process, each `floats` long (best
  // 64-byte aligned, for speed); bases[local_rank] is this rank's own. Every rank of the host
  // registers the same arrays in the same order (the k-th registration is array k everywhere).
  void add_array(std::vector<float*> bases, std::size_t floats);

 private:
  struct HostArray {
    std::vector<float*> bases;
    std::size_t floats = 0;
  };
  // What this rank's current call is, published in its line of the shared memory so that
  // every rank can check that all of them sum the same span in place.
  struct CallLine {
    std::uint64_t array_plus_one;  // 0: not in place
    std::uint64_t offset;
    std::uint64_t length;
  };
  void staged(std::span<float> data);
  void in_place(std::size_t array, std::size_t offset, std::size_t length);
  void sum_slice_in_place(const HostArray& array, std::size_t offset, Block slice,
                          bool every_array);
  void publish(std::uint64_t array_plus_one, std::uint64_t offset, std::uint64_t length);
  CallLine published(int local_rank) const;
  void piece_small(std::span<float> piece, int parity);
  void piece_large(std::span<float> piece, int parity);
  void between_hosts(std::span<float> piece);
  float* slot(int local_rank, int parity) const;
  float* result(int parity) const;

  HostGroup group_;
  std::size_t piece_floats_;
  HostBarrier barrier_;
  std::byte* call_lines_;
  std::byte* slots_;
  std::vector<HostArray> arrays_;
  std::unique_ptr<RingAllreduce> leader_ring_;
  std::unique_ptr<RecursiveDoublingAllreduce> leader_rd_;
  unsigned long long pieces_done_ = 0;
};

}  // namespace dtrain::comm
