#include "tensor/parallel.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace dtrain::tensor {

namespace {

thread_local bool inside_chunk = false;

// Each loop is a "generation": the caller publishes the function and the chunk count,
// bumps the generation and wakes the workers; every thread (caller included) takes chunks
// from one atomic counter until none are left; the caller waits until every worker has
// left the generation, so the function and its captures outlive every use.
class Pool {
 public:
  ~Pool() { resize(1); }

  void resize(int threads) {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
    // A new worker joins from the generation after the current one: starting from 0 it
    // would take an old generation for a new one and read a function already gone (UBSan
    // caught it when the pool was resized after loops had run).
    const std::uint64_t current = generation_;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, current] { work(current); });
  }
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void run(int chunks, const ChunkFn& fn) {
    std::lock_guard one_loop(run_mutex_);  // callers on two threads take turns
    {
      std::lock_guard lock(mutex_);
      fn_ = &fn;
      chunks_ = chunks;
      next_.store(0);
      busy_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    take_chunks(fn, chunks);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    fn_ = nullptr;
    chunks_ = 0;
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void take_chunks(const ChunkFn& fn, int chunks) {
    inside_chunk = true;
    for (int c; (c = next_.fetch_add(1)) < chunks;) {
      try {
        fn(c);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
    inside_chunk = false;
  }

  void work(std::uint64_t seen) {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      const auto* fn = fn_;
      const int chunks = chunks_;
      lock.unlock();
      take_chunks(*fn, chunks);
      lock.lock();
      if (--busy_ == 0) done_.notify_one();
    }
  }

  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const ChunkFn* fn_ = nullptr;
  int chunks_ = 0;
  std::atomic<int> next_{0};
  int busy_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void set_pool_threads(int threads) {
  if (threads < 1) threads = 1;
  if (threads != pool().threads()) pool().resize(threads);
}

int pool_threads() {
  return pool().threads();
}

bool run_on_pool(int chunks, const ChunkFn& fn) {
  if (inside_chunk || pool().threads() == 1) return false;
  pool().run(chunks, fn);
  return true;
}

}  // namespace dtrain::tensor
