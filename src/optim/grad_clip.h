#pragma once
// --clip-grad-norm: the global L2 norm of the averaged gradient, and scaling it down to a
// maximum. The gradient is the sum over ranks, the same bits on every rank, and the norm is
// summed in double in one fixed order, so every rank computes the same norm and the same
// scale without communicating.
#include <span>

namespace dtrain::optim {

// sqrt(sum of g^2), summed in double in index order (padding between slots is zero).
double global_norm(std::span<const float> grads);

// When norm > max_norm (> 0), multiplies every gradient by max_norm / norm (one float
// scale). Returns whether it scaled.
bool clip_to_norm(std::span<float> grads, double norm, double max_norm);

}  // namespace dtrain::optim
