// main() of the MPI test binaries (tests/mpi). Every rank runs every test; rank 0 prints
// gtest's usual report, other ranks print only their failures, prefixed with "rank R:". The
// failure flag is reduced over all ranks so every rank (and so mpiexec) exits the same way:
// a test that fails on rank 2 only still fails the CTest test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/hash.h"
#include "comm/mpi/mpi_c.h"
#include "comm/mpi/mpi_runtime.h"
#include "testing/mpi_test_env.h"

namespace dtrain::test {

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

std::uint64_t fingerprint(std::span<const float> values) {
  return Fingerprint().add_bytes(values.data(), values.size_bytes()).value();
}

namespace {

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}

  // Remember the test here: UnitTest::current_test_info() takes the lock that gtest holds
  // while it reports a part result, so calling it from OnTestPartResult deadlocks.
  void OnTestStart(const ::testing::TestInfo& info) override {
    test_name_ = std::string(info.test_suite_name()) + "." + info.name();
  }

  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) {
      return;
    }
    // Prefix every line: output of several ranks interleaves line by line.
    std::string text = "rank " + std::to_string(rank_) + ": " + test_name_ + ": " +
                       (result.file_name() ? result.file_name() : "unknown") + ":" +
                       std::to_string(result.line_number()) + ": Failure\n";
    const std::string message = result.message();
    for (std::size_t start = 0; start < message.size();) {
      const std::size_t end = std::min(message.find('\n', start), message.size());
      text += "rank " + std::to_string(rank_) + ": " + message.substr(start, end - start) + "\n";
      start = end + 1;
    }
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
  }

 private:
  int rank_;
  std::string test_name_;
};

}  // namespace
}  // namespace dtrain::test

int main(int argc, char** argv) {
  dtrain::comm::MpiRuntime mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  const int rank = dtrain::test::world_rank();
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new dtrain::test::RankFailurePrinter(rank));
  }
  const int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0 && any_failed && !failed) {
    std::fprintf(stderr, "rank 0 passed, but tests failed on other ranks (see above)\n");
  }
  return any_failed;
}
