// The training recipe's options under real MPI (CTest runs it at np = 2, 3, 4), for a
// classifier and a GAN (two networks, two optimizers):
// - each option changes the run (it is wired into the step): --lr-schedule cosine and step,
//   --warmup-steps, --optimizer adamw --weight-decay, --clip-grad-norm;
// - with all of them on: resuming from the step-7 checkpoint ends bitwise where the
//   uninterrupted 32 steps did (the schedule is a function of the global step, AdamW's
//   state is Adam's), and the checkpoint holds the recipe; resuming with another recipe is a
//   collective CheckpointError;
// - --overlap on and off give the same bits, on every rank;
// - --clip-grad-norm writes the pre-clip norm into the metrics file's epoch lines;
// - --accumulate 3 x batch 10 is batch 30 to float rounding (and batch 10 alone is not),
//   overlap on/off bitwise, exact resume mid-epoch; a GAN and a batch it does not divide
//   are refused.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "comm/mpi/mpi_communicator.h"
#include "core/errors.h"
#include "testing/mpi_test_env.h"
#include "testing/small_problem.h"
#include "train/task.h"
#include "train/trainer.h"

namespace dtrain {
namespace {

namespace fs = std::filesystem;

train::TrainConfig base_config(const std::string& family) {
  auto spec = family == "gan" ? testing::small_gan() : testing::small_cnn();
  if (spec.name.empty()) spec.name = "small_" + family;
  train::TrainConfig c;
  c.model_name = spec.name;
  c.model_spec = spec;
  c.epochs = 2;
  c.global_batch = 30;  // 16 steps per epoch of small_splits; uneven slices at np = 4
  c.lr = 0.002f;
  c.optimizer.kind = "adam";
  c.apply_model_defaults(false);
  c.seed = 5;
  c.progress = train::ProgressMode::kNever;
  c.log_epochs = false;
  return c;
}

// Every option of the recipe at once (early stopping's state is carried, the run is too
// short to stop).
train::TrainConfig full_recipe(const std::string& family) {
  auto c = base_config(family);
  c.optimizer.kind = "adamw";
  c.optimizer.weight_decay = 0.05f;
  c.schedule = {.kind = "cosine", .min_lr = 1e-4f, .warmup_steps = 5};
  c.clip_grad_norm = 0.05f;
  if (family != "gan") {  // a GAN has no validation figure to judge by
    c.early_stopping = 20;
    c.monitor = "val_acc";
    c.keep_best = true;
  }
  return c;
}

struct Outcome {
  std::vector<std::vector<float>> params;  // per network
  std::vector<std::vector<float>> state;   // per network: the optimizer's arrays, appended
};

Outcome train_run(comm::Communicator& comm, const train::TrainConfig& config,
                  const std::string& dir = "", const train::TrainState* resume = nullptr) {
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
  for (std::size_t i = 0; i < task->models().size(); ++i) {
    const auto p = task->models()[i].model->arena().params();
    out.params.emplace_back(p.begin(), p.end());
    std::vector<float> all;
    for (const auto& a : trainer.optimizer(i).state()) {
      all.insert(all.end(), a.values.begin(), a.values.end());
    }
    out.state.push_back(std::move(all));
  }
  comm.barrier();  // rank 0's files are complete before anyone reads them
  return out;
}

bool bitwise_equal(const Outcome& a, const Outcome& b) {
  if (a.params.size() != b.params.size()) return false;
  for (std::size_t m = 0; m < a.params.size(); ++m) {
    if (a.params[m] != b.params[m] || a.state[m].size() != b.state[m].size() ||
        std::memcmp(a.state[m].data(), b.state[m].data(), a.state[m].size() * sizeof(float)) != 0 ||
        std::memcmp(a.params[m].data(), b.params[m].data(), a.params[m].size() * sizeof(float)) !=
            0) {
      return false;
    }
  }
  return true;
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

std::string fresh_dir(comm::Communicator& comm, const std::string& tag) {
  const auto dir = fs::path(::testing::TempDir()) /
                   ("dtrain_recipe_" + tag + "_np" + std::to_string(comm.size()));
  if (comm.rank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  comm.barrier();
  return dir.string();
}

class Recipe : public ::testing::TestWithParam<std::string> {};

TEST_P(Recipe, EachOptionChangesTheRun) {
  comm::MpiCommunicator comm("ring");
  auto plain = base_config(GetParam());
  plain.max_steps = 6;
  const auto baseline = train_run(comm, plain);
  std::vector<std::pair<std::string, train::TrainConfig>> variants;
  auto c = plain;
  c.schedule = {.kind = "cosine", .min_lr = 0.0f};
  variants.emplace_back("--lr-schedule cosine", c);
  c = plain;
  c.schedule = {.kind = "step", .decay_steps = 2, .decay_factor = 0.5f};
  variants.emplace_back("--lr-schedule step", c);
  c = plain;
  c.schedule.warmup_steps = 3;
  variants.emplace_back("--warmup-steps 3", c);
  c = plain;
  c.optimizer.kind = "adamw";
  c.optimizer.weight_decay = 0.1f;
  variants.emplace_back("--optimizer adamw --weight-decay 0.1", c);
  c = plain;
  c.clip_grad_norm = 0.01f;
  variants.emplace_back("--clip-grad-norm 0.01", c);
  for (const auto& [what, config] : variants) {
    const auto out = train_run(comm, config);
    EXPECT_FALSE(bitwise_equal(out, baseline)) << GetParam() << ": " << what << " changed nothing";
    expect_same_on_every_rank(comm, out, GetParam() + ": " + what);
  }
  // AdamW without decay is Adam.
  c = plain;
  c.optimizer.kind = "adamw";
  EXPECT_TRUE(bitwise_equal(train_run(comm, c), baseline)) << GetParam();
}

TEST_P(Recipe, ResumeMidEpochWithEveryOptionIsBitwiseTheUninterruptedRun) {
  comm::MpiCommunicator comm("ring");
  // The straight run checkpoints every 7 steps; resuming from its step-7 file (mid-epoch,
  // inside the cosine, past warmup) must end where it ended. (Interrupting with --max-steps
  // would change the run: the cosine ends at --max-steps.)
  const auto dir = fresh_dir(comm, "resume_" + GetParam());
  auto config = full_recipe(GetParam());
  config.checkpoint_every_steps = 7;
  const auto straight = train_run(comm, config, dir);
  const auto path = (fs::path(dir) / "ckpt-7.pb").string();
  const auto state = ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(path), path);
  EXPECT_EQ(state.global_step, 7);
  EXPECT_EQ(state.optimizer.kind, "adamw");
  EXPECT_FLOAT_EQ(state.optimizer.weight_decay, 0.05f);
  EXPECT_EQ(state.schedule.kind, "cosine");
  EXPECT_FLOAT_EQ(state.schedule.min_lr, 1e-4f);
  EXPECT_EQ(state.schedule.warmup_steps, 5);
  EXPECT_FLOAT_EQ(state.clip_grad_norm, 0.05f);
  const auto resumed = train_run(comm, full_recipe(GetParam()), "", &state);
  EXPECT_TRUE(bitwise_equal(straight, resumed)) << GetParam() << ": resumed at step 7 differs";
  // Another recipe does not continue this run.
  auto other = full_recipe(GetParam());
  other.clip_grad_norm = 1.0f;
  auto task = train::make_task(other.model_spec, other.seed);
  try {
    train::Trainer t(comm, *task, testing::small_splits(), other, nullptr, &state);
    ADD_FAILURE() << "resumed with another --clip-grad-norm";
  } catch (const CheckpointError& e) {
    EXPECT_TRUE(e.collective());
    EXPECT_NE(std::string(e.what()).find("--clip-grad-norm"), std::string::npos) << e.what();
  }
}

TEST_P(Recipe, OverlapOnAndOffGiveTheSameBits) {
  comm::MpiCommunicator comm("ring");
  auto on = full_recipe(GetParam());
  on.max_steps = 6;
  on.bucket_mb = 0.002;
  auto off = on;
  off.overlap = false;
  const auto a = train_run(comm, on);
  EXPECT_TRUE(bitwise_equal(a, train_run(comm, off))) << GetParam();
  expect_same_on_every_rank(comm, a, GetParam() + " with the full recipe");
}

TEST_P(Recipe, ClipGradNormReportsThePreClipNorm) {
  comm::MpiCommunicator comm("ring");
  const auto dir = fresh_dir(comm, "metrics_" + GetParam());
  auto c = base_config(GetParam());
  c.epochs = 1;
  c.clip_grad_norm = 0.01f;
  c.metrics_path = dir + "/metrics.jsonl";
  train_run(comm, c);
  if (comm.rank() != 0) return;
  std::ifstream in(c.metrics_path);
  const auto line = nlohmann::json::parse([&] {
    std::string first;
    std::getline(in, first);
    return first;
  }());
  ASSERT_EQ(line["event"], "epoch");
  const std::vector<std::string> keys =
      GetParam() == "gan"
          ? std::vector<std::string>{"grad_norm_generator", "grad_norm_discriminator"}
          : std::vector<std::string>{"grad_norm"};
  for (const auto& key : keys) {
    ASSERT_TRUE(line.contains(key)) << line.dump();
    EXPECT_GT(line[key].get<double>(), 0.01) << key << ": the norm before clipping";
  }
}

INSTANTIATE_TEST_SUITE_P(Families, Recipe, ::testing::Values("cnn", "gan"));

TEST(Accumulate, ThreeMicroBatchesOfTenAreOneBatchOfThirtyToFloatRounding) {
  comm::MpiCommunicator comm("ring");
  auto whole = base_config("cnn");
  whole.max_steps = 6;
  auto accumulated = whole;
  accumulated.accumulate = 3;  // micro-batches of 10: 2 or 3 examples a rank at np = 4
  auto small = whole;
  small.global_batch = 10;  // what the micro-batch alone would train on
  const auto a = train_run(comm, whole), b = train_run(comm, accumulated);
  const auto c = train_run(comm, small);
  EXPECT_LE(testing::relative_difference(b.params[0], a.params[0]), 1e-5);
  EXPECT_GT(testing::relative_difference(c.params[0], a.params[0]), 1e-3)
      << "batch 10 without accumulation should be another run";
  expect_same_on_every_rank(comm, b, "--accumulate 3");
  // Overlap on and off: the same bits (buckets reduce on the last micro-batch only).
  accumulated.bucket_mb = 0.002;
  auto off = accumulated;
  off.overlap = false;
  EXPECT_TRUE(bitwise_equal(train_run(comm, accumulated), train_run(comm, off)));
}

TEST(Accumulate, ResumeMidEpochIsBitwiseAndTheCheckpointHoldsIt) {
  comm::MpiCommunicator comm("ring");
  const auto dir = fresh_dir(comm, "accumulate");
  auto config = full_recipe("cnn");
  config.accumulate = 2;
  config.checkpoint_every_steps = 5;
  const auto straight = train_run(comm, config, dir);
  const auto path = (fs::path(dir) / "ckpt-5.pb").string();
  const auto state = ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(path), path);
  EXPECT_EQ(state.accumulate, 2);
  EXPECT_EQ(state.step_in_epoch, 5);
  config.checkpoint_every_steps = 0;
  EXPECT_TRUE(bitwise_equal(straight, train_run(comm, config, "", &state)));
  auto other = config;
  other.accumulate = 1;
  auto model = train::make_task(other.model_spec, other.seed);
  EXPECT_THROW(train::Trainer(comm, *model, testing::small_splits(), other, nullptr, &state),
               CheckpointError);
}

TEST(Accumulate, RefusesAGanAndABatchItDoesNotDivide) {
  comm::MpiCommunicator comm("ring");
  auto gan = base_config("gan");
  gan.accumulate = 2;
  auto task = train::make_task(gan.model_spec, gan.seed);
  EXPECT_THROW(train::Trainer(comm, *task, testing::small_splits(), gan, nullptr, nullptr),
               ConfigError);
  auto cnn = base_config("cnn");
  cnn.accumulate = 4;  // 30 / 4
  auto model = train::make_task(cnn.model_spec, cnn.seed);
  try {
    train::Trainer t(comm, *model, testing::small_splits(), cnn, nullptr, nullptr);
    ADD_FAILURE() << "accepted --accumulate 4 with --batch-size 30";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--accumulate"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dtrain
