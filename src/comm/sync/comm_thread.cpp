#include "comm/sync/comm_thread.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>

#include "core/errors.h"

namespace dtrain::comm {

struct CommThread::State {
  std::mutex mutex;
  std::condition_variable work;  // a job was queued, or stop
  std::condition_variable done;  // a job finished (or failed), or the thread exited
  std::deque<Job> queue;
  std::uint64_t submitted = 0;
  std::uint64_t finished = 0;
  std::exception_ptr failure;
  bool stop = false;
  bool exited = false;

  void loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      work.wait(lock, [&] { return stop || !queue.empty(); });
      if (queue.empty()) break;  // stop requested and nothing left to run
      Job job = std::move(queue.front());
      queue.pop_front();
      if (!failure) {
        lock.unlock();
        std::exception_ptr error;
        try {
          job();
        } catch (...) {
          error = std::current_exception();
        }
        job = nullptr;  // release what the job captured before reporting it done
        lock.lock();
        if (error && !failure) failure = error;
      }
      ++finished;
      done.notify_all();
    }
    exited = true;
    done.notify_all();
  }
};

CommThread::CommThread(std::chrono::milliseconds shutdown_wait)
    : shutdown_wait_(shutdown_wait), state_(std::make_shared<State>()) {
  thread_ = std::thread([state = state_] { state->loop(); });
}

CommThread::~CommThread() {
  bool exited = false;
  {
    std::unique_lock lock(state_->mutex);
    state_->finished += state_->queue.size();
    state_->queue.clear();
    state_->stop = true;
    state_->work.notify_all();
    exited = state_->done.wait_for(lock, shutdown_wait_, [&] { return state_->exited; });
  }
  if (exited) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

std::uint64_t CommThread::submit(Job job) {
  if (on_thread()) throw std::logic_error("CommThread::submit from the communication thread");
  std::lock_guard lock(state_->mutex);
  if (state_->failure) std::rethrow_exception(state_->failure);
  state_->queue.push_back(std::move(job));
  state_->work.notify_one();
  return ++state_->submitted;
}

void CommThread::wait(std::uint64_t ticket) {
  std::unique_lock lock(state_->mutex);
  if (ticket > state_->submitted) {
    throw std::logic_error("CommThread::wait for a job that was never submitted");
  }
  state_->done.wait(lock, [&] { return state_->failure || state_->finished >= ticket; });
  if (state_->failure) std::rethrow_exception(state_->failure);
}

}  // namespace dtrain::comm
