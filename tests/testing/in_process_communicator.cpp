#include "testing/in_process_communicator.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace dtrain::test {
namespace {

template <typename T>
std::span<const std::byte> bytes_of(std::span<T> values) {
  return std::as_bytes(values);
}

template <typename T>
T value_from(const std::vector<std::byte>& bytes) {
  T value{};
  std::memcpy(&value, bytes.data(), sizeof value);
  return value;
}

}  // namespace

InProcessAbort::InProcessAbort(int rank, int exit_code)
    : CommError("rank " + std::to_string(rank) + " aborted the job with exit code " +
                std::to_string(exit_code)),
      exit_code_(exit_code) {}

InProcessCommunicator::InProcessCommunicator(InProcessNetwork& network, int rank,
                                             std::size_t chunk_floats)
    : network_(network), rank_(rank), ring_(network.transport(rank), chunk_floats) {}

void InProcessCommunicator::allreduce_sum(std::span<float> data) {
  ring_.allreduce_sum(data);
}

void InProcessCommunicator::allreduce_sum(std::span<double> data) {
  const auto all = network_.exchange(rank_, bytes_of(data));
  // Summed in rank order on every rank, so every rank rounds the same way.
  std::fill(data.begin(), data.end(), 0.0);
  for (const auto& bytes : all) {
    if (bytes.size() != data.size_bytes()) {
      throw CommError("allreduce_sum(double): ranks passed different lengths");
    }
    for (std::size_t i = 0; i < data.size(); ++i) {
      double x = 0.0;
      std::memcpy(&x, bytes.data() + i * sizeof x, sizeof x);
      data[i] += x;
    }
  }
}

int InProcessCommunicator::allreduce_max(int value) {
  const auto all = network_.exchange(rank_, std::as_bytes(std::span<const int>(&value, 1)));
  int result = value_from<int>(all[0]);
  for (const auto& bytes : all) {
    result = std::max(result, value_from<int>(bytes));
  }
  return result;
}

void InProcessCommunicator::broadcast(std::span<float> data, int root) {
  broadcast(std::as_writable_bytes(data), root);
}

void InProcessCommunicator::broadcast(std::span<std::byte> data, int root) {
  if (root < 0 || root >= size()) {
    throw CommError("broadcast from root " + std::to_string(root) + " out of range for " +
                    std::to_string(size()) + " ranks");
  }
  const auto all = network_.exchange(
      rank_, rank_ == root ? std::span<const std::byte>(data) : std::span<const std::byte>());
  const auto& sent = all[static_cast<std::size_t>(root)];
  if (sent.size() != data.size()) {
    throw CommError("rank " + std::to_string(rank_) + ": broadcast of " +
                    std::to_string(data.size()) + " bytes but root sent " +
                    std::to_string(sent.size()));
  }
  std::copy(sent.begin(), sent.end(), data.begin());
}

std::vector<std::uint64_t> InProcessCommunicator::allgather(std::uint64_t value) {
  const auto all =
      network_.exchange(rank_, std::as_bytes(std::span<const std::uint64_t>(&value, 1)));
  std::vector<std::uint64_t> values;
  for (const auto& bytes : all) {
    values.push_back(value_from<std::uint64_t>(bytes));
  }
  return values;
}

void InProcessCommunicator::allgather(std::span<const std::uint16_t> mine,
                                      std::span<std::uint16_t> all) {
  const auto parts = network_.exchange(rank_, std::as_bytes(mine));
  if (all.size() != mine.size() * parts.size()) {
    throw CommError("allgather(16-bit): output holds " + std::to_string(all.size()) + " values");
  }
  auto out = std::as_writable_bytes(all);
  for (std::size_t r = 0; r < parts.size(); ++r) {
    if (parts[r].size() != mine.size_bytes()) {
      throw CommError("allgather(16-bit): ranks passed different lengths");
    }
    std::copy(parts[r].begin(), parts[r].end(), out.begin() + r * mine.size_bytes());
  }
}

void InProcessCommunicator::barrier() {
  network_.exchange(rank_, {});
}

void InProcessCommunicator::abort(int exit_code) {
  network_.shut_down();
  throw InProcessAbort(rank_, exit_code);
}

void run_communicator_ranks(int size, const std::function<void(comm::Communicator&)>& fn,
                            std::size_t chunk_floats) {
  InProcessNetwork network(size);
  run_ranks(network, [&](int rank, comm::PeerTransport&) {
    InProcessCommunicator comm(network, rank, chunk_floats);
    fn(comm);
  });
}

}  // namespace dtrain::test
