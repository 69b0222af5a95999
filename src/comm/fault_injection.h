#pragma once
// A transport failure on purpose, for tests of the failure paths: with
// DTRAIN_INJECT_COMM_FAULT=R:N in the environment, rank R's N-th float allreduce (a
// gradient bucket: with --overlap on it runs on the communication thread) throws CommError
// instead of communicating, exactly as a failed MPI call does. Nothing else changes; without
// the variable dtrain never wraps its communicator.
#include <cstdint>
#include <memory>
#include <optional>

#include "comm/communicator.h"

namespace dtrain::comm {

struct FaultPlan {
  int rank = 0;
  std::uint64_t call = 1;  // 1-based
};

// Reads DTRAIN_INJECT_COMM_FAULT; throws ConfigError when it is set but not "R:N" (N >= 1).
std::optional<FaultPlan> fault_plan_from_environment();

class FaultInjectingCommunicator final : public Communicator {
 public:
  // inner must outlive this object.
  FaultInjectingCommunicator(Communicator& inner, FaultPlan plan) : inner_(inner), plan_(plan) {}

  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void allreduce_sum(std::span<float> data) override;
  void allreduce_sum(std::span<double> data) override { inner_.allreduce_sum(data); }
  int allreduce_max(int value) override { return inner_.allreduce_max(value); }
  void broadcast(std::span<float> data, int root) override { inner_.broadcast(data, root); }
  void broadcast(std::span<std::byte> data, int root) override { inner_.broadcast(data, root); }
  std::vector<std::uint64_t> allgather(std::uint64_t value) override {
    return inner_.allgather(value);
  }
  void allgather(std::span<const std::uint16_t> mine, std::span<std::uint16_t> all) override;
  void barrier() override { inner_.barrier(); }
  std::span<float> allocate_array(std::size_t floats) override {
    return inner_.allocate_array(floats);
  }
  [[noreturn]] void abort(int exit_code) override;

 private:
  void count_call(const char* what);

  Communicator& inner_;
  FaultPlan plan_;
  std::uint64_t calls_ = 0;
};

}  // namespace dtrain::comm
