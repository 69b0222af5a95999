// A GAN's evaluation on hand-made networks: judging images with a classifier (eval
// --classifier: the confident share and class counts, the count limit, a shape mismatch, the
// features a Frechet distance compares),
// and the image range (a tanh generator's discriminator sees real images in [-1, 1]).
#include <gtest/gtest.h>

#include <cmath>

#include "comm/self_communicator.h"
#include "core/errors.h"
#include "eval/gan_judge.h"
#include "nn/model_config.h"
#include "train/task.h"

namespace dtrain::train {
namespace {

// One pixel in, two logits out: l0 = 10 x - 5, l1 = 0. x = 0 is class 1 and x = 1 class 0,
// both with p > 0.99; x = 74/255 gives p(class 1) = 0.89, below the 0.9 threshold.
std::unique_ptr<nn::Sequential> one_pixel_classifier() {
  nn::ModelConfig c;
  c.name = "judge";
  c.input_height = c.input_width = c.input_channels = 1;
  c.layers = {{.type = "flatten"}, {.type = "dense", .units = 2}};
  auto model = nn::build_model(c);
  auto& arena = model->arena();
  EXPECT_EQ(arena.slots().size(), 2u);  // weights [2 x 1], then biases [2]
  auto weights = arena.param(0), biases = arena.param(1);
  weights[0] = 10.0f;
  weights[1] = 0.0f;
  biases[0] = -5.0f;
  biases[1] = 0.0f;
  return model;
}

data::Dataset images(std::vector<std::uint8_t> pixels) {
  data::Dataset ds;
  ds.height = ds.width = ds.channels = 1;
  ds.pixels = std::move(pixels);
  return ds;
}

TEST(JudgeImages, CountsConfidentTopClasses) {
  auto classifier = one_pixel_classifier();
  const auto j = eval::judge_images(images({0, 255, 128, 74}), *classifier, 1000);
  EXPECT_EQ(j.count, 4);  // no more than the data set holds
  EXPECT_DOUBLE_EQ(j.confident_share, 0.5);
  EXPECT_EQ(j.class_counts, (std::vector<std::int64_t>{2, 2}));  // 128: l0 = +0.02
  EXPECT_EQ(j.confident_class_counts, (std::vector<std::int64_t>{1, 1}));
  // A lower threshold takes in 74 (p = 0.89); the count limit takes the first images only.
  EXPECT_DOUBLE_EQ(
      eval::judge_images(images({0, 255, 128, 74}), *classifier, 4, 0.85).confident_share, 0.75);
  const auto first_two = eval::judge_images(images({0, 255, 128, 74}), *classifier, 2);
  EXPECT_EQ(first_two.count, 2);
  EXPECT_DOUBLE_EQ(first_two.confident_share, 1.0);
}

TEST(JudgeImages, ManyBatchesAddUp) {
  auto classifier = one_pixel_classifier();
  std::vector<std::uint8_t> pixels(1001, 0);  // more than one batch of 250
  pixels[1000] = 128;
  const auto j = eval::judge_images(images(pixels), *classifier, 1001);
  EXPECT_EQ(j.class_counts, (std::vector<std::int64_t>{1, 1000}));
  EXPECT_DOUBLE_EQ(j.confident_share, 1000.0 / 1001.0);
}

TEST(JudgeImages, ShapeMismatchIsAConfigError) {
  auto classifier = one_pixel_classifier();
  data::Dataset two_by_two;
  two_by_two.height = two_by_two.width = 2;
  two_by_two.channels = 1;
  two_by_two.pixels.assign(8, 0);
  EXPECT_THROW(eval::judge_images(two_by_two, *classifier, 2), ConfigError);
}

TEST(JudgeImages, KeepsTheFeaturesBeforeTheLastDenseLayer) {
  // flatten, dense 2 (weights 1 and -1), relu, dense 2: features relu(x), relu(-x) = (x, 0).
  nn::ModelConfig c;
  c.name = "features";
  c.input_height = c.input_width = c.input_channels = 1;
  c.layers = {{.type = "flatten"},
              {.type = "dense", .units = 2},
              {.type = "relu", .name = "hidden"},
              {.type = "dense", .units = 2}};
  auto model = nn::build_model(c);
  auto weights = model->arena().param(0), biases = model->arena().param(1);
  weights[0] = 1.0f;
  weights[1] = -1.0f;
  biases[0] = biases[1] = 0.0f;
  std::vector<std::uint8_t> pixels(300);  // more than one batch of 250
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i % 256);
  const auto j = eval::judge_images(images(pixels), *model, 300);
  EXPECT_EQ(j.features.layer, "hidden");
  ASSERT_EQ(j.features.dim, 2u);
  ASSERT_EQ(j.features.values.size(), 600u);
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    EXPECT_FLOAT_EQ(j.features.values[2 * i], pixels[i] / 255.0f) << i;
    EXPECT_FLOAT_EQ(j.features.values[2 * i + 1], 0.0f) << i;
  }
  // The one-pixel classifier's last dense layer reads the flattened image itself.
  const auto flat = eval::judge_images(images({0, 255}), *one_pixel_classifier(), 2);
  EXPECT_EQ(flat.features.layer, "flatten0");
  EXPECT_EQ(flat.features.values, (std::vector<float>{0.0f, 1.0f}));
}

