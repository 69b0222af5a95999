#pragma once
#include "nn/init.h"
#include "nn/layer.h"

namespace dtrain::nn {

// y = x W^T + b with W stored [units, inputs]; the whole batch is one GEMM.
class Dense final : public Layer {
 public:
  Dense(std::string name, int units, InitScheme init);
  std::string type() const override { return "dense"; }
  Shape setup(const Shape& input, ParamArena& arena) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, const ForwardContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  double forward_flops_per_sample() const override { return 2.0 * inputs_ * units_; }

 private:
  int units_;
  int inputs_ = 0;
  InitScheme init_;
  ParamArena* arena_ = nullptr;
  std::size_t weight_slot_ = 0, bias_slot_ = 0;
};

}  // namespace dtrain::nn
