#pragma once
// Communicator over MPI on a private duplicate of MPI_COMM_WORLD, so dtrain's messages can
// never match a library's or a test's. The header does not include <mpi.h>: callers such as
// the CLI stay MPI-free at compile time. MPI must be initialized (MpiRuntime) before
// construction and stay initialized until destruction.
#include <cstddef>
#include <memory>
#include <string>

#include "comm/communicator.h"
#include "comm/ring_allreduce.h"

namespace dtrain::comm {

class MpiCommunicator final : public Communicator {
 public:
  // algo is the --allreduce value: "ring" (RingAllreduce over MPI point-to-point) or "mpi"
  // (MPI_Allreduce, the reference). Anything else throws ConfigError. chunk_floats is the
  // ring's pipelining chunk. Collective over MPI_COMM_WORLD (it duplicates it).
  explicit MpiCommunicator(std::string algo,
                           std::size_t chunk_floats = RingAllreduce::kDefaultChunkFloats);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  const std::string& algo() const { return algo_; }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(std::span<float> data) override;
  void allreduce_sum(std::span<double> data) override;
  int allreduce_max(int value) override;
  void broadcast(std::span<float> data, int root) override;
  void broadcast(std::span<std::byte> data, int root) override;
  std::vector<std::uint64_t> allgather(std::uint64_t value) override;
  void allgather(std::span<const std::uint16_t> mine, std::span<std::uint16_t> all) override;
  void barrier() override;
  // Flushes stdout/stderr, then MPI_Abort on MPI_COMM_WORLD: every rank of the job ends.
  [[noreturn]] void abort(int exit_code) override;

 private:
  struct Impl;  // the MPI_Comm, transport and ring, defined where <mpi.h> is included
  std::string algo_;
  int rank_ = 0;
  int size_ = 1;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dtrain::comm
