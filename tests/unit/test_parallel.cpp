// The pool of dtrain's own loops (tensor/parallel.h): every chunk runs once, errors come
// back to the caller, nested loops run in place, and the kernels that use it give the same
// bits for any number of threads. Also run under ThreadSanitizer (scripts/sanitize.sh).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "nn/model_config.h"
#include "tensor/parallel.h"
#include "tensor/small_k.h"
#include "testing/gradient_check.h"

namespace dtrain::tensor {
namespace {

class PoolThreads : public ::testing::Test {
 protected:
  void TearDown() override { set_pool_threads(1); }
};

TEST_F(PoolThreads, EveryChunkRunsExactlyOnceForAnyThreadCount) {
  for (int threads : {1, 2, 3, 5}) {
    set_pool_threads(threads);
    EXPECT_EQ(pool_threads(), threads);
    for (int chunks : {0, 1, 2, 7, 64}) {
      std::vector<std::atomic<int>> runs(chunks);
      parallel_for(chunks, [&](int c) { runs[c].fetch_add(1); });
      for (int c = 0; c < chunks; ++c) {
        EXPECT_EQ(runs[c].load(), 1) << threads << " threads, chunk " << c << " of " << chunks;
      }
    }
  }
}

TEST_F(PoolThreads, WorkersTakeChunksWhenThereAreSeveral) {
  set_pool_threads(2);
  std::atomic<int> seen_other_thread{0};
  const auto caller = std::this_thread::get_id();
  for (int attempt = 0; attempt < 200 && seen_other_thread.load() == 0; ++attempt) {
    parallel_for(8, [&](int) {
      if (std::this_thread::get_id() != caller) seen_other_thread = 1;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    });
  }
  EXPECT_EQ(seen_other_thread.load(), 1);
}

TEST_F(PoolThreads, AChunksExceptionReachesTheCallerAndThePoolStaysUsable) {
  set_pool_threads(3);
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(16,
                            [&](int c) {
                              ran.fetch_add(1);
                              if (c == 5) throw std::runtime_error("chunk 5");
                            }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 16);  // the other chunks finish
  std::atomic<int> after{0};
  parallel_for(16, [&](int) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 16);
}

TEST_F(PoolThreads, ALoopInsideAChunkRunsInPlace) {
  set_pool_threads(2);
  std::vector<std::atomic<int>> runs(4 * 4);
  parallel_for(4, [&](int outer) {
    const auto id = std::this_thread::get_id();
    parallel_for(4, [&](int inner) {
      EXPECT_EQ(std::this_thread::get_id(), id);
      runs[outer * 4 + inner].fetch_add(1);
    });
  });
  for (auto& r : runs) EXPECT_EQ(r.load(), 1);
}

TEST_F(PoolThreads, SmallKGradientsHaveTheSameBitsForAnyThreadCount) {
  const int groups = 37, group_rows = 26, m = groups * group_rows, n = 40, k = 9;
  Tensor dc(Shape{std::size_t(m), std::size_t(n)}), a(Shape{std::size_t(m), std::size_t(k)});
  Tensor b(Shape{std::size_t(n), std::size_t(k)}), bias(Shape{std::size_t(n)});
  testing::fill_uniform(dc, 1);
  testing::fill_uniform(a, 2);
  testing::fill_uniform(b, 3);
  testing::fill_uniform(bias, 4);
  std::vector<float> ref_db, ref_dbias, ref_c;
  for (int threads : {1, 2, 3}) {
    set_pool_threads(threads);
    std::vector<float> db(std::size_t(n) * k, 0.5f), dbias(n, 0.25f), c(std::size_t(m) * n);
    small_k_backward(m, n, k, dc.data(), a.data(), db.data(), dbias.data(), group_rows);
    small_k_forward(m, n, k, a.data(), b.data(), bias.data(), c.data());
    if (threads == 1) {
      ref_db = db, ref_dbias = dbias, ref_c = c;
      continue;
    }
    EXPECT_EQ(0, std::memcmp(db.data(), ref_db.data(), db.size() * sizeof(float))) << threads;
    EXPECT_EQ(0, std::memcmp(dbias.data(), ref_dbias.data(), n * sizeof(float))) << threads;
    EXPECT_EQ(0, std::memcmp(c.data(), ref_c.data(), c.size() * sizeof(float))) << threads;
  }
}

// The cnn's first layers as the cnn has them (a 1-channel conv fused with relu and a 2x2
// pool, im2col, then adam in the trainer): one forward and backward at 1, 2 and 3 threads.
TEST_F(PoolThreads, FusedConvPoolGradientsHaveTheSameBitsForAnyThreadCount) {
  nn::ModelConfig config{"fused",
                         12,
                         12,
                         1,
                         {{.type = "conv2d", .filters = 32, .kernel = 3},
                          {.type = "relu"},
                          {.type = "maxpool2d", .kernel = 2},
                          {.type = "flatten"},
                          {.type = "dense", .units = 3}}};
  std::vector<float> reference;
  for (int threads : {1, 2, 3}) {
    set_pool_threads(threads);
    auto model = nn::build_model(config);
    model->init_params(7);
    Tensor x(model->input_shape().with_batch(19));
    testing::fill_uniform(x, 8);
    Tensor dy(Shape{19, 3});
    testing::fill_uniform(dy, 9);
    model->arena().zero_grads();
    model->forward(x, {.training = true});
    model->backward(x, dy);
    const auto grads = model->arena().grads();
    if (threads == 1) {
      reference.assign(grads.begin(), grads.end());
      continue;
    }
    ASSERT_EQ(grads.size(), reference.size());
    EXPECT_EQ(0, std::memcmp(grads.data(), reference.data(), grads.size() * sizeof(float)))
        << threads << " threads";
  }
}

}  // namespace
}  // namespace dtrain::tensor
