// Dropout (seeded masks, identity in evaluation) and Reshape (a view with checked shapes).
#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.h"
#include "nn/model_config.h"
#include "testing/gradient_check.h"

namespace dtrain::nn {
namespace {

using tensor::Tensor;
using testing::expect_gradients_match;
using testing::fill_uniform;

std::unique_ptr<Sequential> make(int h, int w, int c, std::vector<LayerConfig> layers) {
  auto model = build_model({"test", h, w, c, std::move(layers)});
  model->init_params(1);
  return model;
}

Tensor input(std::size_t batch, const Shape& sample, std::uint64_t seed) {
  Tensor x(sample.with_batch(batch));
  fill_uniform(x, seed);
  return x;
}

void expect_model_error_naming(const std::vector<LayerConfig>& layers, const std::string& name) {
  try {
    make(4, 6, 1, layers);
    FAIL() << "expected ModelError naming " << name;
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("'" + name + "'"), std::string::npos) << e.what();
  }
}

TEST(Dropout, EvaluationIsTheIdentityWithoutACopy) {
  auto model = make(3, 4, 2, {{.type = "dropout", .rate = 0.5f}});
  const Tensor x = input(2, model->input_shape(), 1);
  const Tensor& y = model->forward(x, {.training = false, .noise_seed = 3});
  ASSERT_EQ(y.shape(), x.shape());
  EXPECT_EQ(y.data(), x.data());
  Tensor dy = x;
  model->backward(x, dy, true);
  for (std::size_t i = 0; i < x.numel(); ++i) EXPECT_EQ(model->input_grad()[i], dy[i]);
}

TEST(Dropout, TrainingKeepsOneMinusRateScaled) {
  const float rate = 0.3f;
  auto model = make(100, 100, 1, {{.type = "dropout", .rate = rate}});
  Tensor x(model->input_shape().with_batch(2));
  x.fill(2.0f);
  const Tensor& y = model->forward(x, {.training = true, .noise_seed = 11});
  std::size_t kept = 0;
  for (std::size_t i = 0; i < y.numel(); ++i) {
    if (y[i] != 0.0f) {
      ++kept;
      EXPECT_FLOAT_EQ(y[i], 2.0f / (1.0f - rate));
    }
  }
  // 20,000 draws: the standard deviation of the kept share is 0.0032.
  EXPECT_NEAR(double(kept) / double(y.numel()), 1.0 - rate, 0.02);
  // Backward routes the gradient through the same mask.
  Tensor dy(x.shape());
  dy.fill(1.0f);
  model->backward(x, dy, true);
  for (std::size_t i = 0; i < x.numel(); ++i) {
    EXPECT_FLOAT_EQ(model->input_grad()[i], y[i] / 2.0f);
  }
}

std::vector<float> mask_of(Sequential& model, std::uint64_t seed) {
  Tensor x(model.input_shape().with_batch(4));
  x.fill(1.0f);
  const Tensor& y = model.forward(x, {.training = true, .noise_seed = seed});
  return {y.data(), y.data() + y.numel()};
}

TEST(Dropout, MaskFollowsTheNoiseSeedAndTheLayer) {
  auto model = make(8, 8, 1, {{.type = "dropout", .name = "drop_a", .rate = 0.5f}});
  const auto first = mask_of(*model, 5);
  EXPECT_EQ(mask_of(*model, 5), first);  // reproducible
  EXPECT_NE(mask_of(*model, 6), first);  // another rank or step
  auto other = make(8, 8, 1, {{.type = "dropout", .name = "drop_b", .rate = 0.5f}});
  EXPECT_NE(mask_of(*other, 5), first);  // another dropout layer in the same step
}

TEST(Dropout, ZeroRateIsTheIdentityInTraining) {
  auto model = make(2, 3, 1, {{.type = "dropout"}});
  const Tensor x = input(2, model->input_shape(), 2);
  const Tensor& y = model->forward(x, {.training = true, .noise_seed = 1});
  for (std::size_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y[i], x[i]);
}

TEST(Dropout, GradientCheckWithFixedSeed) {
  // expect_gradients_match runs in training mode with a fixed noise seed, so the mask is
  // the same in every forward and the finite differences see one fixed function.
  auto model = make(1, 1, 6,
                    {{.type = "flatten"},
                     {.type = "dense", .units = 8},
                     {.type = "dropout", .rate = 0.4f},
                     {.type = "dense", .units = 3}});
  expect_gradients_match(*model, input(3, model->input_shape(), 3));
}

TEST(Dropout, RateOutsideZeroOneIsRejected) {
  for (float rate : {1.0f, -0.1f, 1.5f, std::nanf("")}) {
    SCOPED_TRACE(rate);
    expect_model_error_naming({{.type = "dropout", .name = "bad_drop", .rate = rate}}, "bad_drop");
  }
}

TEST(Reshape, ValuesUnchangedAndNoCopy) {
  auto model = make(4, 6, 1, {{.type = "reshape", .shape = {3, 8}}});
  EXPECT_EQ(model->output_shape(), (Shape{3, 8}));
  const Tensor x = input(2, model->input_shape(), 4);
  const Tensor& y = model->forward(x, {});
  ASSERT_EQ(y.shape(), (Shape{2, 3, 8}));
  EXPECT_EQ(y.data(), x.data());
  for (std::size_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y[i], x[i]);
}

TEST(Reshape, GradientCheckIntoDense) {
  auto model = make(2, 3, 2, {{.type = "reshape", .shape = {12}}, {.type = "dense", .units = 4}});
  expect_gradients_match(*model, input(2, model->input_shape(), 5));
}

TEST(Reshape, BadShapesAreRejected) {
  expect_model_error_naming({{.type = "reshape", .name = "r1", .shape = {5, 5}}}, "r1");
  expect_model_error_naming({{.type = "reshape", .name = "r2", .shape = {}}}, "r2");
  expect_model_error_naming({{.type = "reshape", .name = "r3", .shape = {-4, -6}}}, "r3");
  expect_model_error_naming({{.type = "reshape", .name = "r4", .shape = {24, 0}}}, "r4");
  try {
    make(4, 6, 1, {{.type = "reshape", .name = "r5", .shape = {5, 5}}});
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("24 elements"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dtrain::nn
