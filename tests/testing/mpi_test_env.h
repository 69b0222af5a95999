#pragma once
// Helpers for tests under tests/mpi (defined in mpi_gtest_main.cpp, which owns MPI's
// lifetime for those binaries). MPI is initialized before any test runs.
#include <cstdint>
#include <span>

namespace dtrain::test {

int world_rank();
int world_size();

// FNV-1a over the bytes of a float array: compare results across ranks via allgather
// without sending the array.
std::uint64_t fingerprint(std::span<const float> values);

}  // namespace dtrain::test
