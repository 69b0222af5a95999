#pragma once
// Communicator over MPI on a private duplicate of MPI_COMM_WORLD, so dtrain's messages can
// never match a library's or a test's. The header does not include <mpi.h>: callers such as
// the CLI stay MPI-free at compile time. MPI must be initialized (MpiRuntime) before
// construction and stay initialized until destruction.
#include <cstddef>
#include <memory>
#include <string>

#include "comm/collectives/algorithm_table.h"
#include "comm/collectives/ring_allreduce.h"
#include "comm/communicator.h"

namespace dtrain::comm {

class MpiCommunicator final : public Communicator {
 public:
  // chunk_floats: RingAllreduce::kDefaultChunkFloats where some host runs several ranks,
  // RingAllreduce::kNetChunkFloats where every rank has its own host (and between host
  // leaders).
  static constexpr std::size_t kChunkByTopology = 0;
  // algo is the --allreduce value: "auto" (per message size from `table`), "ring", "rd",
  // "rabenseifner", "hierarchical" (our algorithms over MPI point-to-point and, for
  // hierarchical, an MPI-3 shared-memory window per host) or "mpi" (MPI_Allreduce, the
  // reference). Anything else throws ConfigError. chunk_floats is the pipelining chunk.
  // Collective over MPI_COMM_WORLD (it duplicates it); every rank must pass the same algo
  // and table, or every rank throws ConfigError.
  explicit MpiCommunicator(std::string algo, std::size_t chunk_floats = kChunkByTopology,
                           AlgorithmTable table = AlgorithmTable::builtin());
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  const std::string& algo() const { return algo_; }
  const AlgorithmTable& table() const { return table_; }
  // shm when some host runs several ranks, net otherwise (the same on every rank).
  Topology topology() const { return topology_; }
  int hosts() const { return hosts_; }
  // The algorithm allreduce_sum uses for a message of `bytes` (the table's pick for auto).
  AllreduceAlgo algorithm_for(std::size_t bytes) const;
  // Hash of the algorithm choice and table, for the run configuration's fingerprint.
  std::uint64_t allreduce_fingerprint() const;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(std::span<float> data) override;
  // The same with a given algorithm (benchmarks; collective like allreduce_sum).
  void allreduce_sum(std::span<float> data, AllreduceAlgo algo);
  void allreduce_sum(std::span<double> data) override;
  int allreduce_max(int value) override;
  void broadcast(std::span<float> data, int root) override;
  void broadcast(std::span<std::byte> data, int root) override;
  std::vector<std::uint64_t> allgather(std::uint64_t value) override;
  void allgather(std::span<const std::uint16_t> mine, std::span<std::uint16_t> all) override;
  void barrier() override;
  // Each rank's array in memory the host's other ranks map (a memfd segment per rank),
  // registered with the hierarchical allreduce so that it sums spans of it in place; private
  // memory on every rank if that fails on any (with a warning naming the reason).
  std::span<float> allocate_array(std::size_t floats) override;
  // Flushes stdout/stderr, then MPI_Abort on MPI_COMM_WORLD: every rank of the job ends.
  [[noreturn]] void abort(int exit_code) override;

 private:
  struct Impl;  // MPI handles and the algorithms, defined where <mpi.h> is included
  void set_up_host();
  std::string algo_;
  AlgorithmTable table_;
  Topology topology_ = Topology::kOneRankPerHost;
  int rank_ = 0;
  int size_ = 1;
  int hosts_ = 1;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dtrain::comm
