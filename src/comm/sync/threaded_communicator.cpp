#include "comm/sync/threaded_communicator.h"

#include <cstdlib>

namespace dtrain::comm {

void ThreadedCommunicator::allreduce_sum(std::span<float> data) {
  thread_.run([&] { inner_.allreduce_sum(data); });
}

void ThreadedCommunicator::allreduce_sum(std::span<double> data) {
  thread_.run([&] { inner_.allreduce_sum(data); });
}

int ThreadedCommunicator::allreduce_max(int value) {
  int result = 0;
  thread_.run([&] { result = inner_.allreduce_max(value); });
  return result;
}

void ThreadedCommunicator::broadcast(std::span<float> data, int root) {
  thread_.run([&] { inner_.broadcast(data, root); });
}

void ThreadedCommunicator::broadcast(std::span<std::byte> data, int root) {
  thread_.run([&] { inner_.broadcast(data, root); });
}

std::vector<std::uint64_t> ThreadedCommunicator::allgather(std::uint64_t value) {
  std::vector<std::uint64_t> result;
  thread_.run([&] { result = inner_.allgather(value); });
  return result;
}

void ThreadedCommunicator::allgather(std::span<const std::uint16_t> mine,
                                     std::span<std::uint16_t> all) {
  thread_.run([&] { inner_.allgather(mine, all); });
}

void ThreadedCommunicator::abort(int exit_code) {
  inner_.abort(exit_code);
  std::abort();  // inner_.abort never returns; this only tells the compiler so
}

void ThreadedCommunicator::barrier() {
  thread_.run([&] { inner_.barrier(); });
}

std::span<float> ThreadedCommunicator::allocate_array(std::size_t floats) {
  std::span<float> result;
  thread_.run([&] { result = inner_.allocate_array(floats); });
  return result;
}

}  // namespace dtrain::comm
