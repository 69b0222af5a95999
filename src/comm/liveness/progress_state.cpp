#include "comm/liveness/progress_state.h"

namespace dtrain::comm::liveness {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kSetup:
      return "setup";
    case Phase::kTraining:
      return "training";
    case Phase::kEvaluation:
      return "evaluation";
    case Phase::kCheckpoint:
      return "checkpoint";
    case Phase::kOutputs:
      return "outputs";
  }
  return "unknown";
}

std::string describe(CollectiveKind kind, std::int32_t index) {
  switch (kind) {
    case CollectiveKind::kGradientBucket:
      return "allreduce of gradient bucket " + std::to_string(index);
    case CollectiveKind::kMetrics:
      return "metrics sum";
    case CollectiveKind::kAgreement:
      return "agreement between ranks";
    case CollectiveKind::kBroadcast:
      return "broadcast from rank 0";
    case CollectiveKind::kBarrier:
      return "barrier";
    case CollectiveKind::kOther:
      break;
  }
  return "collective";
}

ProgressState& ProgressState::instance() {
  static ProgressState state;
  return state;
}

void ProgressState::label_next(CollectiveKind kind, std::int32_t index) {
  next_kind_.store(static_cast<std::uint8_t>(kind), std::memory_order_relaxed);
  next_index_.store(index, std::memory_order_relaxed);
}

void ProgressState::begin_wait(CollectiveKind kind) {
  const auto labelled = next_kind_.exchange(0, std::memory_order_relaxed);
  kind_.store(labelled != 0 ? labelled : static_cast<std::uint8_t>(kind),
              std::memory_order_relaxed);
  index_.store(next_index_.exchange(-1, std::memory_order_relaxed), std::memory_order_relaxed);
  peer_.store(-1, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now().time_since_epoch();
  since_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(),
                  std::memory_order_relaxed);
  wait_count_.fetch_add(1, std::memory_order_release);  // odd: waiting
}

void ProgressState::end_wait() {
  wait_count_.fetch_add(1, std::memory_order_release);
}

Snapshot ProgressState::snapshot() const {
  Snapshot s;
  const auto count = wait_count_.load(std::memory_order_acquire);
  s.step = step_.load(std::memory_order_relaxed);
  s.phase = phase();
  s.waiting = (count % 2) == 1;
  s.wait_id = (count + 1) / 2;
  s.kind = static_cast<CollectiveKind>(kind_.load(std::memory_order_relaxed));
  s.index = index_.load(std::memory_order_relaxed);
  s.peer = peer_.load(std::memory_order_relaxed);
  s.since = std::chrono::steady_clock::time_point(
      std::chrono::nanoseconds(since_ns_.load(std::memory_order_relaxed)));
  return s;
}

}  // namespace dtrain::comm::liveness
