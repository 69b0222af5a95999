#pragma once
// Losses return SUMS over the local examples and write gradients already divided by the
// GLOBAL batch size. Summing gradients over ranks then gives exactly the gradient of the
// mean loss over the global batch, so np=1 and np=P compute the same step (docs/design.md "Distributed semantics").
#include <cstdint>
#include <span>

#include "tensor/tensor.h"

namespace dtrain::nn {

struct ClassificationStats {
  double loss_sum = 0.0;  // sum of per-example cross-entropy
  std::int64_t correct = 0;
};

// Fused, numerically stable softmax + cross-entropy on logits [n, classes]. dlogits may be
// null (evaluation); otherwise it is resized to logits' shape and holds
// (softmax - onehot) / normalizer.
ClassificationStats softmax_cross_entropy(const tensor::Tensor& logits,
                                          std::span<const std::int32_t> labels, double normalizer,
                                          tensor::Tensor* dlogits);

// The same at every time step of a sequence model: logits [n, T, V] (any [..., V]), one
// target class per position (n*T of them, in the logits' order: sample-major, then time).
// Returns sums over all positions (`correct` counts positions whose arg max is the target);
// pass the GLOBAL number of positions (global batch * T) as normalizer for the mean over
// all of them. Bits per character = loss_sum / (positions * ln 2). A target outside
// [0, V) or a count that does not match throws std::invalid_argument.
ClassificationStats sequence_softmax_cross_entropy(const tensor::Tensor& logits,
                                                   std::span<const std::int32_t> targets,
                                                   double normalizer, tensor::Tensor* dlogits);

// L = 1/(2*normalizer) * sum (y - target)^2; returns sum (y - target)^2 over all elements.
// dy (optional) = (y - target) / normalizer.
double mse(const tensor::Tensor& y, std::span<const float> target, double normalizer,
           tensor::Tensor* dy);

// Binary cross-entropy on logits z (any shape, one logit per element) against one target
// probability t for every element (a GAN's real = 1 / fake = 0 labels):
// l = max(z, 0) - z t + log(1 + exp(-|z|)), which never overflows (log-sum-exp form).
// Returns the sum of l over all elements; dlogits (optional) = (sigmoid(z) - t) / normalizer.
double bce_with_logits(const tensor::Tensor& logits, float target, double normalizer,
                       tensor::Tensor* dlogits);

}  // namespace dtrain::nn
