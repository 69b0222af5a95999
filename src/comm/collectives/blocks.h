#pragma once
// Small pieces shared by the allreduce algorithms in this directory: how an array is cut
// into near-equal blocks, the power-of-two arithmetic of the recursive algorithms, and
// chunked (pipelined) point-to-point exchanges over a PeerTransport.
#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "comm/peer_transport.h"

namespace dtrain::comm {

struct Block {
  std::size_t offset = 0;
  std::size_t length = 0;
};

// Block `index` of `parts` near-equal blocks of `length` elements: length/parts each, the
// first length%parts blocks one element more (as baidu-allreduce spreads the remainder).
inline Block even_block(std::size_t length, int parts, int index) {
  const auto p = static_cast<std::size_t>(parts);
  const auto i = static_cast<std::size_t>(index);
  const std::size_t base = length / p;
  const std::size_t extra = length % p;
  return {i * base + std::min(i, extra), base + (i < extra ? 1 : 0)};
}

// Largest power of two <= p (p >= 1).
inline int floor_pow2(int p) {
  int v = 1;
  while (v * 2 <= p) v *= 2;
  return v;
}

inline int log2_floor(int p) {
  int l = 0;
  while ((2 << l) <= p) ++l;
  return l;
}

// Scratch that grows to a power-of-two number of floats and never shrinks: a steady
// sequence of calls of one size class allocates once, the first time.
inline std::span<float> scratch_for(std::vector<float>& scratch, std::size_t n) {
  if (scratch.size() < n) {
    std::size_t capacity = 1;
    while (capacity < n) capacity *= 2;
    scratch.assign(capacity, 0.0f);
  }
  return std::span<float>(scratch).first(n);
}

// Starts the receive of `into` from `peer` in chunks of at most `chunk` floats; the k-th
// chunk is the k-th receive started since the transport's last wait_all().
inline void start_recv_chunks(PeerTransport& t, std::span<float> into, int peer,
                              std::size_t chunk) {
  for (std::size_t off = 0; off < into.size(); off += chunk) {
    t.start_recv(into.subspan(off, std::min(chunk, into.size() - off)), peer);
  }
}

inline void start_send_chunks(PeerTransport& t, std::span<const float> from, int peer,
                              std::size_t chunk) {
  for (std::size_t off = 0; off < from.size(); off += chunk) {
    t.start_send(from.subspan(off, std::min(chunk, from.size() - off)), peer);
  }
}

// For a receive of `length` floats started with start_recv_chunks (the first receives
// since the last wait_all), calls fn(offset, count) for each chunk as soon as it has
// arrived, so the caller adds chunk k while chunks k+1.. are still on the wire.
template <typename Fn>
void on_each_chunk(PeerTransport& t, std::size_t length, std::size_t chunk, Fn&& fn) {
  std::size_t index = 0;
  for (std::size_t off = 0; off < length; off += chunk, ++index) {
    t.wait_recv(index);
    fn(off, std::min(chunk, length - off));
  }
}

// dst[i] = a[i] + b[i]. One definition for every algorithm, so that the same two operands
// always round the same way whichever algorithm (and whichever rank) adds them.
inline void add_into(float* dst, const float* a, const float* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = a[i] + b[i];
}

// first[i] = second[i] = a[i] + b[i] (second may alias a). The same addition as add_into.
inline void add_into_both(float* first, float* second, const float* a, const float* b,
                          std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float sum = a[i] + b[i];
    first[i] = sum;
    second[i] = sum;
  }
}

}  // namespace dtrain::comm
