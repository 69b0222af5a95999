#include "nn/simple_rnn.h"

#include "tensor/vector_math.h"

namespace dtrain::nn {

void SimpleRNN::cell_forward(int, int batch, float* pre, float* h) {
  const std::size_t n = std::size_t(batch) * units_;
  tensor::tanh_values(pre, h, n);
}

void SimpleRNN::cell_backward(int t, int batch, const float* dh, float* dpre) {
  // tanh' = 1 - tanh^2 is read off the cached output, so the pre-activations are not needed.
  const float* h = hidden_at(t, batch);
  const std::size_t n = std::size_t(batch) * units_;
  for (std::size_t i = 0; i < n; ++i) dpre[i] = dh[i] * (1.0f - h[i] * h[i]);
}

}  // namespace dtrain::nn
