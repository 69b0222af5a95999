#pragma once
// Weight initialization schemes, named as in the model spec's `init` field.
#include <span>
#include <string>

#include "core/rng.h"

namespace dtrain::nn {

enum class InitScheme { kGlorotUniform, kHeUniform };

// Throws ModelError for an unknown name; "" means the default, glorot_uniform.
InitScheme parse_init_scheme(const std::string& name, const std::string& layer_name);

void init_weights(InitScheme scheme, std::span<float> weights, int fan_in, int fan_out, Rng& rng);

}  // namespace dtrain::nn
