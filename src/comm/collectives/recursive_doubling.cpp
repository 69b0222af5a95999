#include "comm/collectives/recursive_doubling.h"

#include <algorithm>

#include "comm/collectives/blocks.h"
#include "core/errors.h"

namespace dtrain::comm {

// Recursive doubling (Thakur, Rabenseifner & Gropp 2005, section 4; MPICH's fold for P
// that is not a power of two)
// -----------------------------------------------------------------------------------
// P' = the largest power of two <= P, R = P - P' extra ranks.
//
//   fold: among ranks 0 .. 2R-1, each even rank r sends its whole array to r+1, which
//         adds it; the even ranks then sit out. The P' remaining ranks get new ids
//         0 .. P'-1 (r/2 for the odd folded ranks, r-R for the rest).
//   step k = 0 .. log2 P' - 1: new rank q exchanges its whole array with q XOR 2^k and
//         both add. Example, P = 4, values a b c d:
//
//             rank 0    rank 1    rank 2    rank 3
//     step 0  a+b       b+a       c+d       d+c        (0<->1, 2<->3)
//     step 1  (a+b)+(c+d)  ...                          (0<->2, 1<->3)
//
//   unfold: each odd folded rank sends the result back to its even neighbour.
//
// Cost: (log2 P' + 2[R>0]) alpha + (log2 P' + 2[R>0]) n beta + (log2 P' + [R>0]) n gamma.
// Every step moves the whole array, so it only pays for small n, where log2 P' latencies
// beat the ring's 2(P-1).
//
// Bitwise identity: both partners of a step add the same two operands, x+y on one and
// y+x on the other, and IEEE addition is commutative, so they hold the same bits after
// every step; the folded-out ranks receive a copy. (The sum of a given element is
// computed redundantly, but always from bitwise equal operands.)
//
// Pipelining: the array travels in chunks; chunk k is added while later chunks are on
// the wire. The sum goes into the receive buffer (the array being sent must not be
// written until its send completes), so data and scratch swap roles at every step and
// the result is copied back once at the end if it ended up in scratch.

RecursiveDoublingAllreduce::RecursiveDoublingAllreduce(PeerTransport& transport,
                                                       std::size_t chunk_floats)
    : transport_(transport), chunk_floats_(chunk_floats) {
  if (chunk_floats_ == 0) {
    throw ConfigError("recursive doubling allreduce: chunk size must be at least 1 float");
  }
}

void RecursiveDoublingAllreduce::allreduce_sum(std::span<float> data) {
  const int p = transport_.size();
  const std::size_t n = data.size();
  if (p == 1 || n == 0) return;
  const int pof2 = floor_pow2(p);
  const int extra = p - pof2;
  PeerTransport& t = transport_;

  // Rank among the P' that take part in the doubling; -1 = folded out.
  const int q = fold_in(t, data, scratch_, chunk_floats_);
  std::span<float> scratch = scratch_for(scratch_, n);

  std::span<float> current = data;  // holds this rank's partial sum
  std::span<float> other = scratch;
  if (q >= 0) {
    for (int mask = 1; mask < pof2; mask <<= 1) {
      const int partner = folded_rank(q ^ mask, extra);
      start_recv_chunks(t, other, partner, chunk_floats_);
      start_send_chunks(t, current, partner, chunk_floats_);
      on_each_chunk(t, n, chunk_floats_, [&](std::size_t off, std::size_t len) {
        add_into(other.data() + off, current.data() + off, other.data() + off, len);
      });
      t.wait_all();
      std::swap(current, other);
    }
    if (current.data() != data.data()) copy_floats(data.data(), current.data(), data.size());
  }

  unfold(t, data, chunk_floats_);
}

}  // namespace dtrain::comm
