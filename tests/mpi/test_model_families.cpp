// The autoencoder, GAN, LSTM, charlstm and a GPT under real MPI (run by CTest at np = 2, 3, 4),
// with small versions of the built-in networks:
// - np=1 and np=P with the same global batch reach the same parameters after 5 steps
//   (relative difference <= 1e-5), both networks of the GAN included: its noise belongs
//   to the example's position in the global batch, not to the rank;
// - exact resume for the autoencoder and the GAN (both networks and both optimizers):
//   2 epochs straight == 1 epoch (or 7 steps) + checkpoint + resume, bitwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "comm/mpi/mpi_communicator.h"
#include "comm/self_communicator.h"
#include "data/text_dataset.h"
#include "nn/language_model_spec.h"
#include "nn/model_config.h"
#include "testing/mpi_test_env.h"
#include "testing/small_problem.h"
#include "train/task.h"
#include "train/trainer.h"

namespace dtrain {
namespace {

using testing::relative_difference;
using testing::small_conv_autoencoder;
using testing::small_gan;
using testing::small_lstm;

namespace fs = std::filesystem;

nn::ModelConfig small_autoencoder() {
  nn::ModelConfig c{"small_autoencoder",
                    28,
                    28,
                    1,
                    {{.type = "flatten"},
                     {.type = "dense", .units = 24},
                     {.type = "relu"},
                     {.type = "dense", .units = 8},
                     {.type = "relu"},
                     {.type = "dense", .units = 24},
                     {.type = "relu"},
                     {.type = "dense", .units = 784},
                     {.type = "sigmoid"},
                     {.type = "reshape", .shape = {28, 28, 1}}}};
  c.task = "reconstruct";
  return c;
}

// A small charlstm (the built-in's layers, narrower, T = 12) on generated text: 534
// sequences of 13 bytes, 482 of them for training (16 steps of 30 per epoch, like the others).
const data::DataSplits& small_text_splits() {
  static const data::DataSplits splits = [] {
    std::string text;
    std::uint64_t state = 7;
    const char* words[] = {"alpha ", "beta ", "gamma ", "delta\n", "pi ", "rho "};
    while (text.size() < 534 * 13) text += words[(state = mix64(state)) % 6];
    // One file per process: the ranks of a node share the temporary directory.
    const auto path = fs::path(::testing::TempDir()) /
                      ("dtrain_small_text_" + std::to_string(::getpid()) + ".txt");
    std::ofstream(path, std::ios::binary) << text.substr(0, 534 * 13);
    auto s = data::load_text_data(path.string(), 12);
    fs::remove(path);
    return s;
  }();
  return splits;
}

nn::ModelConfig small_charlstm() {
  nn::ModelConfig c{"small_charlstm",
                    12,
                    1,
                    1,
                    {{.type = "embedding", .units = 6, .vocab = 0},
                     {.type = "lstm", .units = 16, .return_sequences = true},
                     {.type = "dense", .units = 0, .per_step = true}}};
  c.task = nn::kTaskLanguageModel;
  nn::resolve_vocabulary(c, small_text_splits().vocabulary);
  return c;
}

// A small GPT (the built-in's layer kinds: residual blocks with layernorm, attention, a
// GELU MLP) on the same text: residual blocks are single layers to the bucket planner.
nn::ModelConfig small_gpt() {
  nn::ModelConfig c{
      "small_gpt",
      12,
      1,
      1,
      {{.type = "embedding", .units = 8, .vocab = 0},
       {.type = "position_embedding"},
       {.type = "residual", .layers = {{.type = "layernorm"}, {.type = "attention", .heads = 2}}},
       {.type = "residual",
        .layers = {{.type = "layernorm"},
                   {.type = "dense", .units = 16, .per_step = true},
                   {.type = "gelu"},
                   {.type = "dense", .units = 8, .per_step = true}}},
       {.type = "layernorm"},
       {.type = "dense", .units = 0, .per_step = true}}};
  c.task = nn::kTaskLanguageModel;
  nn::resolve_vocabulary(c, small_text_splits().vocabulary);
  return c;
}

const data::DataSplits& splits_for(const nn::ModelConfig& spec) {
  return spec.task_kind() == nn::kTaskLanguageModel ? small_text_splits() : testing::small_splits();
}

train::TrainConfig config_for(const nn::ModelConfig& spec, int epochs) {
  train::TrainConfig c;
  c.model_name = spec.name;
  c.model_spec = spec;
  c.epochs = epochs;
  c.global_batch = 30;  // 16 steps per epoch; not a multiple of 4: uneven slices
  c.lr = 0.002f;
  c.optimizer.kind = "adam";
  c.apply_model_defaults(/*lr_given=*/false);  // the gan's own lr and beta1
  c.seed = 6;
  c.progress = train::ProgressMode::kNever;
  c.log_epochs = false;
  return c;
}

struct Outcome {
  std::vector<std::vector<float>> params;  // per network
  std::vector<std::vector<optim::StateArray>> optimizer_state;
  std::vector<std::int64_t> optimizer_steps;
  train::TrainResult result;
};

Outcome train_run(comm::Communicator& comm, const train::TrainConfig& config,
                  const std::string& checkpoint_dir = "",
                  const train::TrainState* resume = nullptr) {
  auto task = train::make_task(config.model_spec, config.seed);
  std::optional<ckpt::CheckpointDirectory> dir;
  std::optional<ckpt::FileCheckpointStore> store;
  if (!checkpoint_dir.empty()) {
    dir.emplace(checkpoint_dir, 100);
    if (comm.rank() == 0) dir->prepare();
    store.emplace(*dir);
  }
  train::Trainer trainer(comm, *task, splits_for(config.model_spec), config,
                         store ? &*store : nullptr, resume);
  Outcome out;
  out.result = trainer.run();
  for (std::size_t i = 0; i < task->models().size(); ++i) {
    const auto p = task->models()[i].model->arena().params();
    out.params.emplace_back(p.begin(), p.end());
    out.optimizer_state.push_back(trainer.optimizer(i).state());
    out.optimizer_steps.push_back(trainer.optimizer(i).steps());
  }
  comm.barrier();  // rank 0's files are complete before anyone reads them
  return out;
}

class Families : public ::testing::TestWithParam<std::string> {};

nn::ModelConfig spec_for(const std::string& family) {
  if (family == "autoencoder") return small_autoencoder();
  if (family == "conv_autoencoder") return small_conv_autoencoder();
  if (family == "gan") return small_gan();
  if (family == "dcgan") return testing::small_dcgan();
  if (family == "charlstm") return small_charlstm();
  if (family == "gpt") return small_gpt();
  return small_lstm();
}

TEST_P(Families, SameParametersAsOneRankAfterFiveSteps) {
  const auto spec = spec_for(GetParam());
  auto config = config_for(spec, 1);
  config.max_steps = 5;
  comm::SelfCommunicator self;
  const auto single = train_run(self, config);  // every rank computes the np=1 reference
  comm::MpiCommunicator comm("ring");
  const auto parallel = train_run(comm, config);
  EXPECT_EQ(parallel.result.steps, 5);
  ASSERT_EQ(single.params.size(), parallel.params.size());
  auto initial = train::make_task(spec, config.seed);
  for (std::size_t i = 0; i < single.params.size(); ++i) {
    ASSERT_EQ(single.params[i].size(), parallel.params[i].size());
    auto p = parallel.params[i], q = single.params[i];
    if (GetParam() == "gpt") {
      // The key bias's gradient is zero up to rounding (softmax ignores a constant added to
      // a row of scores), which Adam scales up to steps of lr: as a bias before a batchnorm,
      // it differs between rank counts (docs/models.md). Compare the rest.
      auto task = train::make_task(spec, config.seed);
      for (const auto& slot : task->models()[i].model->arena().slots()) {
        if (!slot.name.ends_with("qkv.bias")) continue;
        const std::size_t width = slot.size / 3;
        for (std::size_t k = width; k < 2 * width; ++k) p[slot.offset + k] = q[slot.offset + k];
      }
    }
    EXPECT_LE(relative_difference(p, q), 1e-5)
        << GetParam() << " network " << i << ", np=" << comm.size() << " vs np=1";
    // And it trained: the parameters moved away from their initial values.
    auto& m = *initial->models()[i].model;
    m.init_params(i == 0 ? config.seed : derive_seed(config.seed, 0x6d6f64656cULL, i));
    const auto p0 = m.arena().params();
    EXPECT_GT(relative_difference(single.params[i], {p0.begin(), p0.end()}), 1e-4)
        << GetParam() << " network " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Families,
                         ::testing::Values("autoencoder", "gan", "dcgan", "lstm", "charlstm",
                                           "gpt"));
INSTANTIATE_TEST_SUITE_P(ConvAutoencoder, Families, ::testing::Values("conv_autoencoder"));

void expect_bitwise_equal(const Outcome& a, const Outcome& b, const std::string& what) {
  ASSERT_EQ(a.params.size(), b.params.size());
  for (std::size_t m = 0; m < a.params.size(); ++m) {
    ASSERT_EQ(a.params[m].size(), b.params[m].size());
    EXPECT_EQ(
        0, std::memcmp(a.params[m].data(), b.params[m].data(), a.params[m].size() * sizeof(float)))
        << what << ": parameters of network " << m << " differ";
    ASSERT_EQ(a.optimizer_state[m].size(), b.optimizer_state[m].size());
    for (std::size_t i = 0; i < a.optimizer_state[m].size(); ++i) {
      const auto& x = a.optimizer_state[m][i].values;
      const auto& y = b.optimizer_state[m][i].values;
      EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(float)))
          << what << ": optimizer state '" << a.optimizer_state[m][i].name << "' of network " << m
          << " differs";
    }
    EXPECT_EQ(a.optimizer_steps[m], b.optimizer_steps[m]) << what;
  }
}

struct ResumeCase {
  std::string family;
  std::int64_t every_steps;  // 0: checkpoint at the epoch end; else mid-epoch
};

class FamilyResume : public ::testing::TestWithParam<ResumeCase> {};

TEST_P(FamilyResume, TwoEpochsStraightEqualOneCheckpointResume) {
  comm::MpiCommunicator comm("ring");
  const auto& c = GetParam();
  const auto spec = spec_for(c.family);
  const auto tag = c.family + std::to_string(c.every_steps);
  const auto straight = train_run(comm, config_for(spec, 2));
  const auto dir = fs::path(::testing::TempDir()) /
                   ("dtrain_family_resume_" + tag + "_np" + std::to_string(comm.size()));
  if (comm.rank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  comm.barrier();
  auto first = config_for(spec, 2);
  first.checkpoint_every_steps = c.every_steps;
  first.max_steps = c.every_steps > 0 ? c.every_steps : 16;
  train_run(comm, first, dir.string());
  const auto path = ckpt::resolve_checkpoint_path(dir.string());
  const auto state = ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(path), path);
  EXPECT_EQ(state.global_step, first.max_steps);
  EXPECT_EQ(state.models().size(), c.family.ends_with("gan") ? 2u : 1u);
  auto second = config_for(spec, 2);
  second.checkpoint_every_steps = c.every_steps;
  const auto resumed = train_run(comm, second, dir.string(), &state);
  EXPECT_EQ(resumed.result.steps, 32);
  expect_bitwise_equal(straight, resumed, tag);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FamilyResume,
    ::testing::Values(ResumeCase{"autoencoder", 0}, ResumeCase{"gan", 0}, ResumeCase{"lstm", 0},
                      ResumeCase{"autoencoder", 7}, ResumeCase{"gan", 7}, ResumeCase{"lstm", 7},
                      ResumeCase{"dcgan", 7}, ResumeCase{"charlstm", 0}, ResumeCase{"charlstm", 7}),
    [](const auto& param_info) {
      return param_info.param.family + "_every" + std::to_string(param_info.param.every_steps);
    });
INSTANTIATE_TEST_SUITE_P(ConvAutoencoder, FamilyResume,
                         ::testing::Values(ResumeCase{"conv_autoencoder", 0},
                                           ResumeCase{"conv_autoencoder", 7}));

}  // namespace
}  // namespace dtrain
