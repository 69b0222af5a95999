#include "train/stop_signal.h"

#include <unistd.h>

#include <csignal>

namespace dtrain::train {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
constexpr int kSignals[] = {SIGTERM, SIGINT, SIGUSR1};

extern "C" void on_stop_signal(int signo) {
  if (g_stop_signal != 0) {
    // Only async-signal-safe calls here.
    const char msg[] = "dtrain: second signal while stopping; exiting now\n";
    [[maybe_unused]] auto n = write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(128 + signo);
  }
  g_stop_signal = signo;
}

}  // namespace

void install_stop_signal_handlers() {
  g_stop_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // MPI and file I/O calls must not fail with EINTR
  for (int s : kSignals) sigaction(s, &action, nullptr);
}

void remove_stop_signal_handlers() {
  for (int s : kSignals) std::signal(s, SIG_DFL);
}

bool stop_requested() {
  return g_stop_signal != 0;
}
int stop_signal_number() {
  return g_stop_signal;
}
void request_stop_for_testing() {
  g_stop_signal = SIGUSR1;
}

}  // namespace dtrain::train
