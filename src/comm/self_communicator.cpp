#include "comm/self_communicator.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "core/errors.h"

namespace dtrain::comm {
namespace {

void check_root(int root) {
  if (root != 0) {
    throw CommError("broadcast from root " + std::to_string(root) +
                    " in a 1-rank job (valid roots: 0)");
  }
}

}  // namespace

void SelfCommunicator::allreduce_sum(std::span<float> /*data*/) {}

void SelfCommunicator::allreduce_sum(std::span<double> /*data*/) {}

int SelfCommunicator::allreduce_max(int value) {
  return value;
}

void SelfCommunicator::broadcast(std::span<float> /*data*/, int root) {
  check_root(root);
}

void SelfCommunicator::broadcast(std::span<std::byte> /*data*/, int root) {
  check_root(root);
}

std::vector<std::uint64_t> SelfCommunicator::allgather(std::uint64_t value) {
  return {value};
}

void SelfCommunicator::allgather(std::span<const std::uint16_t> mine,
                                 std::span<std::uint16_t> all) {
  if (all.size() != mine.size()) {
    throw CommError("allgather of " + std::to_string(mine.size()) + " values into " +
                    std::to_string(all.size()) + " (1 rank: expected the same length)");
  }
  std::copy(mine.begin(), mine.end(), all.begin());
}

void SelfCommunicator::barrier() {}

void SelfCommunicator::abort(int exit_code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(exit_code);
}

}  // namespace dtrain::comm
