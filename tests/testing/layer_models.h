#pragma once
// The small models and inputs the layer tests build again and again: one network around the
// layers under test, with parameters that make a misplaced bias show, and random inputs.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nn/model_config.h"

namespace dtrain::testing {

// `layers` over an h x w x c input, parameters from `seed`, every ".bias" slot set to
// 0.1 * (i + 1) so a bias that is ignored or misplaced shows up.
std::unique_ptr<nn::Sequential> image_model(int h, int w, int c,
                                            std::vector<nn::LayerConfig> layers,
                                            std::uint64_t seed = 1);

// A sequence model: input [steps, features, 1] reshaped to [steps, features] (layer "seq"),
// then `layers`; parameters from `seed`, biases as initialized.
std::unique_ptr<nn::Sequential> sequence_model(int steps, int features,
                                               std::vector<nn::LayerConfig> layers,
                                               std::uint64_t seed = 1);

// Distinct values 0.05 * (i + 1) - 0.3 in every slot whose name ends in "bias" (a GRU's
// recurrent_bias too, shifted by recurrent_shift), so a bias in the wrong gate shows up.
void set_distinct_biases(nn::Sequential& model, float recurrent_shift = 0.0f);

// [batch, sample...] filled uniformly in [-1, 1], or with pairwise gaps (fill_separated) so
// that max-pool and ReLU kinks are not crossed by a finite-difference step.
tensor::Tensor random_input(std::size_t batch, const tensor::Shape& sample, std::uint64_t seed,
                            bool separated = false);

// The parameters of the slot called `name` (a test failure, and empty, if there is none).
std::span<float> param_named(nn::Sequential& model, const std::string& name);

}  // namespace dtrain::testing
