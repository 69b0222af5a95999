#include "comm/liveness/watchdog.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>

#include "core/errors.h"

namespace dtrain::comm::liveness {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(100);
// A round that took this long means the process itself was stopped (see loop()).
constexpr auto kResumeGap = std::chrono::milliseconds(1500);

std::string seconds_text(Clock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
  return text;
}

}  // namespace

std::chrono::milliseconds WatchdogOptions::period() const {
  auto shortest = comm_timeout.count() > 0 ? comm_timeout : stall_warning;
  if (stall_warning.count() > 0) shortest = std::min(shortest, stall_warning);
  return std::clamp(shortest / 8, std::chrono::milliseconds(250), std::chrono::milliseconds(2000));
}

Watchdog::Watchdog(int rank, std::uint32_t job, std::vector<std::vector<Endpoint>> peers,
                   std::unique_ptr<BeatSocket> socket, WatchdogOptions options,
                   const ProgressState& state, Print print, Fire fire)
    : rank_(rank),
      job_(job),
      endpoints_(std::move(peers)),
      socket_(std::move(socket)),
      options_(options),
      state_(state),
      print_(std::move(print)),
      fire_(std::move(fire)),
      peers_(endpoints_.size()) {
  // Every rank counts as heard at the start: the watchdogs start within one collective.
  const auto now = Clock::now();
  for (auto& p : peers_) p.last_heard = now;
  thread_ = std::thread([this] { loop(); });
}

Watchdog::~Watchdog() {
  stop_.store(true);
  thread_.join();
}

void Watchdog::loop() {
  // Named so that top -H, gdb and bench/watchdog_overhead.sh (its CPU time) can find it.
  pthread_setname_np(pthread_self(), "dtrain-watchdog");
  auto next_beat = Clock::now();
  auto last_round = next_beat;
  while (!stop_.load()) {
    auto now = Clock::now();
    if (now >= next_beat) {
      send_beat();
      next_beat = now + options_.period();
    }
    const auto wait = std::min<Clock::duration>(kTick, next_beat - now);
    const int ms =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    const auto datagrams = socket_->receive(std::max(ms, 1));
    now = Clock::now();
    // Checked right before evaluating: the thread resumes inside receive().
    if (now - last_round > kResumeGap) {
      // This process was not running (SIGSTOP then SIGCONT, a swapped-out or suspended
      // node): its own clock jumped, so neither its waiting time nor the silence of the
      // others means anything. Start both again instead of blaming a peer for our pause.
      exempt_seen_ = now;
      for (auto& p : peers_) p.last_heard = std::max(p.last_heard, now);
    }
    last_round = now;
    for (const auto& d : datagrams) {
      const auto beat = decode(d, job_, static_cast<int>(peers_.size()));
      if (!beat || beat->rank == rank_) continue;
      auto& p = peers_[static_cast<std::size_t>(beat->rank)];
      // Out-of-order datagrams (UDP may reorder) must not move a rank back in time.
      if (p.heard && beat->sequence <= p.beat.sequence) continue;
      p.beat = *beat;
      p.heard = true;
      p.last_heard = now;
    }
    if (!fired_) evaluate(now);
  }
}

void Watchdog::send_beat() {
  const Snapshot s = state_.snapshot();
  Beat b;
  b.job = job_;
  b.rank = rank_;
  b.sequence = ++sequence_;
  b.step = s.step;
  b.phase = s.phase;
  b.waiting = s.waiting;
  b.kind = s.kind;
  b.index = s.index;
  b.peer = s.peer;
  if (s.waiting) {
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - s.since);
    b.waited_ms =
        static_cast<std::uint32_t>(std::clamp<long long>(waited.count(), 0, 0xffffffffLL));
  }
  for (std::size_t r = 0; r < endpoints_.size(); ++r) {
    if (static_cast<int>(r) != rank_) socket_->send(b, endpoints_[r]);
  }
}

