#pragma once
#include "nn/init.h"
#include "nn/layer.h"

namespace dtrain::nn {

// Multi-head causal self-attention (GPT-2's attn block without dropout). Per sample the
// input is a sequence x [T, C]; C splits into `heads` heads of d = C / heads columns.
// Parameters: qkv.weight [3C, C] and qkv.bias [3C] (rows: the C query, C key and C value
// features, as PyTorch's c_attn), proj.weight [C, C] and proj.bias [C]. The output is
// [T, C]. Position t attends to positions 0..t only (the causal mask).
//
// Who computes what (B samples, T positions, C width, H heads of d; FLOPs per pass):
//   forward
//     qkv = x Wqkv^T + bqkv         one GEMM over all B*T rows          2 B T C 3C
//     per (sample, head):  S = Q_h K_h^T / sqrt(d)  (T x T, NT)        B H 2 T T d
//       mask: S[i][j] = -inf for j > i; P = softmax of each row (the masked entries are 0)
//     per (sample, head):  O_h = P V_h  (T x d, NN), into O's columns  B H 2 T T d
//     y = O Wproj^T + bproj         one GEMM                            2 B T C C
//   backward (dy given)
//     dWproj += dy^T O, dO = dy Wproj                                   2 x 2 B T C C
//     per (sample, head): dP = dO_h V_h^T, dV_h = P^T dO_h              2 x B H 2 T T d
//       dS = P * (dP - rowsum(dP * P)) (softmax; masked entries have P = 0, so dS = 0)
//       dQ_h = dS K_h / sqrt(d), dK_h = dS^T Q_h / sqrt(d)              2 x B H 2 T T d
//     dWqkv += dqkv^T x, and dx = dqkv Wqkv when asked                  (1 or 2) x 2 B T 3C C
// Forward is 8 T C^2 + 4 T^2 C FLOPs per sample. Q, K and V stay interleaved in the
// [B*T, 3C] GEMM output and the per-head GEMMs read them as strided views (leading
// dimension 3C), so no head is copied. qkv, P and O are kept from forward for backward,
// which therefore expects the batch forward() last saw (as Sequential runs it).
class Attention final : public Layer {
 public:
  Attention(std::string name, int heads, InitScheme init);
  std::string type() const override { return "attention"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<MatrixProduct> matrix_products(std::size_t batch, bool input_grad) const override;

 private:
  int heads_;
  InitScheme init_;
  int steps_ = 0, width_ = 0, head_dim_ = 0;
  ParamArena* arena_ = nullptr;
  std::size_t qkv_w_ = 0, qkv_b_ = 0, proj_w_ = 0, proj_b_ = 0;
  Tensor qkv_;                            // [B*T, 3C]
  Tensor probs_;                          // [B, H, T, T]
  Tensor heads_out_;                      // O: [B*T, C]
  Tensor d_heads_out_, d_qkv_, d_probs_;  // backward scratch
};

}  // namespace dtrain::nn
