#include "nn/loss.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace dtrain::nn {

namespace {

// Fused, numerically stable softmax + cross-entropy over `rows` rows of `classes` logits:
// one pass for the max, one for the sum of exponentials, one for the gradient; O(rows *
// classes). Labels outside [0, classes) are refused, never read past the row.
ClassificationStats softmax_cross_entropy_rows(const float* logits, std::size_t rows,
                                               std::size_t classes,
                                               std::span<const std::int32_t> labels,
                                               double normalizer, float* dlogits,
                                               const char* caller) {
  if (labels.size() != rows) {
    throw std::invalid_argument(std::string(caller) + ": " + std::to_string(labels.size()) +
                                " labels for " + std::to_string(rows) + " rows of logits");
  }
  const float scale = static_cast<float>(1.0 / normalizer);
  ClassificationStats stats;
  for (std::size_t i = 0; i < rows; ++i) {
    const float* z = logits + i * classes;
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= classes) {
      throw std::invalid_argument(std::string(caller) + ": label " + std::to_string(labels[i]) +
                                  " at position " + std::to_string(i) + " is outside [0, " +
                                  std::to_string(classes) + ")");
    }
    const std::size_t label = static_cast<std::size_t>(labels[i]);
    const std::size_t best = std::max_element(z, z + classes) - z;
    const float zmax = z[best];
    double sum = 0.0;
    for (std::size_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c] - zmax));
    const double log_sum = std::log(sum);
    // -log softmax(z)_label = log sum exp(z - zmax) - (z_label - zmax): no overflow.
    stats.loss_sum += log_sum - static_cast<double>(z[label] - zmax);
    stats.correct += best == label ? 1 : 0;
    if (dlogits) {
      float* g = dlogits + i * classes;
      const double inv = 1.0 / sum;
      for (std::size_t c = 0; c < classes; ++c) {
        const float p = static_cast<float>(std::exp(static_cast<double>(z[c] - zmax)) * inv);
        g[c] = (p - (c == label ? 1.0f : 0.0f)) * scale;
      }
    }
  }
  return stats;
}

}  // namespace

ClassificationStats softmax_cross_entropy(const tensor::Tensor& logits,
                                          std::span<const std::int32_t> labels, double normalizer,
                                          tensor::Tensor* dlogits) {
  const std::size_t n = logits.shape()[0];
  const std::size_t classes = logits.shape()[1];
  if (labels.size() != n) throw std::invalid_argument("softmax_cross_entropy: label count");
  if (dlogits) dlogits->resize(logits.shape());
  return softmax_cross_entropy_rows(logits.data(), n, classes, labels, normalizer,
                                    dlogits ? dlogits->data() : nullptr, "softmax_cross_entropy");
}

ClassificationStats sequence_softmax_cross_entropy(const tensor::Tensor& logits,
                                                   std::span<const std::int32_t> targets,
                                                   double normalizer, tensor::Tensor* dlogits) {
  const auto& shape = logits.shape();
  if (shape.rank() < 2 || shape[shape.rank() - 1] == 0) {
    throw std::invalid_argument("sequence_softmax_cross_entropy: logits must be [n, T, V], got " +
                                shape.to_string());
  }
  const std::size_t classes = shape[shape.rank() - 1];
  if (dlogits) dlogits->resize(shape);
  return softmax_cross_entropy_rows(logits.data(), logits.numel() / classes, classes, targets,
                                    normalizer, dlogits ? dlogits->data() : nullptr,
                                    "sequence_softmax_cross_entropy");
}

double mse(const tensor::Tensor& y, std::span<const float> target, double normalizer,
           tensor::Tensor* dy) {
  const std::size_t n = y.numel();
  if (target.size() != n) throw std::invalid_argument("mse: target size");
  if (dy) dy->resize(y.shape());
  const float scale = static_cast<float>(1.0 / normalizer);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const float diff = y[i] - target[i];
    sum += static_cast<double>(diff) * diff;
    if (dy) (*dy)[i] = diff * scale;
  }
  return sum;
}

double bce_with_logits(const tensor::Tensor& logits, float target, double normalizer,
                       tensor::Tensor* dlogits) {
  const std::size_t n = logits.numel();
  if (dlogits) dlogits->resize(logits.shape());
  const double scale = 1.0 / normalizer;
  const double t = target;
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double z = logits[i];
    const double e = std::exp(-std::abs(z));  // in (0, 1]: no overflow for any z
    sum += std::max(z, 0.0) - z * t + std::log1p(e);
    if (dlogits) {
      // sigmoid(z) from the same e, stable on both sides of 0.
      const double sig = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      (*dlogits)[i] = static_cast<float>((sig - t) * scale);
    }
  }
  return sum;
}

}  // namespace dtrain::nn
