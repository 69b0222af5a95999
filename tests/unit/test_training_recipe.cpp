// The modern training recipe's pieces, one process: --lr-schedule cosine|step with
// --warmup-steps and --min-lr, AdamW's decoupled decay and which slots it decays,
// --clip-grad-norm's norm and scale, and the options on the command line, in INI files and
// in --help.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli/command_line.h"
#include "core/errors.h"
#include "nn/model_config.h"
#include "optim/grad_clip.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "optim/weight_decay.h"
#include "train/micro_batches.h"
#include "train/train_config.h"

namespace dtrain {
namespace {

using optim::LrSchedule;
using optim::ScheduleConfig;

TEST(LrSchedule, CosineAfterWarmupStepsEndsAtMinLrOnTheLastStep) {
  // 2 warmup steps, then 11 steps of cosine from 0.1 down to 0.01 (steps 2..12).
  const LrSchedule s(0.1f, false, 128, 2, {.kind = "cosine", .min_lr = 0.01f}, 13);
  EXPECT_FLOAT_EQ(s.at(0), 0.05f);
  EXPECT_FLOAT_EQ(s.at(1), 0.1f);
  EXPECT_FLOAT_EQ(s.at(2), 0.1f);
  EXPECT_FLOAT_EQ(s.at(7), 0.055f);  // halfway: the mean of target and floor
  EXPECT_FLOAT_EQ(s.at(12), 0.01f);
  EXPECT_FLOAT_EQ(s.at(50), 0.01f);  // past the end (a longer resumed run): the floor
  for (std::int64_t k = 2; k < 12; ++k) EXPECT_GT(s.at(k), s.at(k + 1)) << k;
}

TEST(LrSchedule, StepDecaysEveryNStepsDownToMinLr) {
  const LrSchedule s(0.1f, false, 128, 0,
                     {.kind = "step", .min_lr = 0.02f, .decay_steps = 3, .decay_factor = 0.5f},
                     100);
  for (std::int64_t k : {0, 1, 2}) EXPECT_FLOAT_EQ(s.at(k), 0.1f) << k;
  for (std::int64_t k : {3, 4, 5}) EXPECT_FLOAT_EQ(s.at(k), 0.05f) << k;
  EXPECT_FLOAT_EQ(s.at(6), 0.025f);
  EXPECT_FLOAT_EQ(s.at(9), 0.02f);  // 0.0125 is below the floor
}

TEST(LrSchedule, ConstantIsTheOldScheduleBitwise) {
  const LrSchedule old(0.003f, true, 256, 5);
  const LrSchedule now(0.003f, true, 256, 5, ScheduleConfig{}, 1000);
  for (std::int64_t k = 0; k < 20; ++k) EXPECT_EQ(old.at(k), now.at(k)) << k;
}

TEST(LrSchedule, RunScheduleTakesWarmupStepsAndEndsAtMaxSteps) {
  train::TrainConfig c;
  c.lr = 0.1f;
  c.epochs = 3;
  c.schedule = {.kind = "cosine", .min_lr = 0.0f, .warmup_steps = 4};
  const auto full = train::make_lr_schedule(c, 10);  // 30 steps
  EXPECT_FLOAT_EQ(full.at(0), 0.025f);
  EXPECT_FLOAT_EQ(full.at(29), 0.0f);
  c.max_steps = 12;  // the run ends at step 12: so does the cosine
  const auto cut = train::make_lr_schedule(c, 10);
  EXPECT_FLOAT_EQ(cut.at(11), 0.0f);
  EXPECT_GT(cut.at(10), 0.0f);
  c.schedule = {};
  c.warmup_epochs = 0.5;  // 5 steps
  EXPECT_FLOAT_EQ(train::make_lr_schedule(c, 10).at(0), 0.02f);
}

TEST(AdamW, DecaysOnlyTheGivenRangesAndOtherwiseIsAdam) {
  const float lr = 0.01f, wd = 0.1f;
  std::vector<float> pw{0.5f, -0.3f, 2.0f, 1.0f}, pa = pw;
  // Element 1 and 2 decay.
  optim::AdamW adamw(4, 0.9f, 0.999f, 1e-7f, wd, {{1, 3}});
  optim::Adam adam(4, 0.9f, 0.999f, 1e-7f);
  std::vector<double> ref(pw.begin(), pw.end()), m(4, 0.0), v(4, 0.0);
  const std::vector<std::vector<float>> grads{{0.1f, -0.2f, 0.0f, 0.3f}, {0.3f, 0.1f, -1.0f, 0.0f}};
  for (std::size_t t = 1; t <= grads.size(); ++t) {
    adamw.step(pw, grads[t - 1], lr);
    adam.step(pa, grads[t - 1], lr);
    for (int i = 0; i < 4; ++i) {
      const double g = grads[t - 1][i];
      if (i == 1 || i == 2) ref[i] -= lr * wd * ref[i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      ref[i] -= lr * (m[i] / (1 - std::pow(0.9, double(t)))) /
                (std::sqrt(v[i] / (1 - std::pow(0.999, double(t)))) + 1e-7);
    }
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(pw[i], ref[i], 1e-6) << "step " << t << " i " << i;
  }
  // Outside the ranges AdamW is Adam, bit for bit; inside, it differs.
  EXPECT_EQ(pw[0], pa[0]);
  EXPECT_EQ(pw[3], pa[3]);
  EXPECT_NE(pw[2], pa[2]);
  EXPECT_EQ(adamw.kind(), "adamw");
  EXPECT_EQ(optim::make_optimizer({.kind = "adamw", .weight_decay = 0.1f}, 4)->kind(), "adamw");
}

TEST(AdamW, ZeroDecayIsAdamBitwise) {
  std::vector<float> pw{0.5f, -0.3f, 2.0f}, pa = pw;
  optim::AdamW adamw(3, 0.9f, 0.999f, 1e-7f, 0.0f, {{0, 3}});
  optim::Adam adam(3, 0.9f, 0.999f, 1e-7f);
  const std::vector<float> g{0.1f, -0.2f, 0.7f};
  for (int t = 0; t < 3; ++t) {
    adamw.step(pw, g, 0.01f);
    adam.step(pa, g, 0.01f);
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(pw[i], pa[i]);
}

// The slots whose ranges decayed_ranges covers, by name.
std::set<std::string> decayed_slots(const nn::Sequential& model,
                                    const std::vector<std::string>& also = {}) {
  std::set<std::string> names;
  for (const auto& r : optim::decayed_ranges(model, also)) {
    for (const auto& slot : model.arena().slots()) {
      if (slot.offset >= r.begin && slot.offset + slot.size <= r.end) names.insert(slot.name);
    }
  }
  return names;
}

TEST(WeightDecay, WeightMatricesDecayBiasesNormsAndEmbeddingsDoNot) {
  nn::ModelConfig cnn{"c", 6, 6, 1, {}};
  cnn.layers = {{.type = "conv2d", .name = "conv", .filters = 2, .kernel = 3},
                {.type = "batchnorm", .name = "bn"},
                {.type = "flatten"},
                {.type = "dense", .name = "fc", .units = 3}};
  const auto model = nn::build_model(cnn);
  EXPECT_EQ(decayed_slots(*model), (std::set<std::string>{"conv.weight", "fc.weight"}));

  nn::ModelConfig lm{"lm", 5, 1, 1, {}};
  lm.layers = {{.type = "embedding", .name = "emb", .units = 3, .vocab = 6},
               {.type = "lstm", .name = "lstm", .units = 4, .return_sequences = true},
               {.type = "dense", .name = "out", .units = 6, .per_step = true}};
  const auto text = nn::build_model(lm);
  EXPECT_EQ(decayed_slots(*text),
            (std::set<std::string>{"lstm.weight", "lstm.recurrent_weight", "out.weight"}));
  // The model file's defaults { weight_decay_layers } decays every slot of a layer.
  EXPECT_EQ(decayed_slots(*text, {"emb", "out"}),
            (std::set<std::string>{"emb.weight", "lstm.weight", "lstm.recurrent_weight",
                                   "out.weight", "out.bias"}));
  EXPECT_NO_THROW(optim::check_layer_names({text.get()}, {"emb"}));
  try {
    optim::check_layer_names({text.get(), model.get()}, {"emb", "nope"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("weight_decay_layers"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
}

TEST(GradClip, GlobalNormAndScaleDownAboveTheMaximum) {
  std::vector<float> g{3.0f, 0.0f, 4.0f, 0.0f, 0.0f};
  EXPECT_DOUBLE_EQ(optim::global_norm(g), 5.0);
  EXPECT_FALSE(optim::clip_to_norm(g, 5.0, 5.0));  // at the maximum: untouched
  EXPECT_FALSE(optim::clip_to_norm(g, 5.0, 0.0));  // 0: off
  EXPECT_EQ(g[0], 3.0f);
  EXPECT_TRUE(optim::clip_to_norm(g, 5.0, 1.0));
  EXPECT_FLOAT_EQ(g[0], 0.6f);
  EXPECT_FLOAT_EQ(g[2], 0.8f);
  EXPECT_NEAR(optim::global_norm(g), 1.0, 1e-6);
}

TEST(GradClip, APlantedLargeGradientMovesSgdByAtMostLrTimesTheMaximum) {
  std::vector<float> p{1.0f, 1.0f}, clipped = p;
  std::vector<float> g{1000.0f, 0.0f};  // planted
  optim::Sgd sgd;
  sgd.step(p, g, 0.1f);
  EXPECT_FLOAT_EQ(p[0], 1.0f - 100.0f);
  optim::clip_to_norm(g, optim::global_norm(g), 2.0);
  sgd.step(clipped, g, 0.1f);
  EXPECT_FLOAT_EQ(clipped[0], 1.0f - 0.2f);
}

// ---- the command line ----

cli::CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "dtrain");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return cli::parse_command_line(static_cast<int>(argv.size()), argv.data());
}

train::TrainConfig parse_train(std::vector<std::string> args) {
  return std::get<cli::TrainOptions>(parse(std::move(args)).options).train;
}

void expect_config_error(std::vector<std::string> args, const std::string& option) {
  try {
    parse(args);
    ADD_FAILURE() << "expected ConfigError naming " << option;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(option), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), kExitUsage);
  }
}

TEST(RecipeOptions, DefaultsChangeNothing) {
  const auto t = parse_train({});
  EXPECT_EQ(t.schedule.kind, "constant");
  EXPECT_EQ(t.schedule.warmup_steps, 0);
  EXPECT_EQ(t.schedule.min_lr, 0.0f);
  EXPECT_EQ(t.optimizer.weight_decay, 0.0f);
  EXPECT_EQ(t.clip_grad_norm, 0.0f);
  EXPECT_EQ(t.accumulate, 1);
}

TEST(MicroBatches, SizeDividesTheBatchAndFeedsEveryRank) {
  train::TrainConfig c;
  c.global_batch = 32;
  EXPECT_EQ(train::micro_batch_size(c, 4), 32u);
  c.accumulate = 4;
  EXPECT_EQ(train::micro_batch_size(c, 4), 8u);
  EXPECT_THROW(train::micro_batch_size(c, 9), ConfigError);  // 8 examples for 9 ranks
  c.accumulate = 3;
  EXPECT_THROW(train::micro_batch_size(c, 1), ConfigError);  // 32 / 3
  EXPECT_EQ(train::micro_batch_seed(77, 0), 77u);  // N = 1 keeps the step's dropout stream
  EXPECT_NE(train::micro_batch_seed(77, 1), 77u);
}

TEST(RecipeOptions, CommandLineAndConfigFile) {
  const auto t =
      parse_train({"--optimizer", "adamw", "--weight-decay", "0.05", "--lr-schedule", "step",
                   "--lr-decay-steps", "100", "--lr-decay-factor", "0.5", "--min-lr", "1e-5",
                   "--warmup-steps", "20", "--clip-grad-norm", "1.5", "--accumulate", "4"});
  EXPECT_EQ(t.accumulate, 4);
  EXPECT_EQ(t.optimizer.kind, "adamw");
  EXPECT_FLOAT_EQ(t.optimizer.weight_decay, 0.05f);
  EXPECT_EQ(t.schedule.kind, "step");
  EXPECT_EQ(t.schedule.decay_steps, 100);
  EXPECT_FLOAT_EQ(t.schedule.decay_factor, 0.5f);
  EXPECT_FLOAT_EQ(t.schedule.min_lr, 1e-5f);
  EXPECT_EQ(t.schedule.warmup_steps, 20);
  EXPECT_FLOAT_EQ(t.clip_grad_norm, 1.5f);
  const auto ini = std::filesystem::path(::testing::TempDir()) / "dtrain_recipe.ini";
  std::ofstream(ini) << "optimizer = adamw\nweight-decay = 0.1\nlr-schedule = cosine\n"
                        "min-lr = 0.0001\nwarmup-steps = 7\nclip-grad-norm = 2\n"
                        "accumulate = 2\n";
  const auto f = parse_train({"--config", ini.string(), "--min-lr", "0.0002"});
  EXPECT_EQ(f.optimizer.kind, "adamw");
  EXPECT_FLOAT_EQ(f.optimizer.weight_decay, 0.1f);
  EXPECT_EQ(f.schedule.kind, "cosine");
  EXPECT_FLOAT_EQ(f.schedule.min_lr, 0.0002f);  // the command line wins
  EXPECT_EQ(f.schedule.warmup_steps, 7);
  EXPECT_FLOAT_EQ(f.clip_grad_norm, 2.0f);
  EXPECT_EQ(f.accumulate, 2);
  const auto ini2 = std::filesystem::path(::testing::TempDir()) / "dtrain_early.ini";
  std::ofstream(ini2) << "early-stopping = 3\nmonitor = val_acc\nkeep-best = true\n"
                         "checkpoint-dir = /tmp/x\n";
  const auto e = parse_train({"--config", ini2.string()});
  EXPECT_EQ(e.early_stopping, 3);
  EXPECT_EQ(e.monitor, "val_acc");
  EXPECT_TRUE(e.keep_best);
  const auto help = parse({"--help"}).help_text;
  for (const char* opt :
       {"--weight-decay", "--lr-schedule", "--min-lr", "--warmup-steps", "--lr-decay-steps",
        "--lr-decay-factor", "--clip-grad-norm", "--accumulate", "--early-stopping", "--monitor",
        "--keep-best", "adamw"}) {
    EXPECT_NE(help.find(opt), std::string::npos) << opt;
  }
}

TEST(RecipeOptions, BadValuesNameTheirOption) {
  expect_config_error({"--lr-schedule", "linear"}, "--lr-schedule");
  expect_config_error({"--lr-schedule", "step"}, "--lr-decay-steps");
  expect_config_error({"--lr-decay-factor", "1.5"}, "--lr-decay-factor");
  expect_config_error({"--lr-decay-factor", "0"}, "--lr-decay-factor");
  expect_config_error({"--min-lr", "-1"}, "--min-lr");
  expect_config_error({"--warmup-steps", "-3"}, "--warmup-steps");
  expect_config_error({"--warmup-steps", "3", "--warmup-epochs", "1"}, "--warmup-steps");
  expect_config_error({"--weight-decay", "-0.1", "--optimizer", "adamw"}, "--weight-decay");
  expect_config_error({"--weight-decay", "0.1"}, "--optimizer adamw");
  expect_config_error({"--clip-grad-norm", "-1"}, "--clip-grad-norm");
  expect_config_error({"--optimizer", "lamb"}, "--optimizer");
  expect_config_error({"--accumulate", "0"}, "--accumulate");
  expect_config_error({"--early-stopping", "-1"}, "--early-stopping");
  expect_config_error({"--early-stopping", "2", "--monitor", "d_loss"}, "--monitor");
  expect_config_error({"--monitor", "val_acc"}, "--monitor");  // judges nothing alone
  expect_config_error({"--keep-best"}, "--checkpoint-dir");
}

}  // namespace
}  // namespace dtrain
