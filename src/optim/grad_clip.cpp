#include "optim/grad_clip.h"

#include <cmath>

namespace dtrain::optim {

double global_norm(std::span<const float> grads) {
  // Four independent sums in a fixed interleaving (vectorizable, still one order): the
  // same bits on every rank and for any thread count.
  double lanes[4] = {0.0, 0.0, 0.0, 0.0};
  const std::size_t n = grads.size(), whole = n - n % 4;
  for (std::size_t i = 0; i < whole; i += 4) {
    for (std::size_t l = 0; l < 4; ++l) {
      const double g = grads[i + l];
      lanes[l] += g * g;
    }
  }
  for (std::size_t i = whole; i < n; ++i) {
    const double g = grads[i];
    lanes[0] += g * g;
  }
  return std::sqrt((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));
}

bool clip_to_norm(std::span<float> grads, double norm, double max_norm) {
  if (!(max_norm > 0.0) || !(norm > max_norm)) return false;
  const auto scale = static_cast<float>(max_norm / norm);
  for (float& g : grads) g *= scale;
  return true;
}

}  // namespace dtrain::optim
