// Bucket planning (layer boundaries, backward order, first bucket small, the auto rule) and
// the synchronizer: exact sums, the same bits with and without the communication thread
// whatever order layers report in, buckets started as soon as their last layer is final,
// and a communication-thread failure surfacing in finish().
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "comm/sync/bucket_plan.h"
#include "comm/sync/gradient_synchronizer.h"
#include "core/errors.h"
#include "core/rng.h"
#include "testing/in_process_communicator.h"

namespace dtrain::comm {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kFloatsPerMiB = kMiB / sizeof(float);

// The reference cnn's layers: conv 320 floats (padded 320), dense 692352, dense 1290 (1296).
std::vector<LayerParams> cnn_layers() {
  return {{0, 0, 320},      {1, 320, 320},       {2, 320, 320},      {3, 320, 320},
          {4, 320, 692672}, {5, 692672, 692672}, {6, 692672, 693968}};
}

TEST(BucketPlan, AutoSizesFollowTheDocumentedRule) {
  EXPECT_EQ(auto_bucket_sizes(2'775'872).first_bytes, kMiB);
  EXPECT_EQ(auto_bucket_sizes(2'775'872).bytes, kMiB);  // a quarter is below 1 MiB
  EXPECT_EQ(auto_bucket_sizes(40 * kMiB).bytes, 10 * kMiB);
  EXPECT_EQ(auto_bucket_sizes(400 * kMiB).bytes, 25 * kMiB);
  EXPECT_EQ(bucket_sizes(0.0, 400 * kMiB).bytes, 25 * kMiB);  // <= 0: auto
  EXPECT_EQ(bucket_sizes(4.0, 400 * kMiB).bytes, 4 * kMiB);
  EXPECT_EQ(bucket_sizes(4.0, 400 * kMiB).first_bytes, kMiB);
  EXPECT_EQ(bucket_sizes(0.5, 400 * kMiB).first_bytes, kMiB / 2);
}

TEST(BucketPlan, TheCnnGetsOneBucketPerLayerWithParametersLastLayerFirst) {
  const auto layers = cnn_layers();
  const auto b = plan_buckets(layers, 693968, auto_bucket_sizes(693968 * 4));
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].begin, 692672u);
  EXPECT_EQ(b[0].end, 693968u);
  EXPECT_EQ(b[0].last_layer, 6u);
  EXPECT_EQ(b[1].begin, 320u);  // the dense layer alone: larger than any bucket
  EXPECT_EQ(b[1].end, 692672u);
  EXPECT_EQ(b[1].last_layer, 4u);
  EXPECT_EQ(b[2].begin, 0u);
  EXPECT_EQ(b[2].end, 320u);
  EXPECT_EQ(b[2].last_layer, 0u);
}

TEST(BucketPlan, LayersJoinUntilTheBucketIsFullAndTheFirstBucketIsSmaller) {
  // Ten layers of 0.4 MiB each: first bucket (1 MiB) takes two, later ones (2 MiB) five.
  std::vector<LayerParams> layers;
  const std::size_t each = kFloatsPerMiB * 2 / 5;
  for (std::size_t i = 0; i < 10; ++i) layers.push_back({i, i * each, (i + 1) * each});
  const auto b = plan_buckets(layers, 10 * each, {kMiB, 2 * kMiB});
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].last_layer, 8u);
  EXPECT_EQ(b[1].last_layer, 3u);
  EXPECT_EQ(b[2].last_layer, 0u);
  std::size_t end = 10 * each;
  for (const auto& bucket : b) {  // they tile the arena from the top down
    EXPECT_EQ(bucket.end, end);
    end = bucket.begin;
  }
  EXPECT_EQ(end, 0u);
}

TEST(BucketPlan, NoParametersNoBuckets) {
  const std::vector<LayerParams> layers{{0, 0, 0}, {1, 0, 0}};
  EXPECT_TRUE(plan_buckets(layers, 0, {kMiB, kMiB}).empty());
}

TEST(BucketPlan, RejectsLayersThatDoNotTileTheArena) {
  const std::vector<LayerParams> gap{{0, 0, 10}, {1, 12, 20}};
  EXPECT_THROW(plan_buckets(gap, 20, {kMiB, kMiB}), std::logic_error);
  const std::vector<LayerParams> short_top{{0, 0, 10}};
  EXPECT_THROW(plan_buckets(short_top, 20, {kMiB, kMiB}), std::logic_error);
}

// Small layers and tiny buckets, so there are many buckets in a small array.
std::vector<LayerParams> small_layers() {
  return {{0, 0, 48},      {1, 48, 48},     {2, 48, 1072},
          {3, 1072, 1088}, {4, 1088, 3136}, {5, 3136, 3152}};
}

float value(int rank, std::size_t i) {
  return static_cast<float>(derive_seed(5, static_cast<std::uint64_t>(rank), i) % 4096) / 64.0f -
         20.0f;
}

// Every rank reports its layers in backward order (with a thread) and finishes.
std::vector<float> synchronize_once(Communicator& comm, CommThread* thread, double bucket_mb,
                                    Compression compression = Compression::kNone) {
  GradientSynchronizer sync(comm, thread, {.bucket_mb = bucket_mb, .compression = compression});
  std::vector<float> grads(3152);
  for (std::size_t i = 0; i < grads.size(); ++i) grads[i] = value(comm.rank(), i);
  const auto layers = small_layers();
  const auto m = sync.add_model(grads, layers);
  if (bucket_mb > 0.0) {
    EXPECT_GT(sync.buckets(m).size(), 2u);
  }
  for (std::size_t l = layers.size(); l-- > 0;) sync.layer_final(m, l);
  sync.finish(m);
  EXPECT_GT(sync.comm_seconds(), 0.0);
  EXPECT_GT(sync.exposed_seconds(), 0.0);
  return grads;
}

