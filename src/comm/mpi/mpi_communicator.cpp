#include "comm/mpi/mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <utility>

#include "comm/mpi/mpi_c.h"
#include "comm/mpi/mpi_check.h"
#include "comm/mpi/mpi_transport.h"

namespace dtrain::comm {

struct MpiCommunicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  std::unique_ptr<MpiTransport> transport;
  std::unique_ptr<RingAllreduce> ring;
};

namespace {

// MPI counts are int; large arrays go in INT_MAX-element pieces.
template <typename T, typename Fn>
void in_int_chunks(std::span<T> data, Fn&& fn) {
  constexpr auto kMax = static_cast<std::size_t>(INT_MAX);
  for (std::size_t off = 0; off < data.size(); off += kMax) {
    const std::size_t n = std::min(kMax, data.size() - off);
    fn(data.data() + off, static_cast<int>(n));
  }
}

}  // namespace

MpiCommunicator::MpiCommunicator(std::string algo, std::size_t chunk_floats)
    : algo_(std::move(algo)), impl_(std::make_unique<Impl>()) {
  if (algo_ != "ring" && algo_ != "mpi") {
    throw ConfigError("--allreduce: unknown algorithm '" + algo_ + "' (expected ring or mpi)");
  }
  int initialized = 0;
  check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    throw CommError("MpiCommunicator created before MPI was initialized (create MpiRuntime)");
  }
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &impl_->comm), "MPI_Comm_dup");
  // From here on the destructor would not run if we threw, so free the communicator here.
  try {
    check_mpi(MPI_Comm_set_errhandler(impl_->comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check_mpi(MPI_Comm_rank(impl_->comm, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(impl_->comm, &size_), "MPI_Comm_size");
    impl_->transport = std::make_unique<MpiTransport>(impl_->comm);
    impl_->ring = std::make_unique<RingAllreduce>(*impl_->transport, chunk_floats);
  } catch (...) {
    MPI_Comm_free(&impl_->comm);
    throw;
  }
}

MpiCommunicator::~MpiCommunicator() {
  impl_->ring.reset();
  impl_->transport.reset();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && impl_->comm != MPI_COMM_NULL) {
    MPI_Comm_free(&impl_->comm);
  }
}

void MpiCommunicator::allreduce_sum(std::span<float> data) {
  if (size_ == 1 || data.empty()) {
    return;
  }
  if (algo_ == "ring") {
    impl_->ring->allreduce_sum(data);
    return;
  }
  in_int_chunks(data, [&](float* p, int n) {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_FLOAT, MPI_SUM, impl_->comm),
              "MPI_Allreduce (float sum)");
  });
}

void MpiCommunicator::allreduce_sum(std::span<double> data) {
  in_int_chunks(data, [&](double* p, int n) {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_DOUBLE, MPI_SUM, impl_->comm),
              "MPI_Allreduce (double sum)");
  });
}

int MpiCommunicator::allreduce_max(int value) {
  int result = 0;
  check_mpi(MPI_Allreduce(&value, &result, 1, MPI_INT, MPI_MAX, impl_->comm),
            "MPI_Allreduce (int max)");
  return result;
}

void MpiCommunicator::broadcast(std::span<float> data, int root) {
  in_int_chunks(data, [&](float* p, int n) {
    check_mpi(MPI_Bcast(p, n, MPI_FLOAT, root, impl_->comm), "MPI_Bcast (floats)");
  });
}

void MpiCommunicator::broadcast(std::span<std::byte> data, int root) {
  in_int_chunks(data, [&](std::byte* p, int n) {
    check_mpi(MPI_Bcast(p, n, MPI_BYTE, root, impl_->comm), "MPI_Bcast (bytes)");
  });
}

std::vector<std::uint64_t> MpiCommunicator::allgather(std::uint64_t value) {
  std::vector<std::uint64_t> values(static_cast<std::size_t>(size_));
  check_mpi(MPI_Allgather(&value, 1, MPI_UINT64_T, values.data(), 1, MPI_UINT64_T, impl_->comm),
            "MPI_Allgather");
  return values;
}

void MpiCommunicator::allgather(std::span<const std::uint16_t> mine, std::span<std::uint16_t> all) {
  if (all.size() != mine.size() * static_cast<std::size_t>(size_)) {
    throw CommError("allgather of " + std::to_string(mine.size()) + " values into " +
                    std::to_string(all.size()) + " (expected " + std::to_string(size_) +
                    " times as many)");
  }
  if (mine.size() > static_cast<std::size_t>(INT_MAX)) {
    throw CommError("allgather of " + std::to_string(mine.size()) +
                    " values exceeds INT_MAX; use smaller gradient buckets");
  }
  const int n = static_cast<int>(mine.size());
  check_mpi(MPI_Allgather(mine.data(), n, MPI_UINT16_T, all.data(), n, MPI_UINT16_T, impl_->comm),
            "MPI_Allgather (16-bit)");
}

void MpiCommunicator::barrier() {
  check_mpi(MPI_Barrier(impl_->comm), "MPI_Barrier");
}

void MpiCommunicator::abort(int exit_code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort is not required to return, nor to not return
}

}  // namespace dtrain::comm
