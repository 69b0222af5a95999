// Exact resume (Caffe's snapshot test, docs/design.md "Checkpoints"), run at np = 2, 3, 4 and,
// inside each, at np = 1 on every rank: 2 epochs straight == 1 epoch + checkpoint + resume
// + 1 epoch, bitwise on parameters and optimizer state, for momentum and Adam, with the
// checkpoint at an epoch end and mid-epoch; a stop request; and a resume on another
// number of ranks.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstring>
#include <filesystem>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "comm/mpi/mpi_communicator.h"
#include "comm/self_communicator.h"
#include "nn/model_config.h"
#include "testing/mpi_test_env.h"
#include "testing/small_problem.h"
#include "train/stop_signal.h"
#include "train/trainer.h"

namespace dtrain {
namespace {

using testing::small_cnn;

namespace fs = std::filesystem;

train::TrainConfig config_for(const std::string& optimizer, int epochs) {
  train::TrainConfig c;
  c.model_name = "small_cnn";
  c.model_spec = small_cnn();
  c.epochs = epochs;
  c.global_batch = 30;  // 16 steps per epoch, uneven slices at np = 4
  c.lr = optimizer == "adam" ? 0.002f : 0.02f;
  c.optimizer.kind = optimizer;
  c.seed = 4;
  c.progress = train::ProgressMode::kNever;
  c.log_epochs = false;
  return c;
}

struct Outcome {
  std::vector<float> params;
  std::vector<optim::StateArray> optimizer_state;
  std::int64_t optimizer_steps = 0;
  train::TrainResult result;
};

// A checkpoint directory private to this rank count and test, created by rank 0.
std::string shared_dir(comm::Communicator& comm, const std::string& tag) {
  const auto dir = fs::path(::testing::TempDir()) /
                   ("dtrain_resume_" + tag + "_np" + std::to_string(comm.size()));
  if (comm.rank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  comm.barrier();
  return dir.string();
}

Outcome train_run(comm::Communicator& comm, const train::TrainConfig& config,
                  const std::string& checkpoint_dir = "",
                  const train::TrainState* resume = nullptr) {
  auto model = nn::build_model(small_cnn());
  std::optional<ckpt::CheckpointDirectory> dir;
  std::optional<ckpt::FileCheckpointStore> store;
  if (!checkpoint_dir.empty()) {
    dir.emplace(checkpoint_dir, 100);
    if (comm.rank() == 0) dir->prepare();
    store.emplace(*dir);
  }
  train::Trainer trainer(comm, *model, testing::small_splits(), config, store ? &*store : nullptr,
                         resume);
  Outcome out;
  out.result = trainer.run();
  const auto p = model->arena().params();
  out.params.assign(p.begin(), p.end());
  out.optimizer_state = trainer.optimizer().state();
  out.optimizer_steps = trainer.optimizer().steps();
  comm.barrier();  // rank 0's files are complete before anyone reads them
  return out;
}

train::TrainState load(const std::string& path) {
  return ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(path), path);
}

void expect_bitwise_equal(const Outcome& a, const Outcome& b, const std::string& what) {
  ASSERT_EQ(a.params.size(), b.params.size());
  EXPECT_EQ(0, std::memcmp(a.params.data(), b.params.data(), a.params.size() * sizeof(float)))
      << what << ": parameters differ";
  ASSERT_EQ(a.optimizer_state.size(), b.optimizer_state.size());
  for (std::size_t i = 0; i < a.optimizer_state.size(); ++i) {
    const auto& x = a.optimizer_state[i].values;
    const auto& y = b.optimizer_state[i].values;
    EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(float)))
        << what << ": optimizer state '" << a.optimizer_state[i].name << "' differs";
  }
  EXPECT_EQ(a.optimizer_steps, b.optimizer_steps) << what;
}

struct Case {
  std::string optimizer;
  std::int64_t every_steps;  // 0: checkpoint at the epoch end; else mid-epoch
};

class ExactResume : public ::testing::TestWithParam<Case> {};

void check_exact_resume(comm::Communicator& comm, const Case& c, const std::string& tag) {
  const auto straight = train_run(comm, config_for(c.optimizer, 2));
  const auto dir = shared_dir(comm, tag);
  auto first = config_for(c.optimizer, 2);
  first.checkpoint_every_steps = c.every_steps;
  // Interrupt: stop after epoch 1 (or after the mid-epoch checkpoint) via --max-steps.
  first.max_steps = c.every_steps > 0 ? c.every_steps : 16;
  train_run(comm, first, dir);
  const auto state = load(ckpt::resolve_checkpoint_path(dir));
  EXPECT_EQ(state.global_step, first.max_steps);
  EXPECT_EQ(state.world_size, comm.size());
  auto second = config_for(c.optimizer, 2);
  second.checkpoint_every_steps = c.every_steps;
  const auto resumed = train_run(comm, second, dir, &state);
  EXPECT_EQ(resumed.result.steps, 32);
  expect_bitwise_equal(straight, resumed, tag);
}

TEST_P(ExactResume, OneRankOnEveryRank) {
  comm::SelfCommunicator self;
  // Each rank works in its own directory, named after its rank.
  const auto& c = GetParam();
  check_exact_resume(self, c,
                     c.optimizer + std::to_string(c.every_steps) + "_self_r" +
                         std::to_string(test::world_rank()) + "of" +
                         std::to_string(test::world_size()));
}

