#pragma once
// In-place Rabenseifner allreduce (sum of floats) over a PeerTransport: a reduce-scatter
// by recursive halving, then an allgather by recursive doubling. Any P (ranks beyond a
// power of two are folded in first). See rabenseifner.cpp.
#include <cstddef>
#include <span>
#include <vector>

#include "comm/collectives/blocks.h"
#include "comm/peer_transport.h"

namespace dtrain::comm {

class RabenseifnerAllreduce {
 public:
  static constexpr std::size_t kDefaultChunkFloats = 32768;

  // The transport must outlive this object. chunk_floats must be > 0.
  explicit RabenseifnerAllreduce(PeerTransport& transport,
                                 std::size_t chunk_floats = kDefaultChunkFloats);

  // Replaces data with the elementwise sum over all ranks; bitwise identical on every
  // rank. Collective: every rank calls it with the same length.
  void allreduce_sum(std::span<float> data);

  std::size_t scratch_floats() const { return scratch_.size(); }

 private:
  PeerTransport& transport_;
  std::size_t chunk_floats_;
  std::vector<float> scratch_;
  std::vector<Block> ranges_;  // the range held before each halving step (reused)
};

}  // namespace dtrain::comm
