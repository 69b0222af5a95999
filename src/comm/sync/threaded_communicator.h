#pragma once
// A Communicator whose every collective runs on a CommThread, so that one thread (the
// communication thread) is the only caller of the transport while training runs, even for
// the trainer's small collectives (stop flags, metrics sums, barriers) between the gradient
// buckets it reduces there. The caller blocks until its collective is done; ordering with
// the buckets already queued is the queue's: first submitted, first run.
#include "comm/communicator.h"
#include "comm/sync/comm_thread.h"

namespace dtrain::comm {

class ThreadedCommunicator final : public Communicator {
 public:
  // inner and thread must outlive this object; inner is then used only from thread.
  ThreadedCommunicator(Communicator& inner, CommThread& thread)
      : inner_(inner), thread_(thread), rank_(inner.rank()), size_(inner.size()) {}

  Communicator& inner() { return inner_; }
  CommThread& thread() { return thread_; }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(std::span<float> data) override;
  void allreduce_sum(std::span<double> data) override;
  int allreduce_max(int value) override;
  void broadcast(std::span<float> data, int root) override;
  void broadcast(std::span<std::byte> data, int root) override;
  std::vector<std::uint64_t> allgather(std::uint64_t value) override;
  void allgather(std::span<const std::uint16_t> mine, std::span<std::uint16_t> all) override;
  void barrier() override;
  std::span<float> allocate_array(std::size_t floats) override;
  // Straight to the inner communicator from the calling thread: the job is ending, and the
  // communication thread may be stuck waiting for a peer that will never answer.
  [[noreturn]] void abort(int exit_code) override;

 private:
  Communicator& inner_;
  CommThread& thread_;
  int rank_;
  int size_;
};

}  // namespace dtrain::comm
