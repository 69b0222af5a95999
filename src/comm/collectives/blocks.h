#pragma once
// Small pieces shared by the allreduce algorithms in this directory: how an array is cut
// into near-equal blocks, the power-of-two arithmetic of the recursive algorithms, and
// chunked (pipelined) point-to-point exchanges over a PeerTransport.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

#include "comm/peer_transport.h"

#ifdef DTRAIN_SMPI
// SimGrid's (smpi/smpi.h): adds that many seconds to the calling rank's simulated clock.
// Declared here rather than included, so that comm/mpi stays the only includer of <mpi.h>.
extern "C" void smpi_execute_benched(double duration);
#endif

namespace dtrain::comm {

// What the algorithms' arithmetic costs in simulated time (docs/simulation.md, "Compute").
// The simulated build runs SMPI with smpi/simulate-computation:no (deterministic simulated
// times), where additions and copies would cost nothing and an algorithm that adds or copies
// more (hierarchical) would win by free arithmetic. So the helpers below charge their bytes
// explicitly at rates measured once on the project's machines (bench/sim_compute_rates.cpp,
// -O3 -march=native, best of 5, 1 MiB operands: add_into 12.9 GB/s of result, memcpy
// 14.9 GB/s, on a loaded machine: conservative, see docs/simulation.md "Compute"). In the real
// build they compile to nothing.
inline constexpr double kSimAddBytesPerSecond = 12.9e9;
inline constexpr double kSimCopyBytesPerSecond = 14.9e9;

inline void charge_add([[maybe_unused]] std::size_t floats) {
#ifdef DTRAIN_SMPI
  if (floats > 0)
    smpi_execute_benched(static_cast<double>(floats * sizeof(float)) / kSimAddBytesPerSecond);
#endif
}

inline void charge_copy([[maybe_unused]] std::size_t floats) {
#ifdef DTRAIN_SMPI
  if (floats > 0)
    smpi_execute_benched(static_cast<double>(floats * sizeof(float)) / kSimCopyBytesPerSecond);
#endif
}

// dst[0..n) = src[0..n): memcpy, charged as a copy in the simulated build.
inline void copy_floats(float* dst, const float* src, std::size_t n) {
  std::memcpy(dst, src, n * sizeof(float));
  charge_copy(n);
}

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
  charge_add(n);
}

// first[i] = second[i] = a[i] + b[i] (second may alias a). The same addition as add_into.
inline void add_into_both(float* first, float* second, const float* a, const float* b,
                          std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float sum = a[i] + b[i];
    first[i] = sum;
    second[i] = sum;
  }
  charge_add(n);  // an addition and a second store: charged as an add and a copy
  charge_copy(n);
}

// MPICH's fold for a P that is not a power of two (recursive_doubling.cpp draws it): of the
// first 2R ranks (R = P - P', P' the largest power of two <= P), each even rank sends its
// whole array to the odd rank after it, which adds it in and stands for both in the
// power-of-two algorithm. Returns this rank's id among the P' that go on (r/2 for an odd
// folded rank, r-R for the others), or -1 for an even folded rank, which sits out until
// unfold(). The addition goes through `scratch` (grown with scratch_for, so never
// reallocated for a size class already seen).
inline int fold_in(PeerTransport& t, std::span<float> data, std::vector<float>& scratch,
                   std::size_t chunk) {
  const int r = t.rank();
  const int extra = t.size() - floor_pow2(t.size());
  if (r >= 2 * extra) return r - extra;
  if (r % 2 == 0) {
    start_send_chunks(t, data, r + 1, chunk);
    t.wait_all();
    return -1;
  }
  std::span<float> incoming = scratch_for(scratch, data.size());
  start_recv_chunks(t, incoming, r - 1, chunk);
  on_each_chunk(t, data.size(), chunk, [&](std::size_t off, std::size_t len) {
    add_into(data.data() + off, incoming.data() + off, data.data() + off, len);
  });
  t.wait_all();
  return r / 2;
}

// The transport rank of fold id q (the inverse of fold_in's numbering).
inline int folded_rank(int q, int extra) {
  return q < extra ? q * 2 + 1 : q + extra;
}

// The fold's reverse: each odd folded rank sends the finished sum back to its even neighbour.
inline void unfold(PeerTransport& t, std::span<float> data, std::size_t chunk) {
  const int r = t.rank();
  const int extra = t.size() - floor_pow2(t.size());
  if (r >= 2 * extra) return;
  if (r % 2 == 1) {
    start_send_chunks(t, data, r - 1, chunk);
  } else {
    start_recv_chunks(t, data, r + 1, chunk);
  }
  t.wait_all();
}

}  // namespace dtrain::comm
