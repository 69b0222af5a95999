// Every built-in model family trains briefly under mpiexec -np 2 on synthetic data: the
// metrics file carries each family's keys (docs/design.md "Metrics file"), the autoencoder and the GAN write
// PNG grids into --output-dir, and their checkpoints work with inspect and eval.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "render/image_grid.h"
#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

using nlohmann::json;

struct Family {
  std::string model;
  std::vector<std::string> epoch_keys, absent_epoch_keys, final_keys;
  std::string image_prefix;  // empty: no images
};

// The picture size the task's grid has (what a viewer opens): the autoencoder's two rows of
// 10 labelled "input" / "output", the GAN's 10 x 10, both captioned, 28x28 gray images.
render::GridLayout expected_grid(const std::string& prefix, int scale = 0) {
  const std::vector<float> images(100 * 28 * 28);
  render::ImageGrid g{.images = images,
                      .height = 28,
                      .width = 28,
                      .columns = 10,
                      .title = "caption",
                      .scale = scale};
  if (prefix == "reconstructions") {
    g.count = 20;
    g.row_labels = {"input", "output"};
  } else {
    g.count = 100;
  }
  return render::layout_image_grid(g);
}

std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

void expect_png(const std::string& path, std::size_t width, std::size_t height) {
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " was not written";
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  ASSERT_GT(bytes.size(), 33u) << path;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
  EXPECT_EQ(bytes.substr(12, 4), "IHDR") << path;
  if (width == 0) {  // any readable size
    EXPECT_GT(big_endian(bytes, 16), 300u) << path;
    EXPECT_GT(big_endian(bytes, 20), 300u) << path;
    return;
  }
  EXPECT_EQ(big_endian(bytes, 16), width) << path;
  EXPECT_EQ(big_endian(bytes, 20), height) << path;
}

class BuiltinFamilies : public ::testing::TestWithParam<Family> {};

