#pragma once
// One pool of worker threads for dtrain's own loops (im2col, the small-K kernels, the
// optimizer), sized with the BLAS threads (tensor::set_blas_threads), so `--threads N` means
// N threads for both. std::thread rather than OpenMP: the workers block on a condition
// variable between loops instead of spinning (libgomp spins by default, and its settings
// are read from the environment before main), so an idle pool takes no core from
// OpenBLAS's threads, and OpenBLAS's pthread build is not asked to share a runtime.
// BLAS calls and pool loops never run at the same time: they alternate on the main thread.
//
// Work is cut into chunks by the caller, not by the pool, and every chunk's result lands in
// its own place: results never depend on how many threads ran them. A loop that reduces
// (a weight gradient) keeps one partial sum per chunk and adds them in chunk order.
#include <utility>

namespace dtrain::tensor {

// Threads for the pool's loops, the caller included (>= 1). Not thread-safe: set it while
// no loop runs (at start).
void set_pool_threads(int threads);
int pool_threads();

// A reference to a callable taking the chunk index: what the pool runs, without the copy
// and allocation of a std::function.
class ChunkFn {
 public:
  template <typename F>
  explicit ChunkFn(F& f) : object_(&f), call_([](void* o, int c) { (*static_cast<F*>(o))(c); }) {}
  void operator()(int chunk) const { call_(object_, chunk); }

 private:
  void* object_;
  void (*call_)(void*, int);
};

bool run_on_pool(int chunks, const ChunkFn& fn);  // false: run them here instead

// Runs fn(c) for every c in [0, chunks) on the pool and the calling thread; returns when all
// are done. The first exception a chunk throws is rethrown here (the other chunks finish).
// Called from inside a chunk it runs the chunks in order on that thread; loops started on
// two threads at once take turns. Capture by value what the loop reads: a float read
// through a reference is reloaded after every store through a float pointer.
template <typename F>
void parallel_for(int chunks, F&& fn) {
  if (chunks <= 0) return;
  if (chunks > 1 && run_on_pool(chunks, ChunkFn(fn))) return;
  for (int c = 0; c < chunks; ++c) fn(c);
}

// [begin, end) of chunk c when n items are cut into `chunks` nearly equal ranges.
struct ChunkRange {
  long begin = 0, end = 0;
};
inline ChunkRange chunk_range(long n, int chunks, int c) {
  return {n * c / chunks, n * (c + 1) / chunks};
}

}  // namespace dtrain::tensor
