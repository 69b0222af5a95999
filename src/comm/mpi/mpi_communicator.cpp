#include "comm/mpi/mpi_communicator.h"

#include <unistd.h>
#ifdef DTRAIN_SMPI
#include <sys/syscall.h>
#endif

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <utility>

#include "comm/collectives/hierarchical.h"
#include "comm/collectives/rabenseifner.h"
#include "comm/collectives/recursive_doubling.h"
#include "comm/liveness/progress_state.h"
#include "comm/mpi/mpi_c.h"
#include "comm/mpi/mpi_check.h"
#include "comm/mpi/mpi_transport.h"
#include "comm/shared_segment.h"
#include "core/hash.h"

namespace dtrain::comm {

struct MpiCommunicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  std::unique_ptr<MpiTransport> transport;
  std::unique_ptr<RingAllreduce> ring;
  std::unique_ptr<RecursiveDoublingAllreduce> rd;
  std::unique_ptr<RabenseifnerAllreduce> rabenseifner;
  // Hierarchical: the ranks of this host, the host leaders, the shared window.
  MPI_Comm host = MPI_COMM_NULL;
  MPI_Comm leaders = MPI_COMM_NULL;
  MPI_Win window = MPI_WIN_NULL;
  // allocate_array's segments, every local rank's of every array; unmapped after the
  // algorithm that points into them.
  std::vector<SharedSegment> arrays;
  std::unique_ptr<MpiTransport> leader_transport;
  std::unique_ptr<HierarchicalAllreduce> hierarchical;