TEST_P(ExactResume, AllRanks) {
  comm::MpiCommunicator comm("ring");
  const auto& c = GetParam();
  check_exact_resume(comm, c, c.optimizer + std::to_string(c.every_steps) + "_all");
}

INSTANTIATE_TEST_SUITE_P(Cases, ExactResume,
                         ::testing::Values(Case{"momentum", 0}, Case{"adam", 0},
                                           Case{"momentum", 7}, Case{"adam", 7}),
                         [](const auto& param_info) {
                           return param_info.param.optimizer + "_every" +
                                  std::to_string(param_info.param.every_steps);
                         });

TEST(StopRequest, AllRanksStopTogetherAndTheCheckpointResumesExactly) {
  comm::MpiCommunicator comm("ring");
  const auto straight = train_run(comm, config_for("adam", 2));
  const auto dir = shared_dir(comm, "stop");
  auto config = config_for("adam", 2);
  config.stop_on_signals = true;
  train::install_stop_signal_handlers();
  if (comm.rank() == comm.size() - 1) train::request_stop_for_testing();  // one rank's signal
  const auto stopped = train_run(comm, config, dir);
  train::remove_stop_signal_handlers();
  EXPECT_TRUE(stopped.result.stopped_by_signal);
  EXPECT_TRUE(stopped.result.checkpoint_written_at_stop);
  EXPECT_EQ(stopped.result.steps, 1);  // agreed at the first step boundary
  const auto state = load(ckpt::resolve_checkpoint_path(dir));
  EXPECT_EQ(state.global_step, 1);
  EXPECT_EQ(state.step_in_epoch, 1);
  const auto resumed = train_run(comm, config_for("adam", 2), dir, &state);
  expect_bitwise_equal(straight, resumed, "stop at step 1");
}

TEST(ResumeOnOtherRankCount, ContinuesAndEndsCloseToTheUninterruptedRun) {
  comm::MpiCommunicator comm("ring");
  const auto dir = shared_dir(comm, "other_count");
  auto first = config_for("adam", 3);
  first.max_steps = 16;
  train_run(comm, first, dir);
  const auto state = load(ckpt::resolve_checkpoint_path(dir));
  EXPECT_EQ(state.world_size, comm.size());
  // Every rank continues the P-rank checkpoint alone (np = 1).
  comm::SelfCommunicator self;
  const auto resumed = train_run(self, config_for("adam", 3), "", &state);
  const auto straight = train_run(self, config_for("adam", 3));
  EXPECT_EQ(resumed.result.steps, 48);
  EXPECT_NEAR(resumed.result.test.accuracy, straight.result.test.accuracy, 0.005 + 1e-9);
}

TEST(ResumeMismatch, ModelOrBatchThatDoNotFitAreCollectiveCheckpointErrors) {
  comm::MpiCommunicator comm("ring");
  const auto dir = shared_dir(comm, "mismatch");
  auto first = config_for("adam", 1);
  first.max_steps = 2;
  train_run(comm, first, dir);
  const auto state = load(ckpt::resolve_checkpoint_path(dir));
  auto other = small_cnn();
  other.layers[4].units = 12;
  auto model = nn::build_model(other);
  try {
    train::Trainer t(comm, *model, testing::small_splits(), config_for("adam", 1), nullptr, &state);
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("small_cnn"), std::string::npos) << e.what();
  }
  auto batch = config_for("adam", 1);
  batch.global_batch = 20;
  auto same_model = nn::build_model(small_cnn());
  EXPECT_THROW(train::Trainer(comm, *same_model, testing::small_splits(), batch, nullptr, &state),
               CheckpointError);
}

// A full disk is simulated with a file-size limit on rank 0 (the writer) around training
// only: MPI's own files were created before. Every rank must fail together with rank 0's
// message, and the previous checkpoint must stay the loadable `latest`.
TEST(FullDisk, SaveFailureEndsEveryRankCleanlyAndKeepsThePreviousCheckpoint) {
  comm::MpiCommunicator comm("ring");
  const auto dir = shared_dir(comm, "full_disk");
  auto first = config_for("adam", 1);
  first.max_steps = 2;
  train_run(comm, first, dir);
  const auto state = load(ckpt::resolve_checkpoint_path(dir));
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  if (comm.rank() == 0) {
    rlimit small = saved;
    small.rlim_cur = 4096;  // far below one checkpoint; the hard limit stays, so we can undo it
    setrlimit(RLIMIT_FSIZE, &small);
  }
  auto second = config_for("adam", 1);
  second.max_steps = 4;
  bool failed = false;
  try {
    train_run(comm, second, dir, &state);
  } catch (const TrainingError& e) {
    failed = true;
    EXPECT_TRUE(e.collective());
    if (comm.rank() == 0) {
      EXPECT_NE(std::string(e.what()).find("previous checkpoint is unchanged"), std::string::npos)
          << e.what();
    }
  }
  if (comm.rank() == 0) setrlimit(RLIMIT_FSIZE, &saved);
  comm.barrier();
  EXPECT_TRUE(failed) << "rank " << comm.rank() << " did not see the failed save";
  EXPECT_EQ(load(ckpt::resolve_checkpoint_path(dir)).global_step, 2);
  EXPECT_FALSE(fs::exists(dir + "/ckpt-4.pb"));
}

}  // namespace
}  // namespace dtrain
