#include "comm/collectives/hierarchical.h"

#include <algorithm>
#include <string>
#include <utility>

#include "comm/collectives/blocks.h"
#include "core/errors.h"

namespace dtrain::comm {

// Hierarchical allreduce (two levels: shared memory inside a host, messages between hosts)
// -----------------------------------------------------------------------------------------
// L ranks on a host share one memory segment: for each local rank l a slot of one piece
// (and a second slot, see "parity"), plus one result area. The array is processed in
// pieces of at most piece_floats; each piece is cut into L slices, slice l owned by local
// rank l.
//
//   1. copy in: rank l copies the piece into its slot, except its own slice (nobody else
//      needs it).                                                   barrier
//   2. reduce: rank l adds slice l of every local rank in local-rank order (its own
//      contribution from its private array), writes the host sum into its private array
//      and into slice l of its own slot.                            barrier
//   3a. one host: rank l copies slice k (k != l) from slot k. Done.
//   3b. several hosts: the leader (local rank 0) copies every host sum into its private
//      array, allreduces it with the other leaders (ring; recursive doubling for small
//      pieces), writes the result into the result area.            barrier
//      Every other rank copies the result area into its private array.
//
// Cost, per rank with one host: 2 barriers per piece (each ~ one cache-line transfer,
// the alpha) and memory traffic of about 3 (L-1)/L n floats copied (in, the peers'
// slices read, out) plus n/L written: n beta_mem with beta_mem the memory system's time
// per float, and (L-1)/L n gamma for the additions, done by all L ranks in parallel.
// Between H hosts add the leaders' ring: 2(H-1) alpha_net + 2(H-1)/H n beta_net. Only one
// rank per host uses the network, so the network carries P/L times fewer bytes per host
// than a flat ring over P ranks would send through the host's link... the same volume
// per link, but with H instead of P ranks in the latency term.
//
// In place (hierarchical_in_place.cpp): when the array is one every rank of the host maps
// (Communicator::allocate_array), none of the copies above are needed.
//
// Small messages (<= kSmallFloats): every rank copies its piece into its slot, one
// barrier, and every rank adds all L slots in local-rank order itself. With several hosts
// the leader does that, then the leaders allreduce, then one barrier and a copy out.
//
// Bitwise identity: a host sum of an element is computed by one rank (its slice owner) in
// local-rank order, the leaders' allreduce is bitwise identical on every leader, and
// everything after is a copy. In the small path every rank adds bitwise identical
// operands in the same order with the same code, so every rank gets the same bits.
//
// Parity: consecutive pieces alternate between two sets of slots, so piece j+1 can be
// copied in while a slower rank still copies piece j out. Piece j+2 reuses piece j's
// slots only after the first barrier of piece j+1, which no rank enters before it has
// finished reading piece j. That saves a third barrier per piece.

namespace {

constexpr std::size_t kAlign = HostBarrier::kLineBytes;

std::size_t round_up(std::size_t bytes) {
  return (bytes + kAlign - 1) / kAlign * kAlign;
}

std::size_t slot_bytes(std::size_t piece_floats) {
  return round_up(piece_floats * sizeof(float));
}

}  // namespace

std::size_t HierarchicalAllreduce::shared_bytes(int local_size, std::size_t piece_floats) {
  const auto l = static_cast<std::size_t>(local_size);
  return HostBarrier::shared_bytes(local_size) + l * kAlign +
         (2 * l + 2) * slot_bytes(piece_floats);
}

HierarchicalAllreduce::HierarchicalAllreduce(HostGroup group, std::size_t piece_floats)
    : group_(group),
      piece_floats_(piece_floats),
      barrier_(group.shared.first(
                   std::min(group.shared.size(), HostBarrier::shared_bytes(group.local_size))),
               group.local_rank, group.local_size, group.progress, group.blocking_barrier),
      call_lines_(group.shared.data() + HostBarrier::shared_bytes(group.local_size)),
      slots_(call_lines_ + kAlign * static_cast<std::size_t>(group.local_size)) {
  if (piece_floats_ == 0) {
    throw ConfigError("hierarchical allreduce: piece size must be at least 1 float");
  }
  if (group_.shared.size() < shared_bytes(group_.local_size, piece_floats_)) {
    throw CommError("hierarchical allreduce: " + std::to_string(group_.shared.size()) +
                    " bytes of shared memory, " +
                    std::to_string(shared_bytes(group_.local_size, piece_floats_)) + " needed");
  }
  if (group_.hosts > 1 && group_.local_rank == 0) {
    if (group_.leaders == nullptr || group_.leaders->size() != group_.hosts) {
      throw CommError("hierarchical allreduce: the host leader needs a transport to the " +
                      std::to_string(group_.hosts) + " leaders");
    }
    leader_ring_ = std::make_unique<RingAllreduce>(*group_.leaders, group_.leader_chunk_floats);
    leader_rd_ = std::make_unique<RecursiveDoublingAllreduce>(*group_.leaders);
  }
}

float* HierarchicalAllreduce::slot(int local_rank, int parity) const {
  const auto index = static_cast<std::size_t>(2 * local_rank + parity);
  return reinterpret_cast<float*>(slots_ + index * slot_bytes(piece_floats_));
}

float* HierarchicalAllreduce::result(int parity) const {
  return slot(group_.local_size, parity);
}

void HierarchicalAllreduce::allreduce_sum(std::span<float> data) {
  if (data.empty() || (group_.local_size == 1 && group_.hosts == 1)) return;
  if (data.size() >= kInPlaceMinFloats) {
    const float* first = data.data();
    for (std::size_t a = 0; a < arrays_.size(); ++a) {
      const float* base = arrays_[a].bases[static_cast<std::size_t>(group_.local_rank)];
      // Compared as addresses: the span may belong to any other allocation.
      const auto begin = reinterpret_cast<std::uintptr_t>(base);
      const auto at = reinterpret_cast<std::uintptr_t>(first);
      if (at < begin || at >= begin + arrays_[a].floats * sizeof(float)) continue;
      const auto offset = static_cast<std::size_t>(first - base);
      if (data.size() > arrays_[a].floats - offset) break;  // runs past the array: staged
      return in_place(a, offset, data.size());
    }
  }
  // Says "not in place" to a peer that would sum in place (a broken contract it then reports).
  publish(0, 0, 0);
  staged(data);
}

void HierarchicalAllreduce::add_array(std::vector<float*> bases, std::size_t floats) {
  if (bases.size() != static_cast<std::size_t>(group_.local_size)) {
    throw CommError("hierarchical allreduce: an array needs one base per rank of the host (" +
                    std::to_string(group_.local_size) + "), got " + std::to_string(bases.size()));
  }
  for (float* base : bases) {
    if (base == nullptr) throw CommError("hierarchical allreduce: a shared array without memory");
  }
  arrays_.push_back({std::move(bases), floats});
}

void HierarchicalAllreduce::staged(std::span<float> data) {
  for (std::size_t off = 0; off < data.size(); off += piece_floats_) {
    const auto piece = data.subspan(off, std::min(piece_floats_, data.size() - off));
    const int parity = static_cast<int>(pieces_done_++ & 1);
    if (piece.size() <= kSmallFloats) {
      piece_small(piece, parity);
    } else {
      piece_large(piece, parity);
    }
  }
}

void HierarchicalAllreduce::between_hosts(std::span<float> piece) {
  if (piece.size() <= kLeaderDoublingFloats) {
    leader_rd_->allreduce_sum(piece);
  } else {
    leader_ring_->allreduce_sum(piece);
  }
}

void HierarchicalAllreduce::piece_small(std::span<float> piece, int parity) {
  const int l = group_.local_rank;
  const int size = group_.local_size;
  const std::size_t n = piece.size();
  copy_floats(slot(l, parity), piece.data(), n);
  barrier_.arrive_and_wait();
  const bool one_host = group_.hosts == 1;
  if (one_host || l == 0) {
    copy_floats(piece.data(), slot(0, parity), n);
    for (int k = 1; k < size; ++k) add_into(piece.data(), piece.data(), slot(k, parity), n);
  }
  if (one_host) return;
  if (l == 0) {
    between_hosts(piece);
    copy_floats(result(parity), piece.data(), n);
  }
  barrier_.arrive_and_wait();
  if (l != 0) copy_floats(piece.data(), result(parity), n);
}

void HierarchicalAllreduce::piece_large(std::span<float> piece, int parity) {
  const int l = group_.local_rank;
  const int size = group_.local_size;
  const std::size_t n = piece.size();
  const Block mine = even_block(n, size, l);
  float* my_slot = slot(l, parity);
  // 1. Copy in everything but my own slice: before it, after it.
  copy_floats(my_slot, piece.data(), mine.offset);
  copy_floats(my_slot + mine.offset + mine.length, piece.data() + mine.offset + mine.length,
              n - mine.offset - mine.length);
  barrier_.arrive_and_wait();
  // 2. Sum my slice in local-rank order; mine comes from my private array.
  float* out = piece.data() + mine.offset;
  auto part = [&](int k) -> const float* {
    return k == l ? piece.data() + mine.offset : slot(k, parity) + mine.offset;
  };
  if (size > 1) {
    // The sum goes to my slot (where the others read it) and then to my private array;
    // my slot's slice l is read by nobody during this step.
    // The last addition stores to both places at once, saving a pass over the slice.
    float* acc = my_slot + mine.offset;
    if (size == 2) {
      add_into_both(out, acc, part(0), part(1), mine.length);
    } else {
      add_into(acc, part(0), part(1), mine.length);
      for (int k = 2; k < size - 1; ++k) add_into(acc, acc, part(k), mine.length);
      add_into_both(out, acc, acc, part(size - 1), mine.length);
    }
  }
  barrier_.arrive_and_wait();
  // 3. Everyone else's slices.
  const bool one_host = group_.hosts == 1;
  if (one_host || l == 0) {
    for (int k = 0; k < size; ++k) {
      if (k == l) continue;
      const Block theirs = even_block(n, size, k);
      copy_floats(piece.data() + theirs.offset, slot(k, parity) + theirs.offset, theirs.length);
    }
  }
  if (one_host) return;
  if (l == 0) {
    between_hosts(piece);
    copy_floats(result(parity), piece.data(), n);
  }
  barrier_.arrive_and_wait();
  if (l != 0) copy_floats(piece.data(), result(parity), n);
}

}  // namespace dtrain::comm
