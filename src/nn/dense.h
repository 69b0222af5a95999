#pragma once
#include "nn/init.h"
#include "nn/layer.h"

namespace dtrain::nn {

// y = x W^T + b with W stored [units, inputs]; the whole batch is one GEMM.
// With per_step the input is a sequence [T, F] (or any [..., F]) and the same W and b
// apply to each of its rows, giving [T, units] (PyTorch's Linear and Keras' Dense on a
// 3-D input, Keras' TimeDistributed(Dense)): the batch's B*T rows are one GEMM. Without
// it the input must be flat, as before.
class Dense final : public Layer {
 public:
  // bias false (no_bias in a spec): y = x W^T, no bias slot (a layer that feeds a
  // batchnorm, whose beta takes the bias's place).
  Dense(std::string name, int units, InitScheme init, bool per_step = false, bool bias = true);
  std::string type() const override { return "dense"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<MatrixProduct> matrix_products(std::size_t batch, bool input_grad) const override;

 private:
  int units_;
  int inputs_ = 0;
  int steps_ = 1;  // rows per sample: 1, or T with per_step
  InitScheme init_;
  bool per_step_;
  bool bias_;
  Shape output_;  // per sample
  ParamArena* arena_ = nullptr;
  std::size_t weight_slot_ = 0, bias_slot_ = 0;
};

}  // namespace dtrain::nn
