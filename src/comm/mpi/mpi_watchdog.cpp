#include "comm/mpi/mpi_watchdog.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "comm/mpi/mpi_c.h"
#include "comm/mpi/mpi_check.h"
#include "core/exit_reason.h"

namespace dtrain::comm {

std::unique_ptr<liveness::Watchdog> start_watchdog(const liveness::WatchdogOptions& options) {
  if (!options.enabled()) return nullptr;
  int rank = 0, size = 1;
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
  if (size == 1) return nullptr;  // nobody to wait for

  std::unique_ptr<liveness::BeatSocket> socket;
  std::string failure;
  try {
    socket = std::make_unique<liveness::BeatSocket>();
  } catch (const Error& e) {
    failure = e.what();
  }
  int failed = failure.empty() ? 0 : 1, any_failed = 0;
  check_mpi(MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD),
            "MPI_Allreduce (watchdog)");
  if (any_failed) {
    if (failed) {
      std::fprintf(stderr,
                   "dtrain: rank %d: warning: no watchdog (--comm-timeout, "
                   "--stall-warning are off for this run): %s\n",
                   rank, failure.c_str());
    }
    return nullptr;
  }

  // kMaxEndpoints (address, port) pairs per rank; port 0 marks an unused slot.
  std::uint32_t mine[2 * liveness::kMaxEndpoints] = {};
  const auto eps = socket->endpoints();
  for (std::size_t i = 0; i < eps.size() && i < liveness::kMaxEndpoints; ++i) {
    mine[2 * i] = eps[i].address;
    mine[2 * i + 1] = eps[i].port;
  }
  std::vector<std::uint32_t> all(2 * liveness::kMaxEndpoints * static_cast<std::size_t>(size));
  check_mpi(MPI_Allgather(mine, 2 * liveness::kMaxEndpoints, MPI_UINT32_T, all.data(),
                          2 * liveness::kMaxEndpoints, MPI_UINT32_T, MPI_COMM_WORLD),
            "MPI_Allgather (watchdog endpoints)");
  std::vector<std::vector<liveness::Endpoint>> peers(static_cast<std::size_t>(size));
  for (std::size_t r = 0; r < peers.size(); ++r) {
    for (std::size_t i = 0; i < liveness::kMaxEndpoints; ++i) {
      const auto* e = &all[(r * liveness::kMaxEndpoints + i) * 2];
      if (e[1] != 0) peers[r].push_back({e[0], static_cast<std::uint16_t>(e[1])});
    }
  }
  auto job = static_cast<std::uint32_t>(
      std::chrono::steady_clock::now().time_since_epoch().count() ^ (getpid() * 2654435761u));
  check_mpi(MPI_Bcast(&job, 1, MPI_UINT32_T, 0, MPI_COMM_WORLD), "MPI_Bcast (watchdog job id)");

  auto print = [](const std::string& line) {
    std::fprintf(stderr, "dtrain: %s\n", line.c_str());
    std::fflush(stderr);
  };
  // srun returns the highest exit code of its tasks, so a stopped rank that srun kills
  // (137) hides the others' 4: a batch script learns of the timeout from this file instead.
  auto fire = [rank](int exit_code) {
    append_exit_reason("comm-timeout rank " + std::to_string(rank));
    std::fflush(nullptr);
    std::_Exit(exit_code);
  };
  return std::make_unique<liveness::Watchdog>(rank, job, std::move(peers), std::move(socket),
                                              options, liveness::ProgressState::instance(), print,
                                              fire);
}

}  // namespace dtrain::comm