bool Watchdog::alive(const Peer& p, Clock::time_point now) const {
  return now - p.last_heard < options_.silent_after();
}

std::string Watchdog::position(const Snapshot& s) const {
  std::string text = describe(s.kind, s.index) + " at step " + std::to_string(s.step);
  if (s.peer >= 0) text += " (waiting for rank " + std::to_string(s.peer) + ")";
  return text;
}

std::string Watchdog::behind_report(const Snapshot& mine, Clock::time_point now,
                                    bool silent_only) const {
  std::string text;
  auto add = [&](const std::string& item) { text += (text.empty() ? "" : "; ") + item; };
  for (std::size_t r = 0; r < peers_.size(); ++r) {
    if (static_cast<int>(r) == rank_) continue;
    const Peer& p = peers_[r];
    const std::string who = "rank " + std::to_string(r);
    const std::string last =
        p.heard ? "at step " + std::to_string(p.beat.step) + ", " + phase_name(p.beat.phase)
                : "never since the start";
    if (!alive(p, now)) {
      add(who + (silent_only ? " (" : " (silent: ") + "no heartbeat for " +
          seconds_text(now - p.last_heard) + "; last seen " + last + ")");
      continue;
    }
    if (silent_only) continue;
    const bool same = p.heard && p.beat.waiting && p.beat.step == mine.step &&
                      p.beat.kind == mine.kind && p.beat.index == mine.index;
    if (same) continue;
    if (p.heard && p.beat.waiting) {
      add(who + " (waiting in " + describe(p.beat.kind, p.beat.index) + " at step " +
          std::to_string(p.beat.step) +
          (p.beat.peer >= 0 ? " for rank " + std::to_string(p.beat.peer) : std::string()) + ")");
    } else {
      add(who + " (alive, not in a collective, " + last + ")");
    }
  }
  return text;
}

void Watchdog::evaluate(Clock::time_point now) {
  // A live rank busy in a phase that may take long keeps every waiting rank's clock at 0.
  for (std::size_t r = 0; r < peers_.size(); ++r) {
    const Peer& p = peers_[r];
    if (static_cast<int>(r) != rank_ && p.heard && alive(p, now) && !p.beat.waiting &&
        phase_may_take_long(p.beat.phase)) {
      exempt_seen_ = now;
    }
  }
  const Snapshot s = state_.snapshot();
  if (!s.waiting) return;
  const auto waited = now - std::max(s.since, exempt_seen_);

  if (options_.stall_warning.count() > 0 && waited >= options_.stall_warning &&
      warned_wait_ != s.wait_id) {
    // One report per stall: the lowest rank that is still heard (itself included) prints.
    int reporter = rank_;
    for (int r = 0; r < rank_; ++r) {
      if (alive(peers_[static_cast<std::size_t>(r)], now)) {
        reporter = r;
        break;
      }
    }
    warned_wait_ = s.wait_id;
    if (reporter == rank_) {
      const std::string behind = behind_report(s, now, false);
      print_("rank " + std::to_string(rank_) + ": stall warning: waited " + seconds_text(waited) +
             " in " + position(s) + "; behind: " +
             (behind.empty() ? std::string("no rank (all wait in the same collective)") : behind));
    }
  }

  if (options_.comm_timeout.count() > 0 && waited >= options_.comm_timeout) {
    fired_ = true;
    std::string silent = behind_report(s, now, true);
    if (silent.empty()) {
      const std::string behind = behind_report(s, now, false);
      silent = "no rank is silent; behind: " + (behind.empty() ? std::string("none") : behind);
    } else {
      silent = "silent: " + silent;
    }
    print_("rank " + std::to_string(rank_) + ": comm-timeout: no progress for " +
           seconds_text(waited) + " in " + position(s) + "; " + silent +
           "; ending the job (exit code " + std::to_string(kExitCommTimeout) + ")");
    fire_(kExitCommTimeout);
  }
}

}  // namespace dtrain::comm::liveness
