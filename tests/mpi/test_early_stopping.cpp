// --early-stopping and --keep-best under real MPI (np = 2, 3, 4): a run whose validation
// accuracy cannot change (SGD at lr 1e-12 leaves float parameters as they are) stops after
// epoch 1 + PATIENCE on every rank together, says so in the metrics file, and keeps the
// epoch-1 checkpoint as `best` although --keep 1 prunes everything else; resumed from the
// epoch-2 checkpoint (one epoch without improvement counted) it stops at the same epoch
// with the same metrics lines.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "comm/mpi/mpi_communicator.h"
#include "testing/small_problem.h"
#include "train/trainer.h"

namespace dtrain {
namespace {

namespace fs = std::filesystem;

train::TrainConfig stalled_run(const std::string& dir) {
  train::TrainConfig c;
  c.model_spec = testing::small_cnn();
  c.model_name = "small_cnn";
  c.epochs = 6;
  c.global_batch = 30;  // 16 steps per epoch
  c.optimizer.kind = "sgd";
  c.lr = 1e-12f;
  c.seed = 3;
  c.progress = train::ProgressMode::kNever;
  c.log_epochs = false;
  c.early_stopping = 2;
  c.monitor = "val_acc";
  c.keep_best = true;
  c.metrics_path = dir + "/metrics.jsonl";
  return c;
}

train::TrainResult run(comm::Communicator& comm, const train::TrainConfig& config,
                       const std::string& checkpoint_dir, int keep,
                       const train::TrainState* resume = nullptr) {
  auto model = nn::build_model(config.model_spec);
  ckpt::CheckpointDirectory dir(checkpoint_dir, keep);
  if (comm.rank() == 0) dir.prepare();
  comm.barrier();
  ckpt::FileCheckpointStore store(dir);
  train::Trainer trainer(comm, *model, testing::small_splits(), config, &store, resume);
  auto result = trainer.run();
  comm.barrier();
  return result;
}

std::vector<nlohmann::json> lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::string fresh(comm::Communicator& comm, const std::string& tag) {
  const auto dir = fs::path(::testing::TempDir()) /
                   ("dtrain_early_" + tag + "_np" + std::to_string(comm.size()));
  if (comm.rank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  comm.barrier();
  return dir.string();
}

TEST(EarlyStopping, StopsAtTheExpectedEpochKeepsTheBestAndResumes) {
  comm::MpiCommunicator comm("ring");
  const auto dir = fresh(comm, "stop");
  const auto config = stalled_run(dir);
  const auto result = run(comm, config, dir + "/ckpt", 1);
  EXPECT_TRUE(result.stopped_early);
  EXPECT_EQ(result.epochs_completed, 3);  // best at 1, no better at 2 and 3
  EXPECT_EQ(result.steps, 48);
  if (comm.rank() == 0) {
    const auto m = lines(config.metrics_path);
    ASSERT_EQ(m.size(), 4u);
    EXPECT_EQ(m[2]["best_epoch"], 1);
    EXPECT_EQ(m[3]["event"], "final");
    EXPECT_EQ(m[3]["stopped_early"], true);
    EXPECT_EQ(m[3]["best_checkpoint"], "ckpt-16.pb");
    std::ifstream best(dir + "/ckpt/best");
    std::string name;
    std::getline(best, name);
    EXPECT_EQ(name, "ckpt-16.pb");
    EXPECT_TRUE(fs::exists(dir + "/ckpt/ckpt-16.pb")) << "--keep 1 pruned the best checkpoint";
    EXPECT_TRUE(fs::exists(dir + "/ckpt/ckpt-48.pb"));
  }
  // The same run, checkpointing every epoch into another directory, resumed from epoch 2.
  const auto again = fresh(comm, "resume");
  auto first = stalled_run(again);
  first.max_steps = 32;
  run(comm, first, again + "/ckpt", 10);
  const auto path = again + "/ckpt/ckpt-32.pb";
  const auto state = ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(path), path);
  EXPECT_EQ(state.early.best_epoch, 1);
  EXPECT_EQ(state.early.epochs_without_improvement, 1);
  EXPECT_EQ(state.monitor, "val_acc");
  const auto resumed = run(comm, stalled_run(again), again + "/ckpt", 10, &state);
  EXPECT_TRUE(resumed.stopped_early);
  EXPECT_EQ(resumed.steps, 48);
}

}  // namespace
}  // namespace dtrain
