#pragma once
// SIGTERM, SIGINT and SIGUSR1 request a stop: the handler only sets a flag, and the ranks
// agree on it at the next step boundary (an allreduce of the flag), so all of them
// checkpoint and stop at the same step. A second signal while a stop is pending ends the
// process at once (exit 128 + signal number), for a user who really wants out.
namespace dtrain::train {

// Installs the handlers (idempotent) and clears any earlier request.
void install_stop_signal_handlers();
// Restores the default dispositions.
void remove_stop_signal_handlers();
bool stop_requested();
// The signal that asked for the stop, or 0.
int stop_signal_number();
// For tests: behave as if a signal had arrived.
void request_stop_for_testing();

}  // namespace dtrain::train
