#include "comm/collectives/rabenseifner.h"

#include "core/errors.h"

namespace dtrain::comm {

// Rabenseifner's allreduce (Rabenseifner 2004; Thakur, Rabenseifner & Gropp 2005, 4.4)
// ------------------------------------------------------------------------------------
// P' = the largest power of two <= P, R = P - P'. Fold and unfold as in recursive
// doubling: even ranks among 0 .. 2R-1 hand their whole array to r+1 first and get the
// result back at the end; the other P' ranks take new ids q = 0 .. P'-1.
//
//   reduce-scatter by recursive halving, step mask = P'/2, P'/4, .. 1: q and q XOR mask
//     hold the same range [lo, hi). It is cut at mid = lo + (hi-lo)/2; the rank with the
//     mask bit clear keeps [lo, mid) and sends [mid, hi), the other the reverse, and each
//     adds what it receives into the half it keeps. After log2 P' steps rank q holds the
//     complete sum of one 1/P' of the array. Example, P' = 4, array halves H0 H1,
//     quarters Q0..Q3:
//
//              q=0         q=1         q=2         q=3
//     mask 2   keeps H0    keeps H0    keeps H1    keeps H1    (0<->2, 1<->3)
//     mask 1   keeps Q0    keeps Q1    keeps Q2    keeps Q3    (0<->1, 2<->3)
//
//   allgather by recursive doubling, the same pairs in reverse order (mask = 1 .. P'/2):
//     each sends the range it holds complete and receives the partner's straight into
//     place, doubling the complete range until it is the whole array.
//
// Cost: 2 log2 P' alpha + 2 (P'-1)/P' n beta + (P'-1)/P' n gamma, plus for R > 0 the
// fold and unfold (2 alpha + 2 n beta + n gamma). The bandwidth term is the ring's, the
// latency term log2 P' instead of P-1: the best of both for mid-sized messages and
// power-of-two P; for P just above a power of two the fold costs a full extra copy.
//
// Bitwise identity: each element's complete sum is computed once, by the rank that
// keeps it at the last halving step; the allgather and the unfold only copy it.
//
// Pipelining: the half being received arrives in chunks; chunk k is added into the kept
// half (which is not being sent, so writing it is allowed) while later chunks travel.

RabenseifnerAllreduce::RabenseifnerAllreduce(PeerTransport& transport, std::size_t chunk_floats)
    : transport_(transport), chunk_floats_(chunk_floats) {
  if (chunk_floats_ == 0) {
    throw ConfigError("Rabenseifner allreduce: chunk size must be at least 1 float");
  }
}

void RabenseifnerAllreduce::allreduce_sum(std::span<float> data) {
  const int p = transport_.size();
  const std::size_t n = data.size();
  if (p == 1 || n == 0) return;
  const int pof2 = floor_pow2(p);
  const int extra = p - pof2;
  PeerTransport& t = transport_;

  const int q = fold_in(t, data, scratch_, chunk_floats_);
  if (q >= 0) {
    ranges_.clear();
    Block held{0, n};
    for (int mask = pof2 >> 1; mask > 0; mask >>= 1) {
      const int partner = folded_rank(q ^ mask, extra);
      const std::size_t half = held.length / 2;
      const Block low{held.offset, half};
      const Block high{held.offset + half, held.length - half};
      const Block keep = (q & mask) == 0 ? low : high;
      const Block give = (q & mask) == 0 ? high : low;
      std::span<float> incoming = scratch_for(scratch_, keep.length);
      start_recv_chunks(t, incoming, partner, chunk_floats_);
      start_send_chunks(t, data.subspan(give.offset, give.length), partner, chunk_floats_);
      float* dst = data.data() + keep.offset;
      on_each_chunk(t, keep.length, chunk_floats_, [&](std::size_t off, std::size_t len) {
        add_into(dst + off, dst + off, incoming.data() + off, len);
      });
      t.wait_all();
      ranges_.push_back(held);
      held = keep;
    }
    int step = static_cast<int>(ranges_.size());
    for (int mask = 1; mask < pof2; mask <<= 1) {
      const int partner = folded_rank(q ^ mask, extra);
      const Block whole = ranges_[static_cast<std::size_t>(--step)];
      // The partner holds the other part of `whole`, complete.
      const Block theirs = held.offset == whole.offset
                               ? Block{whole.offset + held.length, whole.length - held.length}
                               : Block{whole.offset, whole.length - held.length};
      start_recv_chunks(t, data.subspan(theirs.offset, theirs.length), partner, chunk_floats_);
      start_send_chunks(t, data.subspan(held.offset, held.length), partner, chunk_floats_);
      t.wait_all();
      held = whole;
    }
  }

  unfold(t, data, chunk_floats_);
}

}  // namespace dtrain::comm