TEST(JudgeImages, AClassifierWithoutADenseLayerHasNoFeatures) {
  nn::ModelConfig c;
  c.name = "bare";
  c.input_height = c.input_width = c.input_channels = 1;
  c.layers = {{.type = "flatten"}, {.type = "sigmoid"}};
  auto model = nn::build_model(c);
  EXPECT_THROW(eval::judge_images(images({0}), *model, 1), ConfigError);
}

// A one-value network: flatten, then Dense 1 with the given weight and bias, then a 1x1x1
// image (a generator's output is an image).
std::unique_ptr<nn::Sequential> affine(float weight, float bias) {
  nn::ModelConfig c;
  c.name = "affine";
  c.input_height = c.input_width = c.input_channels = 1;
  c.layers = {
      {.type = "flatten"}, {.type = "dense", .units = 1}, {.type = "reshape", .shape = {1, 1, 1}}};
  auto model = nn::build_model(c);
  model->arena().param(0)[0] = weight;
  model->arena().param(1)[0] = bias;
  return model;
}

double softplus(double x) {
  return std::log1p(std::exp(x));
}

TEST(GanImageRange, DiscriminatorSeesRealImagesInTheGeneratorsRange) {
  // G makes 0.5 whatever the noise; D's logit is its input.
  auto generator = affine(0.0f, 0.5f), discriminator = affine(1.0f, 0.0f);
  comm::SelfCommunicator comm;
  const auto black = images({0, 0});
  const auto unit =
      evaluate_gan(*generator, *discriminator, nn::ImageRange::kZeroToOne, black, comm, 500, 1);
  const auto symmetric =
      evaluate_gan(*generator, *discriminator, nn::ImageRange::kMinusOneToOne, black, comm, 500, 1);
  // d_loss = BCE(D(real), 1) + BCE(D(fake), 0): real black is 0 in [0, 1], -1 in [-1, 1].
  EXPECT_NEAR(unit.d_loss, softplus(-0.0) + softplus(0.5), 1e-6);
  EXPECT_NEAR(symmetric.d_loss, softplus(1.0) + softplus(0.5), 1e-6);
  EXPECT_NEAR(symmetric.g_loss, softplus(-0.5), 1e-6);
  EXPECT_EQ(symmetric.count, 2);
}

TEST(GanImageRange, SamplesAreJudgedInZeroToOne) {
  // G makes 0: in [0, 1] that is black (class 1, confident); from [-1, 1] it maps to
  // 0.5, where the classifier's logits tie (class 0, not confident).
  auto generator = affine(0.0f, 0.0f);
  auto classifier = one_pixel_classifier();
  const auto unit = eval::judge_samples(*generator, nn::ImageRange::kZeroToOne, *classifier, 10, 1);
  EXPECT_EQ(unit.class_counts, (std::vector<std::int64_t>{0, 10}));
  EXPECT_DOUBLE_EQ(unit.confident_share, 1.0);
  const auto symmetric =
      eval::judge_samples(*generator, nn::ImageRange::kMinusOneToOne, *classifier, 10, 1);
  EXPECT_EQ(symmetric.class_counts, (std::vector<std::int64_t>{10, 0}));
  EXPECT_DOUBLE_EQ(symmetric.confident_share, 0.0);
}

}  // namespace
}  // namespace dtrain::train