  void free_handles() {
    hierarchical.reset();
    arrays.clear();
    leader_transport.reset();
    if (window != MPI_WIN_NULL) MPI_Win_free(&window);
    if (leaders != MPI_COMM_NULL) MPI_Comm_free(&leaders);
    if (host != MPI_COMM_NULL) MPI_Comm_free(&host);
    rabenseifner.reset();
    rd.reset();
    ring.reset();
    transport.reset();
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};

namespace {

// MPI counts are int; large arrays go in INT_MAX-element pieces.
template <typename T, typename Fn>
void in_int_chunks(std::span<T> data, Fn&& fn) {
  constexpr auto kMax = static_cast<std::size_t>(INT_MAX);
  for (std::size_t off = 0; off < data.size(); off += kMax) {
    const std::size_t n = std::min(kMax, data.size() - off);
    fn(data.data() + off, static_cast<int>(n));
  }
}

}  // namespace

MpiCommunicator::MpiCommunicator(std::string algo, std::size_t chunk_floats, AlgorithmTable table)
    : algo_(std::move(algo)), table_(std::move(table)), impl_(std::make_unique<Impl>()) {
  if (algo_ != "auto" && !parse_algo(algo_)) {
    throw ConfigError("--allreduce: unknown algorithm '" + algo_ +
                      "' (expected auto, ring, rd, rabenseifner, hierarchical or mpi)");
  }
  int initialized = 0;
  check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    throw CommError("MpiCommunicator created before MPI was initialized (create MpiRuntime)");
  }
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &impl_->comm), "MPI_Comm_dup");
  // From here on the destructor would not run if we threw, so free the communicator here.
  try {
    check_mpi(MPI_Comm_set_errhandler(impl_->comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check_mpi(MPI_Comm_rank(impl_->comm, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(impl_->comm, &size_), "MPI_Comm_size");
    impl_->transport = std::make_unique<MpiTransport>(impl_->comm);
    set_up_host();
    if (chunk_floats == kChunkByTopology) {
      chunk_floats = topology_ == Topology::kSharedHosts ? RingAllreduce::kDefaultChunkFloats
                                                         : RingAllreduce::kNetChunkFloats;
    }
    impl_->ring = std::make_unique<RingAllreduce>(*impl_->transport, chunk_floats);
    impl_->rd = std::make_unique<RecursiveDoublingAllreduce>(*impl_->transport, chunk_floats);
    impl_->rabenseifner = std::make_unique<RabenseifnerAllreduce>(*impl_->transport, chunk_floats);
    // Auto must pick the same algorithm on every rank: the same choice and table everywhere.
    const auto mine = allreduce_fingerprint();
    std::uint64_t lowest = 0, highest = 0;
    check_mpi(MPI_Allreduce(&mine, &lowest, 1, MPI_UINT64_T, MPI_MIN, impl_->comm),
              "MPI_Allreduce (table check)");
    check_mpi(MPI_Allreduce(&mine, &highest, 1, MPI_UINT64_T, MPI_MAX, impl_->comm),
              "MPI_Allreduce (table check)");
    if (lowest != highest) {
      ConfigError error(
          "--allreduce/--allreduce-table differ between ranks: every rank must use the same "
          "algorithm and the same table file contents");
      error.mark_collective();
      throw error;
    }
  } catch (...) {
    impl_->free_handles();
    throw;
  }
}

void MpiCommunicator::set_up_host() {
  // The ranks that can share memory with this one (one host), and one leader per host.
  check_mpi(
      MPI_Comm_split_type(impl_->comm, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &impl_->host),
      "MPI_Comm_split_type (shared)");
  int local_rank = 0, local_size = 1;
  check_mpi(MPI_Comm_rank(impl_->host, &local_rank), "MPI_Comm_rank (host)");
  check_mpi(MPI_Comm_size(impl_->host, &local_size), "MPI_Comm_size (host)");
  check_mpi(
      MPI_Comm_split(impl_->comm, local_rank == 0 ? 0 : MPI_UNDEFINED, rank_, &impl_->leaders),
      "MPI_Comm_split (leaders)");
  int is_leader = local_rank == 0 ? 1 : 0, largest_host = 0;
  check_mpi(MPI_Allreduce(&is_leader, &hosts_, 1, MPI_INT, MPI_SUM, impl_->comm),
            "MPI_Allreduce (hosts)");
  check_mpi(MPI_Allreduce(&local_size, &largest_host, 1, MPI_INT, MPI_MAX, impl_->comm),
            "MPI_Allreduce (ranks per host)");
  topology_ = largest_host > 1 ? Topology::kSharedHosts : Topology::kOneRankPerHost;

  // One window per host, allocated by local rank 0 and mapped by all: the only shared
  // scratch the hierarchical algorithm ever uses (never reallocated per call).
  const std::size_t needed = HierarchicalAllreduce::shared_bytes(local_size) + 64;
  void* base = nullptr;
  check_mpi(MPI_Win_allocate_shared(static_cast<MPI_Aint>(local_rank == 0 ? needed : 0), 1,
                                    MPI_INFO_NULL, impl_->host, &base, &impl_->window),
            "MPI_Win_allocate_shared");
  MPI_Aint size = 0;
  int disp = 1;
  check_mpi(MPI_Win_shared_query(impl_->window, 0, &size, &disp, &base), "MPI_Win_shared_query");
  auto* bytes = static_cast<std::byte*>(base);
  // Align to a cache line; local rank 0's offset is everyone's (the mappings are page
  // aligned), and a rank that disagrees says so instead of corrupting memory.
  auto offset = static_cast<int>((64 - reinterpret_cast<std::uintptr_t>(bytes) % 64) % 64);
  check_mpi(MPI_Bcast(&offset, 1, MPI_INT, 0, impl_->host), "MPI_Bcast (window offset)");
  bytes += offset;
  if (reinterpret_cast<std::uintptr_t>(bytes) % 64 != 0) {
    throw CommError("shared window is not cache-line aligned the same way on every rank");
  }
  if (local_rank == 0) std::memset(bytes, 0, needed - 64);
  check_mpi(MPI_Barrier(impl_->host), "MPI_Barrier (host)");

  HostGroup group;
  group.shared = std::span<std::byte>(bytes, needed - 64);
  group.local_rank = local_rank;
  group.local_size = local_size;
  group.hosts = hosts_;
  MPI_Comm world = impl_->comm;
  group.progress = [world] {
    int flag = 0;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, world, &flag, MPI_STATUS_IGNORE);
  };
#ifdef DTRAIN_SMPI
  // Under SMPI the ranks of a simulated host are contexts of one OS thread: a rank spinning
  // on the shared flags would never let its peers run, and the real clock it reads is not
  // the simulated one. The host barrier blocks in MPI_Barrier on the host's communicator
  // instead, so its simulated cost is a loopback barrier (docs/simulation.md).
  MPI_Comm host = impl_->host;
  group.blocking_barrier = [host] { check_mpi(MPI_Barrier(host), "MPI_Barrier (host barrier)"); };
#endif
  if (local_rank == 0 && hosts_ > 1) {
    impl_->leader_transport = std::make_unique<MpiTransport>(impl_->leaders);
    group.leaders = impl_->leader_transport.get();
  }
  impl_->hierarchical = std::make_unique<HierarchicalAllreduce>(group);
}

std::span<float> MpiCommunicator::allocate_array(std::size_t floats) {
  // Each rank creates its array as a memfd segment, the ranks of a host exchange (pid, fd)
  // and map each other's, and all ranks agree that every step worked everywhere. If it did
  // not anywhere (no memfd, a /proc that hides the peers, a file-size limit, no memory),
  // every rank falls back to private memory: the allreduce then stages through copies, on
  // every host alike (a host in place and another staged would split the leaders' messages
  // differently). MPI_Win_allocate_shared is not used: a rank whose segment cannot be
  // created there leaves its peers waiting inside the call.
  constexpr std::size_t kPage = 4096;
  if (floats > (static_cast<std::size_t>(PTRDIFF_MAX) - kPage) / sizeof(float)) {
    throw CommError("shared array of " + std::to_string(floats) + " floats is too large");
  }
  const std::size_t bytes =
      std::max<std::size_t>(1, (floats * sizeof(float) + kPage - 1) / kPage) * kPage;
  auto everywhere = [&](bool ok) {
    int mine = ok ? 1 : 0, all = 0;
    check_mpi(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, impl_->comm),
              "MPI_Allreduce (shared array)");
    return all == 1;
  };
  int local_rank = 0, local_size = 1;
  check_mpi(MPI_Comm_rank(impl_->host, &local_rank), "MPI_Comm_rank (host)");
  check_mpi(MPI_Comm_size(impl_->host, &local_size), "MPI_Comm_size (host)");
  std::vector<SharedSegment> segments(static_cast<std::size_t>(local_size));
  auto& own = segments[static_cast<std::size_t>(local_rank)];
  own = SharedSegment::create(bytes);
  std::string error = own.ok() ? "" : own.error();
  if (everywhere(own.ok())) {
#ifdef DTRAIN_SMPI
    // Under SMPI every rank is a context of this one process, and getpid() (a macro that
    // smpicxx injects) returns the rank's simulated pid (1, 2, ...): the peers open the
    // descriptor through the real pid's /proc/PID/fd, which is this process's.
    long long mine[2] = {static_cast<long long>(::syscall(SYS_getpid)), own.fd()};
#else
    long long mine[2] = {static_cast<long long>(getpid()), own.fd()};
#endif
    std::vector<long long> all(2 * static_cast<std::size_t>(local_size));
    check_mpi(MPI_Allgather(mine, 2, MPI_LONG_LONG, all.data(), 2, MPI_LONG_LONG, impl_->host),
              "MPI_Allgather (shared array)");
    bool mapped = true;
    for (int k = 0; k < local_size; ++k) {
      if (k == local_rank) continue;
      auto& peer = segments[static_cast<std::size_t>(k)];
      peer = SharedSegment::map_peer(static_cast<long>(all[2 * static_cast<std::size_t>(k)]),
                                     static_cast<int>(all[2 * static_cast<std::size_t>(k) + 1]),
                                     bytes);
      if (!peer.ok() && mapped) {
        error = peer.error();
        mapped = false;
      }
    }
    if (everywhere(mapped)) {
      // Every peer has opened the descriptor (the agreement came after): the mappings stay.
      own.close_fd();
      std::vector<float*> bases;
      for (const auto& segment : segments)
        bases.push_back(reinterpret_cast<float*>(segment.data()));
      impl_->hierarchical->add_array(bases, floats);
      for (auto& segment : segments) impl_->arrays.push_back(std::move(segment));
      return {bases[static_cast<std::size_t>(local_rank)], floats};
    }
  }
  if (!error.empty()) {
    std::fprintf(stderr,
                 "dtrain: rank %d: no memory shared with the host's other ranks for an array of "
                 "%zu floats (%s); the allreduce copies through a staging area instead\n",
                 rank_, floats, error.c_str());
  }
  return Communicator::allocate_array(floats);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) impl_->free_handles();
}

