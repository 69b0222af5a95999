#pragma once
// The watchdog: a thread per rank that exchanges heartbeats (heartbeat.h) with every other
// rank and watches this rank's own collective waits (progress_state.h).
//
// - Stall warning (after Horovod's stall inspector): when this rank has waited in one
//   collective for stall_warning, it prints once which ranks are behind: silent ones (no
//   heartbeat for silent_after()) and live ones not waiting in the same collective, with
//   their step and phase. Printed by the lowest rank that can still hear itself reported,
//   normally rank 0, so a stall gives one report, not one per rank.
// - Deadline: when this rank has waited comm_timeout in one collective, it prints what it
//   waited for and which ranks are silent, then calls fire(kExitCommTimeout), which ends
//   the process (MpiRuntime's launcher then ends the job). Every live rank stuck in the
//   same stall fires within about one period of the others, so the job ends by itself even
//   when the launcher cannot reach a partitioned host.
// - A rank that is merely slow does not trip it: a live rank (heartbeats arriving) that
//   reports a phase that may take long (setup, evaluation, checkpoint, outputs) and is not
//   itself waiting restarts every waiting rank's clock. Waiting during training steps is
//   what the deadline bounds.
//
// Costs: each rank sends P-1 datagrams of 40 bytes per period (period = comm_timeout / 8,
// within [0.25, 2] s), receives as many, and wakes every 100 ms to look at its state: no
// MPI call, no lock on the training threads (they store relaxed atomics).
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "comm/liveness/heartbeat.h"
#include "comm/liveness/progress_state.h"

namespace dtrain::comm::liveness {

struct WatchdogOptions {
  std::chrono::milliseconds comm_timeout{0};   // 0: no deadline
  std::chrono::milliseconds stall_warning{0};  // 0: no warning
  bool enabled() const { return comm_timeout.count() > 0 || stall_warning.count() > 0; }
  std::chrono::milliseconds period() const;
  std::chrono::milliseconds silent_after() const { return 3 * period(); }
};

class Watchdog {
 public:
  using Print = std::function<void(const std::string&)>;
  using Fire = std::function<void(int exit_code)>;

  // peers[r]: rank r's endpoints (peers[rank] is ignored). The thread starts at once.
  Watchdog(int rank, std::uint32_t job, std::vector<std::vector<Endpoint>> peers,
           std::unique_ptr<BeatSocket> socket, WatchdogOptions options, const ProgressState& state,
           Print print, Fire fire);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  struct Peer {
    std::chrono::steady_clock::time_point last_heard;
    Beat beat;
    bool heard = false;
  };
  void loop();
  void send_beat();
  void evaluate(std::chrono::steady_clock::time_point now);
  bool alive(const Peer& p, std::chrono::steady_clock::time_point now) const;
  std::string position(const Snapshot& s) const;
  std::string behind_report(const Snapshot& mine, std::chrono::steady_clock::time_point now,
                            bool silent_only) const;

  int rank_;
  std::uint32_t job_;
  std::vector<std::vector<Endpoint>> endpoints_;
  std::unique_ptr<BeatSocket> socket_;
  WatchdogOptions options_;
  const ProgressState& state_;
  Print print_;
  Fire fire_;
  std::vector<Peer> peers_;
  std::uint32_t sequence_ = 0;
  std::chrono::steady_clock::time_point exempt_seen_{};  // a live rank in a long phase
  std::uint64_t warned_wait_ = 0;
  bool fired_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace dtrain::comm::liveness
