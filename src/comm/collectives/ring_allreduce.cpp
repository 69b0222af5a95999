#include "comm/collectives/ring_allreduce.h"

#include <algorithm>
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
// still on the wire, so the additions overlap the transfer.

RingAllreduce::RingAllreduce(PeerTransport& transport, std::size_t chunk_floats)
    : transport_(transport), chunk_floats_(chunk_floats) {
  if (chunk_floats_ == 0) {
    throw ConfigError("ring allreduce: chunk size must be at least 1 float");
  }
}

RingAllreduce::Segment RingAllreduce::segment(std::size_t length, int index) const {
  // length/P each; the first length%P segments take one extra element.
  const auto p = static_cast<std::size_t>(transport_.size());
  const auto i = static_cast<std::size_t>(index);
  const std::size_t base = length / p;
  const std::size_t extra = length % p;
  return {i * base + std::min(i, extra), base + (i < extra ? 1 : 0)};
}

void RingAllreduce::allreduce_sum(std::span<float> data) {
  const int p = transport_.size();
  if (p == 1 || data.empty()) {
    return;
  }
  const int r = transport_.rank();
  const std::size_t max_segment = segment(data.size(), 0).length;
  if (scratch_.size() < max_segment) {
    scratch_.resize(max_segment);
  }
  auto mod = [p](int x) { return ((x % p) + p) % p; };
  for (int s = 0; s < p - 1; ++s) {
    reduce_step(data, segment(data.size(), mod(r - s)), segment(data.size(), mod(r - s - 1)));
  }
  for (int s = 0; s < p - 1; ++s) {
    gather_step(data, segment(data.size(), mod(r + 1 - s)), segment(data.size(), mod(r - s)));
  }
}

void RingAllreduce::reduce_step(std::span<float> data, Segment send, Segment recv) {
  const int p = transport_.size();
  const int r = transport_.rank();
  const int right = (r + 1) % p;
  const int left = (r + p - 1) % p;
  for (std::size_t off = 0; off < recv.length; off += chunk_floats_) {
    const std::size_t n = std::min(chunk_floats_, recv.length - off);
    transport_.start_recv(std::span<float>(scratch_).subspan(off, n), left);
  }
  for (std::size_t off = 0; off < send.length; off += chunk_floats_) {
    const std::size_t n = std::min(chunk_floats_, send.length - off);
    transport_.start_send(data.subspan(send.offset + off, n), right);
  }
  float* dst = data.data() + recv.offset;
  const float* src = scratch_.data();
  std::size_t chunk = 0;
  for (std::size_t off = 0; off < recv.length; off += chunk_floats_, ++chunk) {
    transport_.wait_recv(chunk);
    const std::size_t end = std::min(off + chunk_floats_, recv.length);
    for (std::size_t i = off; i < end; ++i) {
      dst[i] += src[i];
    }
  }
  transport_.wait_all();
}

void RingAllreduce::gather_step(std::span<float> data, Segment send, Segment recv) {
  const int p = transport_.size();
  const int r = transport_.rank();
  // Complete segments are received straight into place: nothing to add, nothing to copy.
  for (std::size_t off = 0; off < recv.length; off += chunk_floats_) {
    const std::size_t n = std::min(chunk_floats_, recv.length - off);
    transport_.start_recv(data.subspan(recv.offset + off, n), (r + p - 1) % p);
  }
  for (std::size_t off = 0; off < send.length; off += chunk_floats_) {
    const std::size_t n = std::min(chunk_floats_, send.length - off);
    transport_.start_send(data.subspan(send.offset + off, n), (r + 1) % p);
  }
  transport_.wait_all();
}

}  // namespace dtrain::comm
