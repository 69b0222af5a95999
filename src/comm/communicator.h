#pragma once
// The collective operations training needs, independent of the transport underneath.
// Implementations: SelfCommunicator (one rank, every collective is a no-op) and
// MpiCommunicator (src/comm/mpi). All calls are collective: every rank makes the same
// calls in the same order with the same lengths; that is the caller's contract.
#include <cstddef>
#include <cstdint>
#include <memory>
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
  // Storage for an array this rank allreduces spans of again and again (the gradient arena,
  // a benchmark's buffer): `floats` zeroed floats, 64-byte aligned, valid as long as the
  // communicator. Where ranks share a host (MpiCommunicator), every rank of the host maps
  // every other's array, and the hierarchical allreduce sums a span of it in place, with no
  // staging copies (collectives/hierarchical_in_place.cpp). Collective: every rank calls it
  // in the same order with the same count. This default is private memory.
  virtual std::span<float> allocate_array(std::size_t floats);
  // Ends every rank of the job with this exit code; never returns.
  [[noreturn]] virtual void abort(int exit_code) = 0;

 private:
  struct AlignedFree {
    void operator()(float* p) const;
  };
  std::vector<std::unique_ptr<float, AlignedFree>> private_arrays_;
};

}  // namespace dtrain::comm
