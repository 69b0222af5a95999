// Overlapped gradient communication under real MPI (CTest runs it at np = 2, 3, 4):
// - --overlap on and off give bitwise equal parameters and optimizer state after N steps,
//   for the cnn, the lstm and the gan (both networks), with tiny buckets (many per
//   network) and with the auto rule, and with 16-bit compression; every rank holds the
//   same bits;
// - fp16/bf16 compression with error feedback: replicas bitwise identical, and 1 epoch +
//   checkpoint + resume == 2 epochs straight, bitwise (each rank's residual is saved).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <optional>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "comm/mpi/mpi_communicator.h"
#include "comm/self_communicator.h"
#include "testing/mpi_test_env.h"
#include "testing/small_problem.h"
#include "train/task.h"
#include "train/trainer.h"

namespace dtrain {
namespace {

namespace fs = std::filesystem;

nn::ModelConfig spec_for(const std::string& family) {
  if (family == "gan") return testing::small_gan();
  // Synchronized batchnorm: its allreduces go through the communication thread with overlap
  // on, between the gradient buckets, and must give the same bits as on the main thread.
  if (family == "dcgan") return testing::small_dcgan();
  if (family == "lstm") return testing::small_lstm();
  auto cnn = testing::small_cnn();
  cnn.name = "small_cnn";
  return cnn;
}

struct Recipe {
  std::string family;
  bool overlap = true;
  double bucket_mb = 0.0;
  std::string compression = "none";
  bool error_feedback = false;
  int epochs = 1;
  std::int64_t max_steps = 6;
};

train::TrainConfig config_for(const Recipe& r) {
  const auto spec = spec_for(r.family);
  train::TrainConfig c;
  c.model_name = spec.name;
  c.model_spec = spec;
  c.epochs = r.epochs;
  c.max_steps = r.max_steps;
  c.global_batch = 30;  // 16 steps per epoch of small_splits; uneven slices at np=4
  c.lr = 0.002f;
  c.optimizer.kind = "adam";
  c.apply_model_defaults(false);
  c.seed = 9;
  c.progress = train::ProgressMode::kNever;
  c.log_epochs = false;
  c.overlap = r.overlap;
  c.bucket_mb = r.bucket_mb;
  c.grad_compression = r.compression;
  c.error_feedback = r.error_feedback;
  return c;
}

struct Outcome {
  std::vector<std::vector<float>> params;  // per network
  std::vector<std::vector<float>> state;   // per network: every optimizer array, appended
  std::size_t buckets = 0;                 // of the first network
};

Outcome train_run(comm::Communicator& comm, const Recipe& recipe, const std::string& dir = "",
                  const train::TrainState* resume = nullptr) {
  const auto config = config_for(recipe);
  auto task = train::make_task(config.model_spec, config.seed);
  std::optional<ckpt::CheckpointDirectory> checkpoints;
  std::optional<ckpt::FileCheckpointStore> store;
  if (!dir.empty()) {
    checkpoints.emplace(dir, 100);
    if (comm.rank() == 0) checkpoints->prepare();
    store.emplace(*checkpoints);
  }
  train::Trainer trainer(comm, *task, testing::small_splits(), config, store ? &*store : nullptr,
                         resume);
  trainer.run();
  Outcome out;
  out.buckets = trainer.synchronizer().buckets(0).size();
  for (std::size_t i = 0; i < task->models().size(); ++i) {
    const auto p = task->models()[i].model->arena().params();
    out.params.emplace_back(p.begin(), p.end());
    std::vector<float> all;
    for (const auto& a : trainer.optimizer(i).state()) {
      all.insert(all.end(), a.values.begin(), a.values.end());
    }
    out.state.push_back(std::move(all));
  }
  comm.barrier();
  return out;
}

void expect_bitwise_equal(const Outcome& a, const Outcome& b, const std::string& what) {
  ASSERT_EQ(a.params.size(), b.params.size());
  for (std::size_t m = 0; m < a.params.size(); ++m) {
    ASSERT_EQ(a.params[m].size(), b.params[m].size());
    EXPECT_EQ(
        0, std::memcmp(a.params[m].data(), b.params[m].data(), a.params[m].size() * sizeof(float)))
        << what << ": parameters of network " << m << " differ";
    ASSERT_EQ(a.state[m].size(), b.state[m].size());
    EXPECT_EQ(0,
              std::memcmp(a.state[m].data(), b.state[m].data(), a.state[m].size() * sizeof(float)))
        << what << ": optimizer state of network " << m << " differs";
  }
}

void expect_same_on_every_rank(comm::Communicator& comm, const Outcome& out,
                               const std::string& what) {
  for (std::size_t m = 0; m < out.params.size(); ++m) {
    const auto hashes = comm.allgather(test::fingerprint(out.params[m]));
    for (std::size_t r = 1; r < hashes.size(); ++r) {
      EXPECT_EQ(hashes[r], hashes[0]) << what << ": rank " << r << " diverged, network " << m;
    }
  }
}

class OverlapOnOff : public ::testing::TestWithParam<std::string> {};

TEST_P(OverlapOnOff, BitwiseEqualParametersAfterSixSteps) {
  comm::MpiCommunicator comm("ring");
  for (const double mb : {0.002, 0.0}) {
    for (const char* compression : {"none", "fp16"}) {
      Recipe on{.family = GetParam(), .overlap = true, .bucket_mb = mb, .compression = compression};
      Recipe off = on;
      off.overlap = false;
      const std::string what = GetParam() + ", --bucket-mb " + (mb > 0 ? "0.002" : "auto") +
                               ", --grad-compression " + compression +
                               ", np=" + std::to_string(comm.size());
      const auto a = train_run(comm, on);
      const auto b = train_run(comm, off);
      if (mb > 0) {
        EXPECT_GE(a.buckets, 2u) << what << ": tiny buckets, several per network";
      }
      expect_bitwise_equal(a, b, what + ": overlap on vs off");
      expect_same_on_every_rank(comm, a, what);
    }
  }
}

TEST_P(OverlapOnOff, OneRankIsUnchangedByOverlap) {
  comm::SelfCommunicator self;  // np=1 semantics: no thread, nothing reduced
  Recipe on{.family = GetParam(), .bucket_mb = 0.002};
  Recipe off = on;
  off.overlap = false;
  expect_bitwise_equal(train_run(self, on), train_run(self, off), GetParam() + " np=1");
}

INSTANTIATE_TEST_SUITE_P(Families, OverlapOnOff, ::testing::Values("cnn", "lstm", "gan", "dcgan"));

TEST(Compression, ReplicasStayIdenticalAndDifferFromFloat32) {
  comm::MpiCommunicator comm("ring");
  const auto exact = train_run(comm, {.family = "cnn", .bucket_mb = 0.002});
  for (const char* c : {"fp16", "bf16"}) {
    for (const bool ef : {false, true}) {
      const auto out = train_run(
          comm, {.family = "cnn", .bucket_mb = 0.002, .compression = c, .error_feedback = ef});
      const std::string what = std::string(c) + (ef ? " + error feedback" : "");
      expect_same_on_every_rank(comm, out, what);
      EXPECT_NE(0, std::memcmp(out.params[0].data(), exact.params[0].data(),
                               exact.params[0].size() * sizeof(float)))
          << what << ": rounding should change the result";
      EXPECT_LE(testing::relative_difference(out.params[0], exact.params[0]), 0.05) << what;
    }
  }
}

TEST(Compression, ResumeWithErrorFeedbackIsBitwiseTheUninterruptedRun) {
  comm::MpiCommunicator comm("ring");
  for (const std::string family : {"cnn", "gan"}) {
    Recipe two{.family = family,
               .bucket_mb = 0.002,
               .compression = "fp16",
               .error_feedback = true,
               .epochs = 2,
               .max_steps = 0};
    const auto dir = (fs::temp_directory_path() /
                      ("dtrain-ef-resume-" + family + "-" + std::to_string(comm.size())))
                         .string();
    if (comm.rank() == 0) fs::remove_all(dir);
    comm.barrier();
    const auto straight = train_run(comm, two);
    Recipe one = two;
    one.epochs = 1;
    train_run(comm, one, dir);
    const auto latest = ckpt::CheckpointDirectory(dir, 100).latest();
    ASSERT_TRUE(latest.has_value());
    const auto state = ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(*latest), *latest);
    for (const auto& m : state.models()) {
      ASSERT_EQ(m.error_feedback.size(), static_cast<std::size_t>(comm.size()))
          << family << ": one residual per rank in the checkpoint";
      EXPECT_NE(m.error_feedback[0], std::vector<float>(m.params.size(), 0.0f))
          << family << ": the residual is not all zeros after an epoch";
    }
    const auto resumed = train_run(comm, two, "", &state);
    expect_bitwise_equal(straight, resumed, family + ": resumed with error feedback");
    comm.barrier();
    if (comm.rank() == 0) fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace dtrain