AllreduceAlgo MpiCommunicator::algorithm_for(std::size_t bytes) const {
  if (algo_ == "auto") return table_.choose(topology_, bytes);
  return *parse_algo(algo_);
}

std::uint64_t MpiCommunicator::allreduce_fingerprint() const {
  Fingerprint f;
  f.add(algo_);
  if (algo_ == "auto") f.add(table_.fingerprint());
  return f.value();
}

void MpiCommunicator::allreduce_sum(std::span<float> data) {
  allreduce_sum(data, algorithm_for(data.size_bytes()));
}

void MpiCommunicator::allreduce_sum(std::span<float> data, AllreduceAlgo algo) {
  if (size_ == 1 || data.empty()) {
    return;
  }
  liveness::WaitScope waiting(liveness::CollectiveKind::kOther);
  switch (algo) {
    case AllreduceAlgo::kRing:
      return impl_->ring->allreduce_sum(data);
    case AllreduceAlgo::kRecursiveDoubling:
      return impl_->rd->allreduce_sum(data);
    case AllreduceAlgo::kRabenseifner:
      return impl_->rabenseifner->allreduce_sum(data);
    case AllreduceAlgo::kHierarchical:
      return impl_->hierarchical->allreduce_sum(data);
    case AllreduceAlgo::kMpi:
      break;
  }
  in_int_chunks(data, [&](float* p, int n) {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_FLOAT, MPI_SUM, impl_->comm),
              "MPI_Allreduce (float sum)");
  });
}

