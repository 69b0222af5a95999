#pragma once
// The part SimpleRNN, LSTM and GRU share: a sequence [T, F] per sample goes in, the last
// hidden state [H] comes out (or, with return_sequences, every hidden state [T, H]), and
// every cell has the same affine pre-activation
//   a_t = x_t W_x^T + h_{t-1} W_h^T + b,   W_x [G*H, F], W_h [G*H, H], b [G*H]
// with G gate blocks of H units (1 for the RNN, 4 for the LSTM, 3 for the GRU). Only the
// cell's nonlinearity differs, so the cell supplies two per-step hooks and this class does
// the GEMMs:
//   forward:  all T input projections in one GEMM over T*B rows, then per step one GEMM
//             (whole batch, all gates) for the recurrence;
//   backward: per step one GEMM to carry dh to the previous step, then one GEMM each for
//             dW_x, dW_h and dx over all steps at once.
// Internally everything is time-major ([T, B, ...]): the rows of one step are then one
// contiguous [B, ...] block, and the rows that pair h_{t-1} with a_t for dW_h are the same
// array shifted by one block. The input is transposed to time-major once per forward.
//
// A GRU in the "reset after" form multiplies the recurrent part alone by its reset gate,
// so it cannot use the summed a_t. With RecurrentForm::kSeparate the class keeps the two
// parts apart, p_t = x_t W_x^T + b and q_t = h_{t-1} W_h^T + b_h (b_h: a second bias, the
// slot recurrent_bias), hands both to the cell, and takes back dp and dq; the cell may
// also route part of dh_t straight to h_{t-1} (the GRU's z * h_{t-1} term). Same GEMMs,
// plus one [T*B, G*H] cache for q and one for dq.
#include <cmath>
#include <span>

#include "nn/init.h"
#include "nn/layer.h"

namespace dtrain::nn {

// How the cell combines the input and recurrent projections (see the top of this file).
enum class RecurrentForm { kSummed, kSeparate };

class Recurrent : public Layer {
 public:
  Shape setup(const Shape& input, ParamArena& arena) override;
  // W_x and W_h are drawn with the layer's scheme, the gate blocks treated as one matrix
  // (fan_in F or H, fan_out G*H); the bias comes from init_bias.
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<MatrixProduct> matrix_products(std::size_t batch, bool input_grad) const override;

 protected:
  Recurrent(std::string name, int units, int gates, InitScheme init, bool return_sequences,
            RecurrentForm form = RecurrentForm::kSummed);

  // Sizes the cell's own caches for this forward (Tensor::resize only grows storage).
  virtual void prepare(int steps, int batch) = 0;
  // pre: [B, G*H] pre-activations of step t, recurrence and bias included; the cell may
  // overwrite them with what its backward needs. Writes h_t [B, H].
  // (kSummed cells; the defaults throw std::logic_error.)
  virtual void cell_forward(int t, int batch, float* pre, float* h);
  // dh: gradient w.r.t. h_t [B, H] (from the output at step t and from step t+1). Writes
  // the gradient w.r.t. the pre-activations of step t into dpre [B, G*H].
  // Called for t = T-1 down to 0.
  virtual void cell_backward(int t, int batch, const float* dh, float* dpre);
  // kSeparate cells. pre: [B, G*H] input projections with b; rec: [B, G*H] recurrent
  // projections with b_h (b_h alone at t = 0); both may be overwritten with what backward
  // needs. Writes h_t [B, H].
  virtual void cell_forward_separate(int t, int batch, float* pre, float* rec, float* h);
  // Writes dpre and drec [B, G*H] (gradients w.r.t. pre and rec of step t) and dh_prev
  // [B, H], the part of the gradient w.r.t. h_{t-1} that does not pass through W_h.
  virtual void cell_backward_separate(int t, int batch, const float* dh, float* dpre, float* drec,
                                      float* dh_prev);
  virtual void init_bias(std::span<float> bias);

  // Step t of the cached arrays (valid between forward and the next forward).
  const float* pre_at(int t, int batch) const;
  const float* hidden_at(int t, int batch) const;
  const float* recurrent_at(int t, int batch) const;  // kSeparate only

  int units_;
  int gates_;
  int steps_ = 0;
  int features_ = 0;

 private:
  // Adds dy's rows of step t ([B, T, H] batch-major) into dh_ (return_sequences).
  void add_output_grad(const Tensor& dy, int t, int batch);
  void forward_separate(int batch);
  void backward_separate(const Tensor& dy, int batch);

  InitScheme init_;
  bool return_sequences_;
  RecurrentForm form_;
  ParamArena* arena_ = nullptr;
  std::size_t wx_slot_ = 0, wh_slot_ = 0, bias_slot_ = 0;
  std::size_t recurrent_bias_slot_ = 0;  // kSeparate only
  // Time-major caches, grown by the first step and reused after.
  Tensor x_tm_;   // [T, B, F]
  Tensor pre_;    // [T, B, G*H]
  Tensor h_;      // [T, B, H]
  Tensor dpre_;   // [T, B, G*H]
  Tensor dh_;     // [B, H]
  Tensor dx_tm_;  // [T, B, F]
  // kSeparate only:
  Tensor rec_;      // [T, B, G*H]
  Tensor drec_;     // [T, B, G*H]
  Tensor dh_prev_;  // [B, H]
};

}  // namespace dtrain::nn
