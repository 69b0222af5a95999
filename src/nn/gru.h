#pragma once
#include "nn/recurrent.h"

namespace dtrain::nn {

// Gated recurrent unit in PyTorch's and cuDNN's "reset after" form (ONNX GRU with
// linear_before_reset = 1), gates in PyTorch's order r, z, n within each [3H] block:
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h_t = (1 - z) * n + z * h_{t-1},   h_{-1} = 0
// and outputs h_{T-1} (every h_t with return_sequences). Parameters: weight [3H, F],
// recurrent_weight [3H, H], bias [3H] (b_i*), recurrent_bias [3H] (b_h*), laid out as
// PyTorch's weight_ih, weight_hh, bias_ih, bias_hh; both biases start at zero. b_hn sits
// inside r * (...), so it cannot be folded into b_in: that is why the base keeps the
// recurrent projection apart (RecurrentForm::kSeparate).
class GRU final : public Recurrent {
 public:
  GRU(std::string name, int units, InitScheme init, bool return_sequences = false)
      : Recurrent(std::move(name), units, /*gates=*/3, init, return_sequences,
                  RecurrentForm::kSeparate) {}
  std::string type() const override { return "gru"; }

 private:
  void prepare(int, int) override {}
  // Replaces pre's blocks by r, z, n; rec keeps the recurrent projections (r needs W_hn h
  // + b_hn in backward).
  void cell_forward_separate(int t, int batch, float* pre, float* rec, float* h) override;
  void cell_backward_separate(int t, int batch, const float* dh, float* dpre, float* drec,
                              float* dh_prev) override;
};

}  // namespace dtrain::nn
