#pragma once
// The communication thread (after Horovod's background loop): one thread of ours that runs
// communication jobs one at a time, in the order they were submitted, while the thread that
// submitted them goes on computing. Open MPI 4.1 has no asynchronous progress (a nonblocking
// message advances only inside an MPI call), so overlapping communication with the backward
// pass needs a thread that sits in MPI while the main thread computes; making it the only
// thread that calls MPI during training keeps MPI_THREAD_SERIALIZED sufficient.
//
// One owner, a queue in, a completion count out: jobs finish in submission order, so "job t
// is done" is "done count >= t". The first job that throws stops the thread's work: that
// job and every later one count as failed, and every wait() from then on rethrows the
// exception on the waiting thread, so a transport error ends the job there like any failure
// of the main thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

namespace dtrain::comm {

class CommThread {
 public:
  using Job = std::function<void()>;
  // How long the destructor waits for a job still running (a peer that stopped answering
  // can hold it in MPI forever) before it leaves the thread behind; see ~CommThread.
  static constexpr std::chrono::seconds kShutdownWait{10};

  explicit CommThread(std::chrono::milliseconds shutdown_wait = kShutdownWait);
  // Drops jobs not yet started and waits for the running one, at most shutdown_wait. A job
  // still running then is stuck on a peer: the process is ending with an error anyway
  // (MPI_Abort follows), so the thread is detached rather than deadlocking the shutdown.
  ~CommThread();
  CommThread(const CommThread&) = delete;
  CommThread& operator=(const CommThread&) = delete;

  // Queues job; returns its ticket (1, 2, ...). Rethrows an earlier job's failure instead.
  std::uint64_t submit(Job job);
  // Blocks until the job with this ticket has run. Rethrows the first failure of any job.
  void wait(std::uint64_t ticket);
  // submit + wait: runs job on the communication thread.
  void run(Job job) { wait(submit(std::move(job))); }
  // True on the communication thread itself.
  bool on_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct State;  // shared with the thread, so a detached thread never sees freed memory
  std::chrono::milliseconds shutdown_wait_;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace dtrain::comm