TEST(GradientSynchronizer, OverlapGivesTheSameBitsAsReducingAfterBackward) {
  for (const double mb : {0.001, 0.004, 0.0}) {
    test::run_communicator_ranks(3, [&](Communicator& comm) {
      std::vector<float> expected(3152);
      for (std::size_t i = 0; i < expected.size(); ++i) {
        expected[i] = value(0, i) + value(1, i) + value(2, i);  // the ring's order on 3 ranks
      }
      const auto plain = synchronize_once(comm, nullptr, mb);
      CommThread thread;
      const auto overlapped = synchronize_once(comm, &thread, mb);
      ASSERT_EQ(std::memcmp(plain.data(), overlapped.data(), plain.size() * sizeof(float)), 0)
          << "bucket " << mb << " MiB, rank " << comm.rank();
      for (std::size_t i = 0; i < plain.size(); ++i) {
        ASSERT_EQ(plain[i], expected[i]) << i;  // multiples of 1/64: exact in any order
      }
    });
  }
}

// Counts float allreduces (atomically: the test thread reads it while the communication
// thread calls), and fails the n-th on one rank as a broken transport would (0: never).
class CountingCommunicator final : public Communicator {
 public:
  CountingCommunicator(Communicator& inner, int fail_rank = -1, int fail_call = 0)
      : inner_(inner), fail_rank_(fail_rank), fail_call_(fail_call) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void allreduce_sum(std::span<float> data) override {
    const int call = ++calls;
    if (inner_.rank() == fail_rank_ && call == fail_call_) throw CommError("transport failed");
    inner_.allreduce_sum(data);
  }
  void allreduce_sum(std::span<double> data) override { inner_.allreduce_sum(data); }
  int allreduce_max(int v) override { return inner_.allreduce_max(v); }
  void broadcast(std::span<float> d, int root) override { inner_.broadcast(d, root); }
  void broadcast(std::span<std::byte> d, int root) override { inner_.broadcast(d, root); }
  std::vector<std::uint64_t> allgather(std::uint64_t v) override { return inner_.allgather(v); }
  void allgather(std::span<const std::uint16_t> a, std::span<std::uint16_t> b) override {
    inner_.allgather(a, b);
  }
  void barrier() override { inner_.barrier(); }
  [[noreturn]] void abort(int code) override {
    inner_.abort(code);
    std::abort();
  }

  std::atomic<int> calls{0};

 private:
  Communicator& inner_;
  int fail_rank_, fail_call_;
};

TEST(GradientSynchronizer, ABucketStartsWhenItsLastLayerIsFinal) {
  test::run_communicator_ranks(2, [](Communicator& inner) {
    CountingCommunicator comm(inner);
    CommThread thread;
    // 0.004 MiB = 1048 floats: buckets [3136,3152) | [1088,3136) | [48,1088) | [0,48).
    GradientSynchronizer sync(comm, &thread, {.bucket_mb = 0.004});
    std::vector<float> grads(3152, 1.0f);
    const auto layers = small_layers();
    const auto m = sync.add_model(grads, layers);
    const auto& buckets = sync.buckets(m);
    ASSERT_EQ(buckets.size(), 4u);
    EXPECT_EQ(buckets[0].last_layer, 5u);
    EXPECT_EQ(buckets[1].last_layer, 4u);
    EXPECT_EQ(buckets[2].last_layer, 2u);
    EXPECT_EQ(buckets[3].last_layer, 0u);
    sync.layer_final(m, 5);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (comm.calls.load() < 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    EXPECT_EQ(comm.calls.load(), 1) << "bucket 0 did not start before finish()";
    sync.layer_final(m, 4);
    sync.layer_final(m, 3);  // closes nothing
    sync.finish(m);          // starts buckets 2 and 3, never reported
    EXPECT_EQ(comm.calls.load(), 4);
    for (float g : grads) ASSERT_EQ(g, 2.0f);
  });
}

TEST(GradientSynchronizer, ACommunicationThreadFailureSurfacesInFinish) {
  // Rank 1's second bucket fails on its communication thread: rank 1's finish() throws
  // it; the in-process network then shuts down, so rank 0 stops waiting (in a real job
  // MPI_Abort ends it; tests/e2e covers that).
  std::atomic<bool> rank1_saw_it{false};
  EXPECT_THROW(test::run_communicator_ranks(
                   2,
                   [&](Communicator& inner) {
                     CountingCommunicator comm(inner, 1, 2);
                     CommThread thread;
                     GradientSynchronizer sync(comm, &thread, {.bucket_mb = 0.004});
                     std::vector<float> grads(3152, 1.0f);
                     const auto layers = small_layers();
                     const auto m = sync.add_model(grads, layers);
                     for (std::size_t l = layers.size(); l-- > 0;) {
                       sync.layer_final(m, l);
                     }
                     try {
                       sync.finish(m);
                     } catch (const CommError& e) {
                       if (comm.rank() == 1 && std::string(e.what()) == "transport failed") {
                         rank1_saw_it = true;
                       }
                       throw;
                     }
                   }),
               CommError);
  EXPECT_TRUE(rank1_saw_it.load());
}

TEST(GradientSynchronizer, ErrorFeedbackNeedsACompression) {
  test::run_communicator_ranks(1, [](Communicator& comm) {
    EXPECT_THROW(GradientSynchronizer(comm, nullptr, {.error_feedback = true}), ConfigError);
  });
}

}  // namespace
}  // namespace dtrain::comm
