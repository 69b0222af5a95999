#pragma once
// A Communicator whose ranks are threads of one process, so data-parallel code (trainer,
// evaluation, checkpoint broadcast) can be tested for P ranks without MPI. Float sums go
// through the real RingAllreduce over InProcessTransport; the other collectives gather
// every rank's bytes and combine them in rank order, identically on every rank.
#include <cstddef>
#include <functional>

#include "core/errors.h"
#include "comm/communicator.h"
#include "comm/collectives/ring_allreduce.h"
#include "testing/in_process_transport.h"

namespace dtrain::test {

// What InProcessCommunicator::abort throws instead of ending the test process.
class InProcessAbort : public CommError {
 public:
  InProcessAbort(int rank, int exit_code);
  int exit_code() const override { return exit_code_; }

 private:
  int exit_code_;
};

class InProcessCommunicator final : public comm::Communicator {
 public:
  // network must outlive this object; use it only from rank's thread.
  InProcessCommunicator(InProcessNetwork& network, int rank,
                        std::size_t chunk_floats = comm::RingAllreduce::kDefaultChunkFloats);

  int rank() const override { return rank_; }
  int size() const override { return network_.size(); }
  void allreduce_sum(std::span<float> data) override;
  void allreduce_sum(std::span<double> data) override;
  int allreduce_max(int value) override;
  // Throws CommError for a root out of range or a length that differs from root's.
  void broadcast(std::span<float> data, int root) override;
  void broadcast(std::span<std::byte> data, int root) override;
  std::vector<std::uint64_t> allgather(std::uint64_t value) override;
  void allgather(std::span<const std::uint16_t> mine, std::span<std::uint16_t> all) override;
  void barrier() override;
  // Shuts the network down (other ranks' waits fail) and throws InProcessAbort: the test
  // sees the exit code without the process ending.
  [[noreturn]] void abort(int exit_code) override;

 private:
  InProcessNetwork& network_;
  int rank_;
  comm::RingAllreduce ring_;
};

// Runs fn on `size` threads, each with its own rank's communicator; rethrows the first
// exception (an InProcessAbort if a rank aborted).
void run_communicator_ranks(int size, const std::function<void(comm::Communicator&)>& fn,
                            std::size_t chunk_floats = comm::RingAllreduce::kDefaultChunkFloats);

}  // namespace dtrain::test
