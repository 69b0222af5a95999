#pragma once
// The communicator of a single-process run: every collective is the identity, so the
// trainer runs the same code path with or without MPI.
#include "comm/communicator.h"

namespace dtrain::comm {

class SelfCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }

  void allreduce_sum(std::span<float> data) override;
  void allreduce_sum(std::span<double> data) override;
  int allreduce_max(int value) override;
  // Throws CommError unless root is 0: any other root is a caller bug.
  void broadcast(std::span<float> data, int root) override;
  void broadcast(std::span<std::byte> data, int root) override;
  std::vector<std::uint64_t> allgather(std::uint64_t value) override;
  void allgather(std::span<const std::uint16_t> mine, std::span<std::uint16_t> all) override;
  void barrier() override;
  // Flushes stdout/stderr (C and C++ streams) and exits without running destructors,
  // matching what MPI_Abort does to a multi-rank job.
  [[noreturn]] void abort(int exit_code) override;
};

}  // namespace dtrain::comm
