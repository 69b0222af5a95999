#pragma once
#include "nn/recurrent.h"

namespace dtrain::nn {

// Elman RNN: h_t = tanh(x_t W_x^T + h_{t-1} W_h^T + b), h_{-1} = 0; outputs h_{T-1}
// (every h_t with return_sequences).
// Parameters: weight [H, F], recurrent_weight [H, H], bias [H] (zero at init).
class SimpleRNN final : public Recurrent {
 public:
  SimpleRNN(std::string name, int units, InitScheme init, bool return_sequences = false)
      : Recurrent(std::move(name), units, /*gates=*/1, init, return_sequences) {}
  std::string type() const override { return "rnn"; }

 private:
  void prepare(int, int) override {}
  void cell_forward(int t, int batch, float* pre, float* h) override;
  void cell_backward(int t, int batch, const float* dh, float* dpre) override;
};

}  // namespace dtrain::nn
