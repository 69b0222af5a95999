#pragma once
// How a command's failures end the job (docs/design.md "Distributed semantics", "Failures"):
// errors every rank sees together are printed once and end every rank with the same code,
// anything else aborts the job. Apart from commands.h so that the simulated build (sim/),
// which compiles only `bench allreduce`, needs no other command's headers.
#include <string>
#include <utility>

#include "comm/communicator.h"
#include "core/errors.h"

namespace dtrain::cli {

// Runs `setup` on every rank, then agrees on the outcome: if any rank failed, the lowest
// failing rank prints its message and every rank throws the same exit code (via
// AgreedFailure), so a setup error never leaves other ranks waiting in a collective.
struct AgreedFailure {
  int exit_code;
};
template <typename F>
void agree_on_setup(comm::Communicator& comm, F&& setup);
void report_setup_outcome(comm::Communicator& comm, int local_code, const std::string& message);

template <typename F>
void agree_on_setup(comm::Communicator& comm, F&& setup) {
  const Failure failure = capture_failure(std::forward<F>(setup));
  report_setup_outcome(comm, failure.exit_code, failure.message);
}

// Runs the main phase of a command. An error every rank raises together (Error marked
// collective) is printed once and ends every rank cleanly with its exit code; any other
// error on one rank is printed as "rank R: message" and aborts the whole job, since other
// ranks may be waiting for this one in a collective.
template <typename F>
void run_guarded(comm::Communicator& comm, F&& body);
[[noreturn]] void fail_job(comm::Communicator& comm, int code, const std::string& message,
                           bool collective);

template <typename F>
void run_guarded(comm::Communicator& comm, F&& body) {
  try {
    body();
  } catch (const Error& e) {
    fail_job(comm, e.exit_code(), e.what(), e.collective());
  } catch (const std::exception& e) {
    fail_job(comm, kExitRuntime, std::string("internal error: ") + e.what(), false);
  }
}

}  // namespace dtrain::cli
