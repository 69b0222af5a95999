#pragma once
// The collective operations training needs, independent of the transport underneath.
// Implementations: SelfCommunicator (one rank, every collective is a no-op) and
// MpiCommunicator (src/comm/mpi). All calls are collective: every rank makes the same
// calls in the same order with the same lengths; that is the caller's contract.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dtrain::comm {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // In-place elementwise sum over all ranks. The result is bitwise identical on every rank.
  virtual void allreduce_sum(std::span<float> data) = 0;
  // The same for small vectors of metrics (loss sums, counts).
  virtual void allreduce_sum(std::span<double> data) = 0;
  // Maximum of one value over all ranks (used to agree on a stop request).
  virtual int allreduce_max(int value) = 0;
  // Copies root's data into every rank's data (same length everywhere).
  virtual void broadcast(std::span<float> data, int root) = 0;
  virtual void broadcast(std::span<std::byte> data, int root) = 0;
  // Every rank's value, indexed by rank.
  virtual std::vector<std::uint64_t> allgather(std::uint64_t value) = 0;
  // Every rank's `mine` (the same length on every rank) concatenated in rank order into
  // `all` (size() * mine.size() values): how 16-bit compressed gradients travel.
  virtual void allgather(std::span<const std::uint16_t> mine, std::span<std::uint16_t> all) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the job with this exit code; never returns.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

}  // namespace dtrain::comm
