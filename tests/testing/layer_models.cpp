#include "testing/layer_models.h"

#include <gtest/gtest.h>

#include "testing/gradient_check.h"

namespace dtrain::testing {

std::unique_ptr<nn::Sequential> image_model(int h, int w, int c,
                                            std::vector<nn::LayerConfig> layers,
                                            std::uint64_t seed) {
  auto model = nn::build_model({"test", h, w, c, std::move(layers)});
  model->init_params(seed);
  for (const auto& slot : model->arena().slots()) {
    if (slot.name.ends_with(".bias")) {
      auto b = model->arena().param(&slot - model->arena().slots().data());
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.1f * static_cast<float>(i + 1);
    }
  }
  return model;
}

std::unique_ptr<nn::Sequential> sequence_model(int steps, int features,
                                               std::vector<nn::LayerConfig> layers,
                                               std::uint64_t seed) {
  layers.insert(layers.begin(), {.type = "reshape", .name = "seq", .shape = {steps, features}});
  auto model = nn::build_model({"test", steps, features, 1, std::move(layers)});
  model->init_params(seed);
  return model;
}

void set_distinct_biases(nn::Sequential& model, float recurrent_shift) {
  for (const auto& slot : model.arena().slots()) {
    if (!slot.name.ends_with("bias")) continue;
    auto b = model.arena().param(&slot - model.arena().slots().data());
    const float shift = slot.name.ends_with("recurrent_bias") ? recurrent_shift : 0.0f;
    for (std::size_t i = 0; i < b.size(); ++i) {
      b[i] = 0.05f * static_cast<float>(i + 1) - 0.3f + shift;
    }
  }
}

tensor::Tensor random_input(std::size_t batch, const tensor::Shape& sample, std::uint64_t seed,
                            bool separated) {
  tensor::Tensor x(sample.with_batch(batch));
  separated ? fill_separated(x, seed) : fill_uniform(x, seed);
  return x;
}

std::span<float> param_named(nn::Sequential& model, const std::string& name) {
  const auto& slots = model.arena().slots();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].name == name) return model.arena().param(i);
  }
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

}  // namespace dtrain::testing
