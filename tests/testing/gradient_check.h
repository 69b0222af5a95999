#pragma once
// Finite-difference gradient checks. The scalar checked is L = sum_i y_i * r_i with a fixed
// random r, so every output element contributes with its own weight and a gradient routed
// to the wrong element cannot cancel out.
#include <string>

#include "nn/sequential.h"

namespace dtrain::testing {

struct GradCheckOptions {
  double step = 5e-3;       // central difference step h
  double tolerance = 5e-3;  // |analytic - numeric| <= tolerance * max(1, |numeric|)
};

// Compares the model's analytic gradients (every parameter and every input element)
// with central differences; reports mismatches through gtest with their names.
void expect_gradients_match(nn::Sequential& model, tensor::Tensor x, GradCheckOptions options = {});

// The same check for the parameters only: x is never perturbed, so it may hold values a
// finite-difference step must not move (an embedding's integer token ids), and no input
// gradient is asked for.
void expect_param_gradients_match(nn::Sequential& model, const tensor::Tensor& x,
                                  GradCheckOptions options = {});

// Fills a tensor with values whose pairwise gaps exceed `gap`, so that max-pool and ReLU
// kinks are never crossed by a finite-difference step smaller than gap/2.
void fill_separated(tensor::Tensor& t, std::uint64_t seed, float gap = 0.02f);
void fill_uniform(tensor::Tensor& t, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f);

}  // namespace dtrain::testing