TEST_P(BuiltinFamilies, TrainsUnderTwoRanksAndReportsItsFigures) {
  const auto& f = GetParam();
  const auto dir = make_temp_dir("family_" + f.model);
  const auto metrics = dir + "/metrics.jsonl";
  std::string args = "--data synthetic --model " + f.model +
                     " --epochs 2 --max-steps 4 --batch-size 32 --progress never --metrics " +
                     metrics + " --checkpoint-dir " + dir + "/ckpt";
  if (!f.image_prefix.empty()) args += " --output-dir " + dir + "/images";
  const auto r = run_dtrain(2, args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = read_lines(metrics);
  ASSERT_EQ(lines.size(), 2u) << r.output;  // the epoch cut short by --max-steps, the final
  const auto epoch = json::parse(lines[0]);
  EXPECT_EQ(epoch["event"], "epoch");
  EXPECT_EQ(epoch["step"], 4);
  for (const auto& key : f.epoch_keys) {
    ASSERT_TRUE(epoch.contains(key)) << key << " in " << lines[0];
    EXPECT_TRUE(epoch[key].is_number()) << key;
  }
  for (const auto& key : f.absent_epoch_keys) EXPECT_FALSE(epoch.contains(key)) << key;
  const auto final_line = json::parse(lines[1]);
  EXPECT_EQ(final_line["event"], "final");
  EXPECT_EQ(final_line["world_size"], 2);
  for (const auto& key : f.final_keys) {
    ASSERT_TRUE(final_line.contains(key)) << key << " in " << lines[1];
    EXPECT_TRUE(final_line[key].is_number()) << key;
  }
  if (f.image_prefix == "confusion") {
    // A classifier: the validation set's matrix at the epoch end, the test set's at the end.
    expect_png(dir + "/images/confusion-val-epoch-1.png", 0, 0);
    expect_png(dir + "/images/confusion-test.png", 0, 0);
  } else if (!f.image_prefix.empty()) {
    const auto grid = expected_grid(f.image_prefix);
    EXPECT_GE(grid.width, render::kMinGridWidth);
    expect_png(dir + "/images/" + f.image_prefix + "-epoch-1.png", grid.width, grid.height);
  }
  // The checkpoint holds every network of the model; eval reports the family's figures.
  const auto inspect = run_dtrain(0, "inspect --json " + dir + "/ckpt");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  const auto info = json::parse(inspect.output);
  EXPECT_EQ(info["model"], f.model);
  EXPECT_EQ(info["step"], 4);
  const bool gan = f.model.starts_with("gan");  // the DCGAN and the dense gan-mlp
  EXPECT_EQ(info["models"].size(), gan ? 2u : 1u);
  EXPECT_EQ(info["params_sha256"].get<std::string>().size(), 64u);
  // The recipe the run used: the lstm's and the gan's own lr, the gan's beta1 and image range.
  const float lr = gan ? 2e-4f : f.model == "lstm" ? 0.005f : 0.001f;
  EXPECT_FLOAT_EQ(info["lr"].get<float>(), lr);
  EXPECT_FLOAT_EQ(info["adam_beta1"].get<float>(), gan ? 0.5f : 0.9f);
  EXPECT_EQ(info.contains("image_range"), gan);
  if (gan) {
    EXPECT_EQ(info["image_range"], "minus_one_to_one");
  }
  const auto eval = run_dtrain(2, "eval --json --data synthetic --checkpoint " + dir + "/ckpt");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  const auto e = json::parse(eval.output);
  EXPECT_EQ(e["test_examples"], 1000);
  for (const auto& key : f.final_keys) EXPECT_TRUE(e.contains(key)) << key << " in eval";
}

INSTANTIATE_TEST_SUITE_P(
    Models, BuiltinFamilies,
    ::testing::Values(
        Family{"mlp",
               {"train_loss", "train_acc", "val_loss", "val_acc"},
               {},
               {"test_loss", "test_acc"},
               "confusion"},
        Family{"rnn", {"train_loss", "train_acc", "val_acc"}, {}, {"test_loss", "test_acc"}},
        Family{"lstm", {"train_loss", "train_acc", "val_acc"}, {}, {"test_loss", "test_acc"}},
        Family{"autoencoder",
               {"train_mse", "val_mse", "samples_per_sec"},
               {"train_acc", "val_acc", "train_loss"},
               {"test_mse"},
               "reconstructions"},
        Family{"conv-autoencoder",
               {"train_mse", "val_mse", "samples_per_sec"},
               {"train_acc", "val_acc", "train_loss"},
               {"test_mse"},
               "reconstructions"},
        Family{"gan",
               {"d_loss", "g_loss", "samples_per_sec"},
               {"train_acc", "val_acc", "train_loss"},
               {"d_loss", "g_loss"},
               "samples"},
        Family{"gan-mlp",
               {"d_loss", "g_loss", "samples_per_sec"},
               {"train_acc", "val_acc", "train_loss"},
               {"d_loss", "g_loss"},
               "samples"}),
    [](const auto& param_info) {
      std::string name = param_info.param.model;
      std::ranges::replace(name, '-', '_');  // gtest names: letters, digits and _
      return name;
    });

TEST(GanSamples, AClassifierCheckpointJudgesThem) {
  const auto dir = make_temp_dir("judge");
  const std::string common =
      "--data synthetic --epochs 1 --max-steps 3 --batch-size 32 "
      "--progress never --checkpoint-dir " +
      dir;
  ASSERT_EQ(run_dtrain(2, common + "/mlp --model mlp").exit_code, 0);
  ASSERT_EQ(run_dtrain(2, common + "/cnn --model cnn").exit_code, 0);
  ASSERT_EQ(run_dtrain(2, common + "/gan --model gan-mlp").exit_code, 0);
  const auto r = run_dtrain(2, "eval --json --data synthetic --checkpoint " + dir +
                                   "/gan --classifier " + dir + "/cnn --samples 50");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = json::parse(r.output);
  EXPECT_EQ(j["samples"], 50);
  EXPECT_GE(j["confident_share"].get<double>(), 0.0);
  EXPECT_LE(j["confident_share"].get<double>(), 1.0);
  std::int64_t total = 0;
  for (const auto& c : j["class_counts"]) total += c.get<std::int64_t>();
  EXPECT_EQ(total, 50);
  EXPECT_GE(j["classes_present"].get<int>(), 1);
  EXPECT_EQ(j["real_images"], 50);  // the reference: as many real test images
  EXPECT_GE(j["real_confident_share"].get<double>(), 0.0);
  EXPECT_LE(j["real_confident_share"].get<double>(), 1.0);
  // Frechet distances in the cnn's relu2 features, against the whole synthetic test set: a
  // generator after 3 steps is far from it; two halves of the real set are close.
  EXPECT_EQ(j["frechet_features"], json({{"layer", "relu2"}, {"size", 128}}));
  EXPECT_EQ(j["frechet_real_images"], 1000);
  for (const char* key : {"frechet_distance", "frechet_distance_real_halves"}) {
    ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key << " in " << r.output;
    EXPECT_TRUE(std::isfinite(j[key].get<double>())) << key;
    EXPECT_GE(j[key].get<double>(), 0.0) << key;
  }
  EXPECT_LT(20.0 * j["frechet_distance_real_halves"].get<double>(),
            j["frechet_distance"].get<double>())
      << r.output;
  // Judging applies to GAN checkpoints only, and needs a classifier.
  const auto wrong = run_dtrain(
      0, "eval --data synthetic --checkpoint " + dir + "/mlp --classifier " + dir + "/mlp");
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("--classifier"), std::string::npos) << wrong.output;
  const auto not_classifier = run_dtrain(
      0, "eval --data synthetic --checkpoint " + dir + "/gan --classifier " + dir + "/gan");
  EXPECT_EQ(not_classifier.exit_code, 2) << not_classifier.output;
}