void MpiCommunicator::allreduce_sum(std::span<double> data) {
  liveness::WaitScope waiting(liveness::CollectiveKind::kMetrics);
  in_int_chunks(data, [&](double* p, int n) {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_DOUBLE, MPI_SUM, impl_->comm),
              "MPI_Allreduce (double sum)");
  });
}

int MpiCommunicator::allreduce_max(int value) {
  liveness::WaitScope waiting(liveness::CollectiveKind::kAgreement);
  int result = 0;
  check_mpi(MPI_Allreduce(&value, &result, 1, MPI_INT, MPI_MAX, impl_->comm),
            "MPI_Allreduce (int max)");
  return result;
}

void MpiCommunicator::broadcast(std::span<float> data, int root) {
  liveness::WaitScope waiting(liveness::CollectiveKind::kBroadcast);
  in_int_chunks(data, [&](float* p, int n) {
    check_mpi(MPI_Bcast(p, n, MPI_FLOAT, root, impl_->comm), "MPI_Bcast (floats)");
  });
}

void MpiCommunicator::broadcast(std::span<std::byte> data, int root) {
  liveness::WaitScope waiting(liveness::CollectiveKind::kBroadcast);
  in_int_chunks(data, [&](std::byte* p, int n) {
    check_mpi(MPI_Bcast(p, n, MPI_BYTE, root, impl_->comm), "MPI_Bcast (bytes)");
  });
}

std::vector<std::uint64_t> MpiCommunicator::allgather(std::uint64_t value) {
  liveness::WaitScope waiting(liveness::CollectiveKind::kAgreement);
  std::vector<std::uint64_t> values(static_cast<std::size_t>(size_));
  check_mpi(MPI_Allgather(&value, 1, MPI_UINT64_T, values.data(), 1, MPI_UINT64_T, impl_->comm),
            "MPI_Allgather");
  return values;
}

void MpiCommunicator::allgather(std::span<const std::uint16_t> mine, std::span<std::uint16_t> all) {
  if (all.size() != mine.size() * static_cast<std::size_t>(size_)) {
    throw CommError("allgather of " + std::to_string(mine.size()) + " values into " +
                    std::to_string(all.size()) + " (expected " + std::to_string(size_) +
                    " times as many)");
  }
  if (mine.size() > static_cast<std::size_t>(INT_MAX)) {
    throw CommError("allgather of " + std::to_string(mine.size()) +
                    " values exceeds INT_MAX; use smaller gradient buckets");
  }
  const int n = static_cast<int>(mine.size());
  liveness::WaitScope waiting(liveness::CollectiveKind::kOther);
  check_mpi(MPI_Allgather(mine.data(), n, MPI_UINT16_T, all.data(), n, MPI_UINT16_T, impl_->comm),
            "MPI_Allgather (16-bit)");
}

void MpiCommunicator::barrier() {
  liveness::WaitScope waiting(liveness::CollectiveKind::kBarrier);
  check_mpi(MPI_Barrier(impl_->comm), "MPI_Barrier");
}

void MpiCommunicator::abort(int exit_code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort is not required to return, nor to not return
}

}  // namespace dtrain::comm
