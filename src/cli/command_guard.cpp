#include "cli/command_guard.h"

#include <cstdio>
#include <cstdlib>

namespace dtrain::cli {

void report_setup_outcome(comm::Communicator& comm, int local_code, const std::string& message) {
  const auto codes = comm.allgather(static_cast<std::uint64_t>(local_code));
  for (std::size_t r = 0; r < codes.size(); ++r) {
    if (codes[r] == 0) continue;
    if (static_cast<int>(r) == comm.rank()) {
      if (comm.size() > 1) {
        std::fprintf(stderr, "dtrain: rank %d: %s\n", comm.rank(), message.c_str());
      } else {
        std::fprintf(stderr, "dtrain: %s\n", message.c_str());
      }
      std::fflush(stderr);
    }
    throw AgreedFailure{static_cast<int>(codes[r])};
  }
}

void fail_job(comm::Communicator& comm, int code, const std::string& message, bool collective) {
  if (collective || comm.size() == 1) {
    if (comm.rank() == 0) std::fprintf(stderr, "dtrain: %s\n", message.c_str());
    std::fflush(stderr);
    throw AgreedFailure{code};
  }
  std::fprintf(stderr, "dtrain: rank %d: %s\n", comm.rank(), message.c_str());
  std::fflush(stderr);
  comm.abort(code);
  std::abort();  // abort() is [[noreturn]] on the interface; this only satisfies the compiler
}

}  // namespace dtrain::cli