// A model file's own recipe reaches the run (the banner prints the lr and global batch in
// use) unless --lr / --batch-size is given; a bad one is refused before training with exit 3
// naming the field.
TEST(ModelDefaults, TheFilesLearningRateUnlessTheCommandLineSetsOne) {
  const auto dir = make_temp_dir("defaults");
  auto write_spec = [&](const std::string& name, const std::string& defaults) {
    const std::string path = dir + "/" + name;
    std::ofstream(path) << "input_height: 28 input_width: 28 input_channels: 1\n"
                        << defaults << "\nlayers { type: \"flatten\" }\n"
                        << "layers { type: \"dense\" units: 10 }\n";
    return path;
  };
  const auto good =
      write_spec("good.pbtxt", "defaults { lr: 0.0125 adam_beta1: 0.5 batch_size: 24 }");
  const std::string common = "--data synthetic --epochs 1 --max-steps 2 --progress never --model ";
  const auto own = run_dtrain(2, common + good);
  ASSERT_EQ(own.exit_code, 0) << own.output;
  EXPECT_NE(own.output.find("adam lr 0.0125"), std::string::npos) << own.output;
  EXPECT_NE(own.output.find("global batch 24 (12-12 per rank)"), std::string::npos) << own.output;
  const auto given = run_dtrain(2, common + good + " --lr 0.03 --batch-size 16");
  ASSERT_EQ(given.exit_code, 0) << given.output;
  EXPECT_NE(given.output.find("adam lr 0.03"), std::string::npos) << given.output;
  EXPECT_NE(given.output.find("global batch 16 (8-8 per rank)"), std::string::npos) << given.output;
  // The file's batch is the GLOBAL batch too: one example cannot be split over two ranks.
  const auto tiny = run_dtrain(2, common + write_spec("tiny.pbtxt", "defaults { batch_size: 1 }"));
  EXPECT_EQ(tiny.exit_code, 2) << tiny.output;
  EXPECT_NE(tiny.output.find("defaults.batch_size"), std::string::npos) << tiny.output;
  const auto bad = run_dtrain(2, common + write_spec("bad.pbtxt", "defaults { lr: -1 }"));
  EXPECT_EQ(bad.exit_code, 3) << bad.output;
  EXPECT_NE(bad.output.find("defaults.lr"), std::string::npos) << bad.output;
}

TEST(OutputDir, ImageScaleSetsThePixelsPerImagePixel) {
  const auto dir = make_temp_dir("image_scale");
  const auto r = run_dtrain(0,
                            "--data synthetic --model autoencoder --max-steps 1 --progress never "
                            "--image-scale 1 --output-dir " +
                                dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto grid = expected_grid("reconstructions", 1);
  EXPECT_LT(grid.width, render::kMinGridWidth);
  expect_png(dir + "/reconstructions-epoch-1.png", grid.width, grid.height);
  const auto bad = run_dtrain(0, "--data synthetic --model autoencoder --image-scale 17");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--image-scale"), std::string::npos) << bad.output;
}

TEST(OutputDir, AnUnwritableDirectoryFailsAtStartUp) {
  const auto dir = make_temp_dir("output_dir_file");
  { std::ofstream(dir + "/a_file") << "x"; }
  const auto r = run_dtrain(2,
                            "--data synthetic --model autoencoder --max-steps 1 --progress "
                            "never --output-dir " +
                                dir + "/a_file/images");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--output-dir"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace dtrain::testing
