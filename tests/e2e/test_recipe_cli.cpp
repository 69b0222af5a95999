// The training recipe through the dtrain binary: --optimizer adamw --weight-decay,
// --lr-schedule cosine with --warmup-steps and --min-lr, --clip-grad-norm from an INI file;
// the checkpoint holds them (dtrain inspect --json), the metrics file has grad_norm, a resume
// with another recipe exits 3, and a bad value exits 2 naming its option; --early-stopping
// with --keep-best ends a stalled run with exit 0 and a `best` file.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

using nlohmann::json;

const std::string kRun = "--data synthetic --batch-size 32 --progress never --model mlp ";

TEST(RecipeCli, OptionsReachTheCheckpointAndTheMetricsFile) {
  const auto dir = make_temp_dir("recipe");
  const auto ini = dir + "/recipe.ini";
  std::ofstream(ini) << "optimizer = adamw\nweight-decay = 0.05\nlr-schedule = cosine\n"
                        "warmup-steps = 10\nmin-lr = 0.00001\nclip-grad-norm = 0.5\n";
  auto r = run_dtrain(2, kRun + "--config " + ini + " --max-steps 30 --checkpoint-dir " + dir +
                             "/ckpt --metrics " + dir + "/m.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_dtrain(0, "inspect " + dir + "/ckpt --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = json::parse(r.output);
  EXPECT_EQ(j["optimizer"], "adamw");
  EXPECT_FLOAT_EQ(j["weight_decay"].get<float>(), 0.05f);
  EXPECT_EQ(j["lr_schedule"], "cosine");
  EXPECT_EQ(j["warmup_steps"], 10);
  EXPECT_FLOAT_EQ(j["min_lr"].get<float>(), 1e-5f);
  EXPECT_FLOAT_EQ(j["clip_grad_norm"].get<float>(), 0.5f);
  const auto lines = read_lines(dir + "/m.jsonl");
  ASSERT_FALSE(lines.empty());
  const auto epoch = json::parse(lines.front());
  ASSERT_TRUE(epoch.contains("grad_norm")) << lines.front();
  EXPECT_GT(epoch["grad_norm"].get<double>(), 0.0);
  // The same checkpoint does not continue another recipe.
  r = run_dtrain(2, kRun + "--config " + ini + " --clip-grad-norm 2 --max-steps 40 " +
                        "--checkpoint-dir " + dir + "/ckpt --resume");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("--clip-grad-norm"), std::string::npos) << r.output;
}

TEST(RecipeCli, EarlyStoppingExits0AndNamesTheBestCheckpoint) {
  const auto dir = make_temp_dir("early");
  // SGD at lr 1e-12 leaves the float parameters as they are: val_acc cannot improve.
  const auto r =
      run_dtrain(2, kRun + "--optimizer sgd --lr 1e-12 --epochs 5 --val-size 500 " +
                        "--early-stopping 1 --monitor val_acc --keep-best --keep 1 " +
                        "--checkpoint-dir " + dir + "/ckpt --metrics " + dir + "/m.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("early stopping"), std::string::npos) << r.output;
  const auto lines = read_lines(dir + "/m.jsonl");
  ASSERT_EQ(lines.size(), 3u);  // epochs 1 and 2, then the final line
  const auto final_line = json::parse(lines.back());
  EXPECT_EQ(final_line["stopped_early"], true);
  EXPECT_EQ(final_line["best_epoch"], 1);
  const auto best = read_lines(dir + "/ckpt/best");
  ASSERT_EQ(best.size(), 1u);
  EXPECT_EQ(best[0], final_line["best_checkpoint"].get<std::string>());
  const auto inspect = run_dtrain(0, "inspect " + dir + "/ckpt/" + best[0] + " --json");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_EQ(json::parse(inspect.output)["best_epoch"], 1);
}

TEST(RecipeCli, BadValuesExit2NamingTheOption) {
  for (const auto& [args, option] : std::vector<std::pair<std::string, std::string>>{
           {"--lr-schedule warm", "--lr-schedule"},
           {"--weight-decay 0.1", "--weight-decay"},
           {"--clip-grad-norm -2", "--clip-grad-norm"},
           {"--lr-schedule step", "--lr-decay-steps"},
           {"--keep-best", "--checkpoint-dir"},
           {"--early-stopping 2 --monitor val_mse", "--monitor"}}) {
    const auto r = run_dtrain(0, kRun + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(option), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace dtrain::testing
