#pragma once
// In-place ring allreduce (sum of floats) over a PeerTransport. See ring_allreduce.cpp for
// how the ring works and why it moves 2(P-1)/P of the data per rank whatever P is.
#include <cstddef>
#include <span>
#include <vector>

#include "comm/collectives/blocks.h"
#include "comm/peer_transport.h"

namespace dtrain::comm {

class RingAllreduce {
 public:
  // 32768 floats = 128 KiB: large enough that per-message overhead is small, small enough
  // that several chunks of a 4 MiB bucket are in flight while earlier ones are being added.
  static constexpr std::size_t kDefaultChunkFloats = 32768;
  // Between hosts (MpiCommunicator picks it when every rank has a host of its own, and for
  // the host leaders of the hierarchical algorithm): 8192 floats = 32 KiB, under Open MPI's
  // TCP eager limit (btl_tcp_eager_limit, 64 KiB with the header), so every chunk goes out
  // at once instead of waiting for a rendezvous handshake. Measured on 2 emulated hosts with
  // Rabenseifner at 1-4 MiB: 32 KiB chunks take 2.5x less time than 128 KiB ones, 64 KiB are
  // no better than 128 KiB, 16 KiB are 1.7x slower than 32 KiB
  // (bench/results/collectives-20261201-inplace/README.md).
  static constexpr std::size_t kNetChunkFloats = 8192;

  // The transport must outlive this object. chunk_floats must be > 0.
  explicit RingAllreduce(PeerTransport& transport, std::size_t chunk_floats = kDefaultChunkFloats);

  // Replaces data with the elementwise sum over all ranks; bitwise identical on every
  // rank. Collective: every rank calls it with the same length.
  void allreduce_sum(std::span<float> data);

  std::size_t chunk_floats() const { return chunk_floats_; }
  // Floats of receive scratch held; it only grows, to the largest segment seen so far.
  std::size_t scratch_floats() const { return scratch_.size(); }

 private:
  // Segments are blocks.h's even_blocks of the array, one per rank.
  void reduce_step(std::span<float> data, Block send, Block recv);
  void gather_step(std::span<float> data, Block send, Block recv);

  PeerTransport& transport_;
  std::size_t chunk_floats_;
  std::vector<float> scratch_;
};

}  // namespace dtrain::comm
