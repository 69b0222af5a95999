#pragma once
// Starts this rank's watchdog (comm/liveness/watchdog.h): collective over MPI_COMM_WORLD,
// called once on the main thread before training. Every rank learns every other rank's
// heartbeat endpoints (MPI_Allgather) and a job id chosen by rank 0 (MPI_Bcast), so beats
// of another job on the same hosts are ignored. If some rank cannot open its UDP socket,
// every rank runs without a watchdog and rank 0 says why (the job itself is not at fault).
#include <memory>

#include "comm/liveness/watchdog.h"

namespace dtrain::comm {

// nullptr when options are off or a socket could not be opened. The watchdog's fire ends
// the process with the exit code after flushing stdio (MPI cannot be called from its thread;
// the launcher sees a rank exit non-zero and ends the others). With DTRAIN_EXIT_REASON_FILE
// set, a rank that fires first appends "comm-timeout rank R" to that file.
std::unique_ptr<liveness::Watchdog> start_watchdog(const liveness::WatchdogOptions& options);

}  // namespace dtrain::comm
