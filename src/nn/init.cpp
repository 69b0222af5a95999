#include "nn/init.h"

#include <cmath>

#include "core/errors.h"

namespace dtrain::nn {

InitScheme parse_init_scheme(const std::string& name, const std::string& layer_name) {
  if (name.empty() || name == "glorot_uniform") return InitScheme::kGlorotUniform;
  if (name == "he_uniform") return InitScheme::kHeUniform;
  throw ModelError("layer '" + layer_name + "': unknown init '" + name +
                   "' (expected glorot_uniform or he_uniform)");
}

void init_weights(InitScheme scheme, std::span<float> weights, int fan_in, int fan_out, Rng& rng) {
  // Glorot/Xavier keeps activation variance for tanh/linear units; He doubles it for ReLU.
  const double limit = scheme == InitScheme::kHeUniform ? std::sqrt(6.0 / fan_in)
                                                        : std::sqrt(6.0 / (fan_in + fan_out));
  for (float& w : weights) w = rng.uniform(-static_cast<float>(limit), static_cast<float>(limit));
}

}  // namespace dtrain::nn
