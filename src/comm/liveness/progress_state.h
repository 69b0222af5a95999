#pragma once
// What this rank is doing right now, as the watchdog (watchdog.h) reads it from its own
// thread: the global step, the phase (training, or a phase that may legitimately keep the
// other ranks waiting: setup, evaluation, checkpoint, outputs), and the collective it is
// waiting in, if any (what, which bucket, which peer, since when). One process-wide
// instance: the places that know these facts (trainer, gradient synchronizer, transports)
// are far apart and each only stores a few relaxed atomics, cheap enough to do always, with
// or without a watchdog (the deadline overhead the issue bounds at 1%).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace dtrain::comm::liveness {

enum class Phase : std::uint8_t {
  kSetup = 0,       // loading data, agreeing on the configuration: may take long
  kTraining = 1,    // steps: waiting on a peer here is what --comm-timeout bounds
  kEvaluation = 2,  // may take long on one rank (its shard, pictures)
  kCheckpoint = 3,  // rank 0 writing a checkpoint: may take long
  kOutputs = 4,     // pictures, timeline, the final files
};
const char* phase_name(Phase p);
// Phases that may keep other ranks waiting for long without anything being wrong.
inline bool phase_may_take_long(Phase p) {
  return p != Phase::kTraining;
}

// What a collective is for, so a report says "bucket 3 of step 4120", not "a collective".
enum class CollectiveKind : std::uint8_t {
  kOther = 0,
  kGradientBucket = 1,  // index: the bucket
  kMetrics = 2,         // loss sums, counts
  kAgreement = 3,       // stop flags, checks that every rank has the same setting
  kBroadcast = 4,       // parameters from rank 0
  kBarrier = 5,
};

struct Snapshot {
  std::int64_t step = 0;
  Phase phase = Phase::kSetup;
  bool waiting = false;
  CollectiveKind kind = CollectiveKind::kOther;
  std::int32_t index = -1;    // bucket number for kGradientBucket
  std::int32_t peer = -1;     // the rank a receive waits for; -1: all ranks / not known
  std::uint64_t wait_id = 0;  // changes with every collective entered
  std::chrono::steady_clock::time_point since{};  // the collective's start
};

// "allreduce of bucket 3" / "metrics sum" ...
std::string describe(CollectiveKind kind, std::int32_t index);

class ProgressState {
 public:
  static ProgressState& instance();

  void set_step(std::int64_t step) { step_.store(step, std::memory_order_relaxed); }
  void set_phase(Phase p) { phase_.store(static_cast<std::uint8_t>(p), std::memory_order_relaxed); }
  Phase phase() const { return static_cast<Phase>(phase_.load(std::memory_order_relaxed)); }
  // What the next collective is for (set by the caller, read when the collective starts).
  void label_next(CollectiveKind kind, std::int32_t index = -1);
  // kind: what the collective is when the caller did not label it.
  void begin_wait(CollectiveKind kind);
  void set_peer(std::int32_t peer) { peer_.store(peer, std::memory_order_relaxed); }
  void end_wait();
  Snapshot snapshot() const;

 private:
  std::atomic<std::int64_t> step_{0};
  std::atomic<std::uint8_t> phase_{0};
  std::atomic<std::uint8_t> next_kind_{0};
  std::atomic<std::int32_t> next_index_{-1};
  std::atomic<std::uint8_t> kind_{0};
  std::atomic<std::int32_t> index_{-1};
  std::atomic<std::int32_t> peer_{-1};
  std::atomic<std::int64_t> since_ns_{0};
  // Odd while waiting; +1 on entry and exit, so a snapshot sees a new wait as a new id.
  std::atomic<std::uint64_t> wait_count_{0};
};

// Sets the phase for a scope and restores the previous one (nested phases: evaluation
// inside an epoch end).
class PhaseScope {
 public:
  explicit PhaseScope(Phase p) : previous_(ProgressState::instance().phase()) {
    ProgressState::instance().set_phase(p);
  }
  ~PhaseScope() { ProgressState::instance().set_phase(previous_); }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  Phase previous_;
};

// Marks a collective call (MpiCommunicator's entry points): the watchdog measures waits
// from here. Collectives do not nest (one thread calls the transport at a time).
class WaitScope {
 public:
  explicit WaitScope(CollectiveKind kind) { ProgressState::instance().begin_wait(kind); }
  ~WaitScope() { ProgressState::instance().end_wait(); }
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;
};

}  // namespace dtrain::comm::liveness
