#include <atomic>
#include <string>

#include "comm/collectives/hierarchical.h"
#include "core/errors.h"

namespace dtrain::comm {

// Hierarchical allreduce in place (arrays from Communicator::allocate_array)
// --------------------------------------------------------------------------
// When every rank of the host maps every other rank's array (each rank's array a memfd
// segment the others map, see comm/shared_segment.h), the staging slots of hierarchical.cpp
// are not needed:
// a rank can read its peers' values where they are and write the sums back there.
//
//   0. publish: rank l writes (array, offset, length) of its call into its line.  barrier
//      Every rank checks that all L lines agree (the same span everywhere), or throws.
//   1. reduce: rank l adds slice l of the span of every local rank's array, in
//      local-rank order, and writes the host sum into slice l of every local array (one
//      host) or only into the leader's (several hosts).                         barrier
//   One host: done. Several hosts, then:
//   2. the leader (local rank 0) allreduces its span with the other leaders (ring, or
//      recursive doubling for small spans), in place in its array.              barrier
//   3. every other rank copies the leader's span into its own.                  barrier
//      (so the leader's caller cannot change its array while a peer still reads it)
//
// Why it is safe: during step 1 rank l reads and writes slice l only, of every array, so
// no two ranks touch the same element; the barriers order everything else. Each rank
// touches its peers' arrays only between barriers of a call it is in together with them.
//
// Cost, one host, per rank: two barriers (alpha) and memory traffic of n/L floats read from
// each of L arrays and written to each: 2n floats, (L-1)/L of them in other cores' caches,
// plus (L-1)/L n additions in parallel on all L ranks. The staged path moves about 3.5n
// floats per rank for L = 2 (copy in, read the peer's slot, write the slot and the array,
// copy out) and pays two barriers per 128 KiB piece: in place it is two barriers per call,
// whatever the length. Open MPI's shared-memory Rabenseifner with single-copy (CMA)
// transfers moves about as much as the staged path, through system calls.
//
// Bitwise identity: each element's host sum is computed once, by its slice owner, in
// local-rank order (the same order as the staged path, so in place and staged give the same
// bits), then copied; the leaders' allreduce is bitwise identical on every leader.

namespace {

// Floats summed in one block: a 4 KiB accumulator that stays in L1 while it is written to
// every destination.
constexpr std::size_t kBlockFloats = 1024;
constexpr std::size_t kAlign = HostBarrier::kLineBytes;

// a[i] = b[i] = a[i] + b[i], the two-rank case, with no accumulator pass.
void sum_into_both(float* a, float* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float sum = a[i] + b[i];
    a[i] = sum;
    b[i] = sum;
  }
  charge_add(n);  // as add_into_both (blocks.h)
  charge_copy(n);
}

}  // namespace

void HierarchicalAllreduce::publish(std::uint64_t array_plus_one, std::uint64_t offset,
                                    std::uint64_t length) {
  // Relaxed: the barrier's release store that follows makes them visible.
  auto* line = reinterpret_cast<CallLine*>(call_lines_ +
                                           kAlign * static_cast<std::size_t>(group_.local_rank));
  std::atomic_ref<std::uint64_t>(line->array_plus_one)
      .store(array_plus_one, std::memory_order_relaxed);
  std::atomic_ref<std::uint64_t>(line->offset).store(offset, std::memory_order_relaxed);
  std::atomic_ref<std::uint64_t>(line->length).store(length, std::memory_order_relaxed);
}

HierarchicalAllreduce::CallLine HierarchicalAllreduce::published(int local_rank) const {
  auto* line =
      reinterpret_cast<CallLine*>(call_lines_ + kAlign * static_cast<std::size_t>(local_rank));
  return {std::atomic_ref<std::uint64_t>(line->array_plus_one).load(std::memory_order_relaxed),
          std::atomic_ref<std::uint64_t>(line->offset).load(std::memory_order_relaxed),
          std::atomic_ref<std::uint64_t>(line->length).load(std::memory_order_relaxed)};
}

void HierarchicalAllreduce::in_place(std::size_t array, std::size_t offset, std::size_t length) {
  const int l = group_.local_rank;
  const int size = group_.local_size;
  publish(array + 1, offset, length);
  barrier_.arrive_and_wait();
  for (int k = 0; k < size; ++k) {
    const CallLine theirs = published(k);
    if (theirs.array_plus_one != array + 1 || theirs.offset != offset || theirs.length != length) {
      throw CommError("hierarchical allreduce: local rank " + std::to_string(l) + " sums " +
                      std::to_string(length) + " floats at offset " + std::to_string(offset) +
                      " of shared array " + std::to_string(array) + " in place, local rank " +
                      std::to_string(k) +
                      (theirs.array_plus_one == 0
                           ? std::string(" a span outside every shared array")
                           : " " + std::to_string(theirs.length) + " floats at offset " +
                                 std::to_string(theirs.offset) + " of shared array " +
                                 std::to_string(theirs.array_plus_one - 1)) +
                      " (every rank must reduce the same span)");
    }
  }
  const HostArray& host_array = arrays_[array];
  const bool one_host = group_.hosts == 1;
  sum_slice_in_place(host_array, offset, even_block(length, size, l), one_host);
  barrier_.arrive_and_wait();
  if (one_host) return;
  float* leader = host_array.bases[0] + offset;
  if (l == 0) between_hosts({leader, length});
  barrier_.arrive_and_wait();
  if (l != 0) {
    copy_floats(host_array.bases[static_cast<std::size_t>(l)] + offset, leader, length);
  }
  barrier_.arrive_and_wait();
}

void HierarchicalAllreduce::sum_slice_in_place(const HostArray& array, std::size_t offset,
                                               Block slice, bool every_array) {
  const int size = group_.local_size;
  auto at = [&](int k) { return array.bases[static_cast<std::size_t>(k)] + offset + slice.offset; };
  if (size == 1) return;  // one rank on this host: its array is its host sum
  if (size == 2 && every_array) return sum_into_both(at(0), at(1), slice.length);
  alignas(64) float acc[kBlockFloats];
  for (std::size_t done = 0; done < slice.length; done += kBlockFloats) {
    const std::size_t n = std::min(kBlockFloats, slice.length - done);
    add_into(acc, at(0) + done, at(1) + done, n);
    for (int k = 2; k < size; ++k) add_into(acc, acc, at(k) + done, n);
    for (int k = 0; k < (every_array ? size : 1); ++k) {
      copy_floats(at(k) + done, acc, n);
    }
  }
}

}  // namespace dtrain::comm
