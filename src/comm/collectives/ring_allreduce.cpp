#include "comm/collectives/ring_allreduce.h"

#include <string>

#include "core/errors.h"

namespace dtrain::comm {

// The ring (after baidu-allreduce and Patarasuk & Yuan, 2009)
// -----------------------------------------------------------
// The array is cut into P segments, one per rank; rank r sends only to its right
// neighbour r+1 and receives only from its left neighbour r-1 (mod P). Example, P = 3,
// segments a, b, c; "a0" is rank 0's contribution to segment a, "A" the complete sum.
//
//     reduce-scatter, step s: rank r sends segment (r-s) mod P and adds the incoming
//     segment (r-s-1) mod P into its own copy.
//
//             rank 0          rank 1          rank 2
//   start   a0  b0  c0      a1  b1  c1      a2  b2  c2
//   step 0  sends a0 ->1    sends b1 ->2    sends c2 ->0
//           c+=c2           a+=a0           b+=b1
//   step 1  sends c02 ->1   sends a01 ->2   sends b12 ->0
//           b+=b12: B       c+=c02: C       a+=a01: A
//
//   Now rank r owns the complete segment (r+1) mod P, summed on that rank only.
//
//     allgather, step s: rank r sends segment (r+1-s) mod P and stores the incoming
//     segment (r-s) mod P; after P-1 steps everyone has A, B and C.
//
// Each rank sends P-1 segments of n/P elements in each phase, 2(P-1)/P * n in all, and
// receives as much. That is within a factor (P-1)/P of the n elements any allreduce must
// receive, independent of P, and every link carries the same load, so the time is bound by
// link bandwidth rather than by the number of ranks.
//
// Bitwise identity: a segment's complete sum is computed by exactly one rank and then only
// copied, so no rank can round differently from another.
//
// Pipelining: within a step the segment travels in chunks. All chunk receives are posted
// first, then all sends; chunk i is added as soon as it has arrived while later chunks are
// still on the wire, so the additions overlap the transfer. The segments, the chunk loops
// and the addition are blocks.h's (even_block, start_recv_chunks, start_send_chunks,
// on_each_chunk, add_into), one definition for every algorithm.

RingAllreduce::RingAllreduce(PeerTransport& transport, std::size_t chunk_floats)
    : transport_(transport), chunk_floats_(chunk_floats) {
  if (chunk_floats_ == 0) {
    throw ConfigError("ring allreduce: chunk size must be at least 1 float");
  }
}

void RingAllreduce::allreduce_sum(std::span<float> data) {
  const int p = transport_.size();
  if (p == 1 || data.empty()) {
    return;
  }
  const int r = transport_.rank();
  // Segment i is even_block i of P (blocks.h): the first length%P segments are one longer.
  auto segment = [&](int index) { return even_block(data.size(), p, ((index % p) + p) % p); };
  const std::size_t max_segment = segment(0).length;
  if (scratch_.size() < max_segment) {
    scratch_.resize(max_segment);
  }
  for (int s = 0; s < p - 1; ++s) {
    reduce_step(data, segment(r - s), segment(r - s - 1));
  }
  for (int s = 0; s < p - 1; ++s) {
    gather_step(data, segment(r + 1 - s), segment(r - s));
  }
}

// One reduce-scatter step, pipelined: every chunk receive of the incoming segment is
// posted (into scratch) before the sends, then on_each_chunk adds chunk i into this rank's
// copy as soon as it has arrived, while chunks i+1.. are still on the wire. The sum is own
// + incoming, in that order, as the ring has always added.
void RingAllreduce::reduce_step(std::span<float> data, Block send, Block recv) {
  const int p = transport_.size();
  const int r = transport_.rank();
  const std::span<float> incoming = std::span<float>(scratch_).first(recv.length);
  start_recv_chunks(transport_, incoming, (r + p - 1) % p, chunk_floats_);
  start_send_chunks(transport_, data.subspan(send.offset, send.length), (r + 1) % p, chunk_floats_);
  float* own = data.data() + recv.offset;
  on_each_chunk(transport_, recv.length, chunk_floats_, [&](std::size_t off, std::size_t n) {
    add_into(own + off, own + off, incoming.data() + off, n);
  });
  transport_.wait_all();
}

void RingAllreduce::gather_step(std::span<float> data, Block send, Block recv) {
  const int p = transport_.size();
  const int r = transport_.rank();
  // Complete segments are received straight into place: nothing to add, nothing to copy.
  start_recv_chunks(transport_, data.subspan(recv.offset, recv.length), (r + p - 1) % p,
                    chunk_floats_);
  start_send_chunks(transport_, data.subspan(send.offset, send.length), (r + 1) % p, chunk_floats_);
  transport_.wait_all();
}

}  // namespace dtrain::comm
