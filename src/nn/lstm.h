#pragma once
#include "nn/recurrent.h"

namespace dtrain::nn {

// Long short-term memory, gates in the order i, f, g, o within each [4H] block:
//   i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
//   c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t),   c_{-1} = h_{-1} = 0
// and outputs h_{T-1}. Parameters: weight [4H, F], recurrent_weight [4H, H], bias [4H].
// The forget-gate bias starts at 1 (Jozefowicz et al. 2015, Keras' unit_forget_bias): with
// f near 0.5 at init the cell would halve its memory every step and gradients through long
// sequences would vanish before training could learn to keep them.
// With return_sequences the output is every h_t, [T, H].
class LSTM final : public Recurrent {
 public:
  LSTM(std::string name, int units, InitScheme init, bool return_sequences = false)
      : Recurrent(std::move(name), units, /*gates=*/4, init, return_sequences) {}
  std::string type() const override { return "lstm"; }

 private:
  void prepare(int steps, int batch) override;
  void cell_forward(int t, int batch, float* pre, float* h) override;
  void cell_backward(int t, int batch, const float* dh, float* dpre) override;
  void init_bias(std::span<float> bias) override;

  // The activated gates replace the pre-activations in Recurrent's cache; the cell adds:
  Tensor c_;   // [T, B, H] cell states
  Tensor tc_;  // [T, B, H] tanh(c_t), needed twice in backward
  Tensor dc_;  // [B, H] gradient w.r.t. c_t, carried from step t+1
};

}  // namespace dtrain::nn
