#pragma once
// In-place recursive-doubling allreduce (sum of floats) over a PeerTransport: log2 P
// exchanges of the whole array, for small messages where the number of steps, not the
// bytes, is the cost. Any P (the ranks beyond a power of two are folded in first). See
// recursive_doubling.cpp.
#include <cstddef>
#include <span>
#include <vector>

#include "comm/peer_transport.h"

namespace dtrain::comm {

class RecursiveDoublingAllreduce {
 public:
  static constexpr std::size_t kDefaultChunkFloats = 32768;

  // The transport must outlive this object. chunk_floats must be > 0.
  explicit RecursiveDoublingAllreduce(PeerTransport& transport,
                                      std::size_t chunk_floats = kDefaultChunkFloats);

  // Replaces data with the elementwise sum over all ranks; bitwise identical on every
  // rank. Collective: every rank calls it with the same length.
  void allreduce_sum(std::span<float> data);

  // Floats of scratch held (a power of two; grows only when a larger size class appears).
  std::size_t scratch_floats() const { return scratch_.size(); }

 private:
  PeerTransport& transport_;
  std::size_t chunk_floats_;
  std::vector<float> scratch_;
};

}  // namespace dtrain::comm
